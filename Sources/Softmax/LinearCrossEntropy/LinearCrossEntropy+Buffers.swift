import SoftmaxKernels

/// A type the fused linear cross-entropy computes in: `Float` or `Double` (its matrix products
/// run on a BLAS, which has no `Float16`).
public protocol LinearCrossEntropyScalar: SoftmaxScalar {}

extension Float: LinearCrossEntropyScalar {}
extension Double: LinearCrossEntropyScalar {}

/// The buffers a fused linear cross-entropy call fills; `nil` ones are not computed (with no
/// gradient requested, no backward product runs).
public struct LinearCrossEntropyOutputs<Element: SoftmaxScalar> {
    /// `dHidden`, the gradient with respect to the hidden states: `N × D`, overwritten.
    public var hiddenGradient: UnsafeMutableBufferPointer<Element>?
    /// `dWeight`: `V × D`, overwritten, or added to when `accumulate`.
    public var weightGradient: UnsafeMutableBufferPointer<Element>?
    /// `dBias`: `V` values, overwritten, or added to when `accumulate`.
    public var biasGradient: UnsafeMutableBufferPointer<Element>?
    /// The per-position losses (0 where ignored), z terms included: `N` values.
    public var losses: UnsafeMutableBufferPointer<Element>?
    /// The per-position z terms `λ·lse²` alone (0 where ignored): `N` values.
    public var zLosses: UnsafeMutableBufferPointer<Element>?
    /// Receives the reduced z-loss alone (already included in the returned loss).
    public var zLoss: UnsafeMutablePointer<Double>?
    /// Add the weight and bias gradients to what their buffers hold — gradient accumulation
    /// over micro-batches — instead of overwriting them.
    public var accumulate: Bool

    /// Outputs to fill; see the properties.
    public init(
        hiddenGradient: UnsafeMutableBufferPointer<Element>? = nil,
        weightGradient: UnsafeMutableBufferPointer<Element>? = nil,
        biasGradient: UnsafeMutableBufferPointer<Element>? = nil, losses: UnsafeMutableBufferPointer<Element>? = nil,
        zLosses: UnsafeMutableBufferPointer<Element>? = nil, zLoss: UnsafeMutablePointer<Double>? = nil,
        accumulate: Bool = false
    ) {
        self.hiddenGradient = hiddenGradient
        self.weightGradient = weightGradient
        self.biasGradient = biasGradient
        self.losses = losses
        self.zLosses = zLosses
        self.zLoss = zLoss
        self.accumulate = accumulate
    }
}

extension LinearCrossEntropyOutputs {
    /// True when some gradient is requested (then the backward products run).
    package var wantsGradient: Bool { hiddenGradient != nil || weightGradient != nil || biasGradient != nil }
}

/// Settings of the fused linear cross-entropy that are not loss options.
public enum LinearCrossEntropy {
    /// The default bound on the scratch memory of a call: the logits of as many rows as fit,
    /// 56 MiB — independent of the number of positions.  With the BLAS's own packing (~6 MiB
    /// with OpenBLAS) a call's extra peak memory stays within 64 MiB.
    public static let defaultMemoryBudget = 56 << 20
}

/// The cross-entropy of `logits = hidden · weightᵀ + bias` against class indices, fused with
/// its linear layer (the language-model head): exactly the loss, gradients and options of
/// `crossEntropy(scores:shape:classIndices:options:outputs:)` on the `N × V` logits, which
/// never exist in full.
///
/// The positions are taken in chunks of as many rows as `memoryBudget` holds logits for (at
/// least one).  Per chunk: the logits by a matrix product, the package's fused cross-entropy
/// pass over them in place (the softmax gradient replaces the logits, scaled by the loss
/// weight over the whole batch's denominator), then `dHidden = G · W` and `dWeight += Gᵀ · H`,
/// `dBias += Σ G`.  The products run on `SoftmaxBLAS.active` (a system BLAS when one loads).
///
/// - Parameters:
///   - hidden: `[..., D]`: `N` positions of `D` features (C order).
///   - hiddenShape: its dimensions; the last is `D`.
///   - weight: `[V, D]` (PyTorch's `nn.Linear` layout).
///   - weightShape: `[V, D]`.
///   - bias: `V` values, or `nil`.
///   - targets: one class index per position (`hiddenShape` without its last dimension).
///   - options: ignore index, class weights, label smoothing, loss weight, temperature,
///     softcap, z-loss and the reduction (`none`, `sum` or `mean`); the class axis is the
///     logits' last, whatever `axis` says; logits only.
///   - outputs: the gradients and per-position losses to fill.
///   - memoryBudget: bytes of logits one chunk may hold.
///   - gradientFilter: `ε ≥ 0` (Cut Cross-Entropy's gradient filtering): the backward
///     products skip every block of 128 positions × 256 classes where the gradient of the
///     loss with respect to the logits — before the loss weight and the reduction's
///     division — stays below `ε` everywhere.  0 (the default) is exact; a small `ε` (e.g.
///     2⁻¹²) trades an error of that order per skipped logit for the skipped work, which is
///     most of it when the model is confident and right.  The loss is exact either way.
/// - Returns: the reduced loss plus the reduced z-loss, not multiplied by the loss weight
///   (for `none`, the sum).
/// - Throws: `SoftmaxError` for mismatched shapes, a bad option or label, or a chunk beyond the
///   memory limit.
/// - Complexity: O(N·D·V) in three matrix products, plus O(N·V) for the softmax; extra memory
///   `min(N, max(1, memoryBudget / (V·size)))·V` elements plus `N` decoded labels.
public func linearCrossEntropy<T: LinearCrossEntropyScalar, L: ClassLabel>(
    hidden: UnsafeBufferPointer<T>, hiddenShape: [Int], weight: UnsafeBufferPointer<T>, weightShape: [Int],
    bias: UnsafeBufferPointer<T>? = nil, classIndices targets: UnsafeBufferPointer<L>,
    options: CrossEntropyOptions = .init(), outputs: LinearCrossEntropyOutputs<T> = .init(),
    memoryBudget: Int = LinearCrossEntropy.defaultMemoryBudget, gradientFilter: Double = 0
) throws -> Double {
    let problem = try LinearCrossEntropyProblem(
        hiddenShape: hiddenShape, hiddenCount: hidden.count, weightShape: weightShape, weightCount: weight.count,
        biasCount: bias?.count, targetCount: targets.count, options: options, memoryBudget: memoryBudget,
        gradientFilter: gradientFilter, elementSize: MemoryLayout<T>.stride)
    try problem.checkOutputs(outputs)
    let targetShape = Array(hiddenShape.dropLast())
    return try StagingPool.withBuffer(of: Int32.self, count: problem.positions) { decoded in
        let counts =
            problem.positions == 0
            ? DecodedClassIndices(targetWeightSum: 0, activeCount: 0)
            : try decodeClassIndices(
                targets, into: decoded.address, classes: problem.classes, options: options, targetShape: targetShape)
        let layout = Layout(outer: problem.positions, classes: problem.classes, inner: 1)
        let denominator = options.reduction.denominator(layout: layout, targetWeightSum: counts.targetWeightSum)
        let zDenominator = options.reduction.zDenominator(layout: layout, activeCount: counts.activeCount)
        func run<S: GEMMScalar & KernelTableScalar>(_: S.Type) -> LossSums {
            problem.run(
                hidden: hidden.rebound(to: S.self).address, weight: weight.rebound(to: S.self).address,
                bias: bias?.rebound(to: S.self).address, targets: UnsafePointer(decoded.address), options: options,
                denominators: (denominator, zDenominator),
                outputs: LinearCrossEntropyOutputs<S>(
                    hiddenGradient: outputs.hiddenGradient?.rebound(to: S.self),
                    weightGradient: outputs.weightGradient?.rebound(to: S.self),
                    biasGradient: outputs.biasGradient?.rebound(to: S.self),
                    losses: outputs.losses?.rebound(to: S.self), zLosses: outputs.zLosses?.rebound(to: S.self),
                    accumulate: outputs.accumulate))
        }
        let sums = T.format == .float64 ? run(Double.self) : run(Float.self)
        let z = zDenominator == 0 ? 0 : sums.z / zDenominator
        outputs.zLoss?.pointee = z
        return (denominator == 0 ? 0 : sums.crossEntropy / denominator) + z
    }
}
