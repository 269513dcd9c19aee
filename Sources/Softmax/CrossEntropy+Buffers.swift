import SoftmaxKernels

/// The cross-entropy loss (softmax + negative log-likelihood, fused) with class-index targets,
/// its gradient and optional outputs, in one call.
///
/// Per position with target `t`: `ℓ = −(1−ε)·w_t·logp_t − (ε/C)·Σ_c w_c·logp_c` (0 when
/// ignored), with `logp = log_softmax(scores)` — or the scores themselves when
/// `options.input == .logProbabilities` (NLL).  The gradient is that of the reduced loss
/// times `options.lossWeight`; when the reduction's denominator is 0 (every position ignored
/// under `.mean`) the loss and the gradient are 0, never NaN.
///
/// - Parameters:
///   - scores: logits (or log-probabilities), C order.
///   - shape: the dimensions of `scores`.
///   - targets: one class index per position: the shape of `scores` without the class axis.
///   - options: axis, reduction, ignore index, class weights, smoothing, loss weight, input kind.
///   - outputs: buffers to fill (gradient, per-position losses, probabilities, log-probabilities).
/// - Returns: the reduced loss, not multiplied by the loss weight (Caffe reports it the same
///   way); for `.none`, the sum of the per-position losses.
/// - Throws: `SoftmaxError` for a bad axis, shape, buffer size, option, or label (the first
///   label outside `0..<C` that is not the ignore index, or a fractional float label).
/// - Complexity: O(n): the scores are read twice (the second time from cache for rows that fit
///   in L2) and each requested output written once.
public func crossEntropy<T: SoftmaxScalar, L: ClassLabel>(
    scores: UnsafeBufferPointer<T>, shape: [Int], classIndices targets: UnsafeBufferPointer<L>,
    options: CrossEntropyOptions = .init(), outputs: CrossEntropyOutputs<T> = .init()
) throws -> Double {
    let layout = try crossEntropyLayout(scores: scores, shape: shape, options: options, outputs: outputs)
    let axis = try Layout.normalizedAxis(options.resolvedAxis(rank: shape.count), rank: shape.count)
    var targetShape = shape
    targetShape.remove(at: axis)
    try checkCount(targets.count, layout.positions, "targets")
    // No positions: no labels to check, nothing to write, a loss of 0 — at once, however many
    // classes the empty scores name.
    if layout.positions == 0 { return 0 }
    guard layout.classes <= Int(Int32.max) else {
        throw SoftmaxError.invalidShape(shape: shape, reason: "more than \(Int32.max) classes")
    }

    // Pooled: a fresh allocation per call page-faulted on every call.
    return try StagingPool.withBuffer(of: Int32.self, count: layout.positions) { decoded in
        let targetWeightSum = try decodeClassIndices(
            targets, into: decoded.address, classes: layout.classes, options: options, targetShape: targetShape
        ).targetWeightSum
        // No classes: every label was the ignore index (others were refused above), so every
        // loss and the total are 0 and there are no scores to write a gradient for.
        if layout.classes == 0 {
            outputs.losses?.update(repeating: 0)
            return 0
        }
        let denominator: Double =
            switch options.reduction {
            case .none, .sum: 1
            case .mean: targetWeightSum
            case .full: Double(layout.positions)
            case .batchSize: Double(layout.outer)
            }
        let task = CrossEntropyTask(
            layout: layout, targets: UnsafePointer(decoded.address), options: options, denominator: denominator)
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            if T.format == .float16 {
                let total = task.runHalf(scores.rebound(to: Float16.self).address, soft: nil, outputs: outputs.halves)
                return denominator == 0 ? 0 : total / denominator
            }
        #endif
        let total = try perform(
            inputs: [scores],
            outputs: [outputs.gradient, outputs.losses, outputs.probabilities, outputs.logProbabilities],
            float: task.run, double: task.run)
        return denominator == 0 ? 0 : total / denominator
    }
}

/// The cross-entropy loss with probability (soft) targets: per position
/// `ℓ = −Σ_c w_c·q_c·logp_c` with `q = (1−ε)·targets + ε/C`.
///
/// `.mean` divides by the number of positions.  Everything else is as for class indices.
///
/// - Parameters:
///   - targets: a distribution per position, the same shape and type as `scores`.
/// - Returns: the reduced loss, not multiplied by the loss weight.
/// - Throws: `SoftmaxError` for a bad axis, shape, buffer size or option.
/// - Complexity: O(n): the scores and targets are each read twice.
public func crossEntropy<T: SoftmaxScalar>(
    scores: UnsafeBufferPointer<T>, shape: [Int], probabilities targets: UnsafeBufferPointer<T>,
    options: CrossEntropyOptions = .init(), outputs: CrossEntropyOutputs<T> = .init()
) throws -> Double {
    let layout = try crossEntropyLayout(scores: scores, shape: shape, options: options, outputs: outputs)
    try checkCount(targets.count, layout.count, "probability targets")
    // No scores: each position's loss is an empty sum, 0, and nothing else is written — at
    // once, however many positions the other dimensions count.
    if layout.count == 0 {
        outputs.losses?.update(repeating: 0)
        return 0
    }
    let denominator: Double =
        switch options.reduction {
        case .none, .sum: 1
        case .mean, .full: Double(layout.positions)
        case .batchSize: Double(layout.outer)
        }
    let task = CrossEntropyTask(layout: layout, targets: nil, options: options, denominator: denominator)
    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        if T.format == .float16 {
            let total = task.runHalf(
                scores.rebound(to: Float16.self).address, soft: targets.rebound(to: Float16.self).address,
                outputs: outputs.halves)
            return denominator == 0 ? 0 : total / denominator
        }
    #endif
    let total = try perform(
        inputs: [scores, targets],
        outputs: [outputs.gradient, outputs.losses, outputs.probabilities, outputs.logProbabilities],
        float: task.run, double: task.run)
    return denominator == 0 ? 0 : total / denominator
}

/// Validates what both target kinds share and returns the layout.
private func crossEntropyLayout<T>(
    scores: UnsafeBufferPointer<T>, shape: [Int], options: CrossEntropyOptions,
    outputs: CrossEntropyOutputs<T>
) throws -> Layout {
    let layout = try Layout(shape: shape, axis: options.resolvedAxis(rank: shape.count))
    try checkCount(scores.count, layout.count, "scores")
    try options.validate(classes: layout.classes)
    // Float and Float16 compute in Float: a weight finite in Double but not in Float would make
    // the gradient scale infinite (and ∞·0 = NaN, even at ignored positions).
    let computeName = T.self == Double.self ? "float64" : "float32"
    let largest = T.self == Double.self ? Double.greatestFiniteMagnitude : Double(Float.greatestFiniteMagnitude)
    guard abs(options.lossWeight) <= largest else {
        throw SoftmaxError.invalidOption(
            name: "loss weight", value: "\(options.lossWeight)", reason: "it is not finite in \(computeName)")
    }
    if let i = options.classWeights?.firstIndex(where: { abs($0) > largest }) {
        throw SoftmaxError.invalidOption(
            name: "class weight", value: "\(options.classWeights![i]) at index \(i)",
            reason: "it is not finite in \(computeName)")
    }
    if let g = outputs.gradient { try checkCount(g.count, layout.count, "gradient output") }
    if let l = outputs.losses { try checkCount(l.count, layout.positions, "loss output") }
    if let p = outputs.probabilities { try checkCount(p.count, layout.count, "probability output") }
    if let p = outputs.logProbabilities { try checkCount(p.count, layout.count, "log-probability output") }
    return layout
}

/// The C-order multi-index of flat index `flat` in `shape`.
func multiIndex(_ flat: Int, in shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rest = flat
    for d in shape.indices.reversed() where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

/// The fused pass over all tiles; returns Σ per-position losses (in tile order, so the same
/// bits on any number of threads).
private struct CrossEntropyTask {
    let layout: Layout
    /// Decoded class indices (negative = ignored), or `nil` for probability targets (then
    /// `inputs[1]`).
    let targets: UnsafePointer<Int32>?
    let options: CrossEntropyOptions
    let denominator: Double

    /// Runs `body` with the kernels' parameters in `S` (the class weights converted).
    func withParameters<S: ComputeScalar, R>(_: S.Type, _ body: (CrossEntropyParameters<S>) -> R) -> R {
        let weights = options.classWeights.map { $0.map { S($0) } }
        let scale = denominator == 0 ? 0 : options.lossWeight / denominator
        return (weights ?? []).withUnsafeBufferPointer { weightBuffer in
            body(
                CrossEntropyParameters<S>(
                    classes: layout.classes, weights: weights == nil ? nil : weightBuffer.address,
                    weightSum: weights.map { $0.reduce(0, +) } ?? S(layout.classes),
                    smoothing: S(options.labelSmoothing), inputIsLogProbability: options.input == .logProbabilities,
                    gradientScale: S(scale)))
        }
    }

    func run<S: ComputeScalar>(inputs: [UnsafeBufferPointer<S>], outputs: [UnsafeMutableBufferPointer<S>?]) -> Double {
        withParameters(S.self) { parameters in
            let pointers = CrossEntropyOutputPointers<S>(
                gradient: outputs[0]?.address, probabilities: outputs[2]?.address,
                logProbabilities: outputs[3]?.address,
                streaming: SoftmaxMemory.streams(byteCount: layout.count * MemoryLayout<S>.stride))
            // Per-position losses go to the caller's buffer, or to pooled scratch (a fresh
            // allocation per call page-faulted on every call).
            if let given = outputs[1] { return run(losses: given.address) }
            return StagingPool.withBuffer(of: S.self, count: layout.positions) { run(losses: $0.address) }
            func run(losses: UnsafeMutablePointer<S>) -> Double {
                let x = inputs[0].address
                let soft = inputs.count > 1 ? inputs[1].address : nil
                let kernels = S.kernels
                let plan = TilePlan(layout)
                var partials = [Double](repeating: 0, count: plan.tileCount)
                partials.withUnsafeMutableBufferPointer { partials in
                    plan.forEachTile { k, positions in
                        if let targets {
                            kernels.crossEntropyIndices(x, targets, layout, positions, parameters, pointers, losses)
                        } else if let soft {
                            kernels.crossEntropyProbabilities(x, soft, layout, positions, parameters, pointers, losses)
                        }
                        partials[k] = tileSum(losses, positions)
                    }
                }
                return partials.reduce(0, +)
            }
        }
    }
}

/// `Σ losses[p]` over `positions` in Double, with four running sums: one chain of dependent
/// additions (four cycles per position) cost ~5% of a 65536×10 cross-entropy.  The order
/// depends only on the range, so the bits do not depend on the thread count.
@inline(__always)
private func tileSum<S: ComputeScalar>(_ losses: UnsafeMutablePointer<S>, _ positions: Range<Int>) -> Double {
    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
    var p = positions.lowerBound
    while p + 4 <= positions.upperBound {
        s0 += Double(losses[p])
        s1 += Double(losses[p + 1])
        s2 += Double(losses[p + 2])
        s3 += Double(losses[p + 3])
        p += 4
    }
    while p < positions.upperBound {
        s0 += Double(losses[p])
        p += 1
    }
    return (s0 + s1) + (s2 + s3)
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    extension CrossEntropyOutputs {
        /// The buffers as `Float16` pointers; only called when `T` is `Float16`.
        var halves: CrossEntropyHalfOutputs {
            CrossEntropyHalfOutputs(
                gradient: gradient?.rebound(to: Float16.self).address,
                losses: losses?.rebound(to: Float16.self).address,
                probabilities: probabilities?.rebound(to: Float16.self).address,
                logProbabilities: logProbabilities?.rebound(to: Float16.self).address)
        }
    }

    /// The caller's `Float16` output buffers of a cross-entropy call.
    struct CrossEntropyHalfOutputs {
        var gradient: UnsafeMutablePointer<Float16>?
        var losses: UnsafeMutablePointer<Float16>?
        var probabilities: UnsafeMutablePointer<Float16>?
        var logProbabilities: UnsafeMutablePointer<Float16>?
    }

    extension CrossEntropyTask {
        /// `run` for `Float16` buffers, staged tile by tile (`HalfTileStaging`): each tile
        /// widens its scores (and probability targets), runs the `Float` kernels into slabs of
        /// its own for every requested element-wise output, and narrows them and its losses
        /// into the caller's buffers.  The labels were checked and the gradient scale fixed
        /// before any tile runs, so tiles are independent; the per-position losses are kept in
        /// `Float` and summed per tile as `run` sums them.
        ///
        /// Each tile reads all of its scores before it writes an output, and tiles are
        /// disjoint, so the gradient may still be the scores' own buffer.
        func runHalf(_ x: UnsafePointer<Float16>, soft: UnsafePointer<Float16>?, outputs: CrossEntropyHalfOutputs)
            -> Double
        {
            let staging = HalfTileStaging(layout: layout)
            let (kernels, targets) = (staging.kernels, targets)
            let elementOutputs = [outputs.gradient, outputs.probabilities, outputs.logProbabilities]
            let slabs = 1 + (soft == nil ? 0 : 1) + elementOutputs.compactMap { $0 }.count
            return withParameters(Float.self) { parameters in
                StagingPool.withBuffer(of: Float.self, count: layout.positions) { lossBuffer in
                    let losses = lossBuffer.address
                    var partials = [Double](repeating: 0, count: TilePlan(layout).tileCount)
                    partials.withUnsafeMutableBufferPointer { partials in
                        staging.forEachTile(slabs: slabs) { _, slab, elements, slabLayout, positions in
                            // The slabs in order: scores, probability targets, then one per output.
                            var next = slab
                            func take() -> UnsafeMutablePointer<Float> {
                                defer { next += elements }
                                return next
                            }
                            let scores = take()
                            staging.widen(x, into: scores, positions)
                            let q = soft.map { soft in
                                let q = take()
                                staging.widen(soft, into: q, positions)
                                return q
                            }
                            let slabOutputs = elementOutputs.map { $0.map { _ in take() } }
                            let pointers = CrossEntropyOutputPointers<Float>(
                                gradient: slabOutputs[0], probabilities: slabOutputs[1],
                                logProbabilities: slabOutputs[2], streaming: false)
                            let (first, count) = (positions.lowerBound, positions.count)
                            if let targets {
                                kernels.crossEntropyIndices(
                                    scores, targets + first, slabLayout, 0..<count, parameters, pointers, losses + first
                                )
                            } else if let q {
                                kernels.crossEntropyProbabilities(
                                    scores, q, slabLayout, 0..<count, parameters, pointers, losses + first)
                            }
                            for (output, staged) in zip(elementOutputs, slabOutputs) {
                                guard let output, let staged else { continue }
                                staging.narrow(staged, into: output, positions)
                            }
                            if let perPosition = outputs.losses {
                                kernels.narrowHalf(losses + first, perPosition + first, count)
                            }
                        } afterTile: { tile, positions in
                            partials[tile] = tileSum(losses, positions)
                        }
                    }
                    return partials.reduce(0, +)
                }
            }
        }
    }
#endif
