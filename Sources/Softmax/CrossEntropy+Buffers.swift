import SoftmaxKernels

/// The cross-entropy loss (softmax + negative log-likelihood, fused) with class-index targets,
/// its gradient and optional outputs, in one call.
///
/// Per position with target `t`: `ℓ = −(1−ε)·w_t·logp_t − (ε/C)·Σ_c w_c·logp_c` (0 when
/// ignored), with `logp = log_softmax(scores)` — or the scores themselves when
/// `options.input == .logProbabilities` (NLL).  With `options.temperature` and
/// `options.softcap` the logits are transformed first (the probabilities and
/// log-probabilities are those of the transformed scores), and `options.zLoss` adds
/// `λ·lse²` per position not ignored (SPEC "Logit transforms and z-loss").  The gradient is
/// that of the reduced loss times `options.lossWeight`, through the transforms; when the
/// reduction's denominator is 0 (every position ignored under `.mean`) the loss and the
/// gradient are 0, never NaN.
///
/// - Parameters:
///   - scores: logits (or log-probabilities), C order.
///   - shape: the dimensions of `scores`.
///   - targets: one class index per position: the shape of `scores` without the class axis.
///   - options: axis, reduction, ignore index, class weights, smoothing, loss weight, input kind.
///   - outputs: buffers to fill (gradient, per-position losses, probabilities, log-probabilities).
/// - Returns: the reduced loss plus the reduced z-loss, not multiplied by the loss weight
///   (Caffe reports it the same way); for `.none`, the sum of the per-position losses and z
///   terms.
/// - Throws: `SoftmaxError` for a bad axis, shape, buffer size, option, or label (the first
///   label outside `0..<C` that is not the ignore index, or a fractional float label).
/// - Complexity: O(n): the scores are read twice (the second time from cache for rows that fit
///   in L2) and each requested output written once.
public func crossEntropy<T: SoftmaxScalar, L: ClassLabel>(
    scores: UnsafeBufferPointer<T>, shape: [Int], classIndices targets: UnsafeBufferPointer<L>,
    options: CrossEntropyOptions = .init(), outputs: CrossEntropyOutputs<T> = .init()
) throws -> Double {
    let layout = try CrossEntropyTask.validatedLayout(scores: scores, shape: shape, options: options, outputs: outputs)
    let axis = try Layout.normalizedAxis(options.resolvedAxis(rank: shape.count), rank: shape.count)
    var targetShape = shape
    targetShape.remove(at: axis)
    try checkCount(targets.count, layout.positions, "targets")
    // No positions: no labels to check, nothing to write, a loss of 0 — at once, however many
    // classes the empty scores name.
    if layout.positions == 0 { return outputs.finish((0, 0)) }
    guard layout.classes <= Int(Int32.max) else {
        throw SoftmaxError.invalidShape(shape: shape, reason: "more than \(Int32.max) classes")
    }

    // Pooled: a fresh allocation per call page-faulted on every call.
    return try StagingPool.withBuffer(of: Int32.self, count: layout.positions) { decoded in
        let decodedCounts = try decodeClassIndices(
            targets, into: decoded.address, classes: layout.classes, options: options, targetShape: targetShape)
        // No classes: every label was the ignore index (others were refused above), so every
        // loss and the total are 0 and there are no scores to write a gradient for.
        if layout.classes == 0 { return outputs.finishEmpty() }
        let task = CrossEntropyTask(
            layout: layout, targets: UnsafePointer(decoded.address), options: options,
            denominator: options.reduction.denominator(layout: layout, targetWeightSum: decodedCounts.targetWeightSum),
            zDenominator: options.reduction.zDenominator(layout: layout, activeCount: decodedCounts.activeCount))
        return outputs.finish(task.reduced(task.run(scores: scores, probabilities: nil, outputs: outputs)))
    }
}

extension CrossEntropyOutputs {
    /// Reports the reduced z-loss and returns the reported loss (cross-entropy plus z-loss).
    func finish(_ reduced: (loss: Double, zLoss: Double)) -> Double {
        zLoss?.pointee = reduced.zLoss
        return reduced.loss
    }

    /// `finish` for a call without scores: every per-position loss and z term is 0.
    func finishEmpty() -> Double {
        losses?.update(repeating: 0)
        zLosses?.update(repeating: 0)
        return finish((0, 0))
    }
}

/// The cross-entropy loss with probability (soft) targets: per position
/// `ℓ = −Σ_c w_c·q_c·logp_c` with `q = (1−ε)·targets + ε/C`.
///
/// `.mean` divides by the number of positions.  Everything else is as for class indices.
///
/// - Parameters:
///   - scores: logits (or log-probabilities with `options.input`), C order.
///   - shape: the dimensions of `scores`.
///   - targets: a distribution per position, the same shape and type as `scores`.
///   - options: axis, reduction, class weights, smoothing, loss weight, input kind and the
///     logit transforms; the ignore index does not apply.
///   - outputs: buffers to fill (gradient, per-position losses, probabilities,
///     log-probabilities, z terms).
/// - Returns: the reduced loss, not multiplied by the loss weight.
/// - Throws: `SoftmaxError` for a bad axis, shape, buffer size or option.
/// - Complexity: O(n): the scores and targets are each read twice.
public func crossEntropy<T: SoftmaxScalar>(
    scores: UnsafeBufferPointer<T>, shape: [Int], probabilities targets: UnsafeBufferPointer<T>,
    options: CrossEntropyOptions = .init(), outputs: CrossEntropyOutputs<T> = .init()
) throws -> Double {
    let layout = try CrossEntropyTask.validatedLayout(scores: scores, shape: shape, options: options, outputs: outputs)
    try checkCount(targets.count, layout.count, "probability targets")
    // No scores: each position's loss is an empty sum, 0, and nothing else is written — at
    // once, however many positions the other dimensions count.
    if layout.count == 0 { return outputs.finishEmpty() }
    let task = CrossEntropyTask(
        layout: layout, targets: nil, options: options,
        denominator: options.reduction.denominator(layout: layout, targetWeightSum: nil),
        zDenominator: options.reduction.zDenominator(layout: layout, activeCount: nil))
    return outputs.finish(task.reduced(task.run(scores: scores, probabilities: targets, outputs: outputs)))
}
