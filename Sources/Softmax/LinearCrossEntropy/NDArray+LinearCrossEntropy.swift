/// Which outputs an `NDArray` linear cross-entropy call computes besides the loss.
public struct LinearCrossEntropyOutputSet: OptionSet, Sendable {
    /// The bits of the set.
    public let rawValue: Int
    /// A set from its bits.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// `dHidden`, the shape of the hidden states.
    public static let hiddenGradient = Self(rawValue: 1)
    /// `dWeight`, `[V, D]`.
    public static let weightGradient = Self(rawValue: 2)
    /// `dBias`, `[V]` (only with a bias).
    public static let biasGradient = Self(rawValue: 4)
    /// The per-position losses (z terms included), the hidden states' shape without `D`.
    public static let losses = Self(rawValue: 8)
    /// The per-position z terms alone, shaped as the losses.
    public static let zLosses = Self(rawValue: 16)
    /// The three gradients.
    public static let gradients: Self = [.hiddenGradient, .weightGradient, .biasGradient]
}

/// What an `NDArray` linear cross-entropy call returns.
public struct LinearCrossEntropyResult<Element: SoftmaxScalar>: Sendable {
    /// The reduced loss, z-loss included (for `.none`, the sum of the per-position losses),
    /// not multiplied by the loss weight.
    public var loss: Double
    /// The reduced z-loss alone (0 without one).
    public var zLoss: Double
    /// Per-position losses, when requested.
    public var losses: NDArray<Element>?
    /// Per-position z terms alone, when requested.
    public var zLosses: NDArray<Element>?
    /// `dHidden`, when requested.
    public var hiddenGradient: NDArray<Element>?
    /// `dWeight`, when requested.
    public var weightGradient: NDArray<Element>?
    /// `dBias`, when requested and there is a bias.
    public var biasGradient: NDArray<Element>?
}

/// The fused linear cross-entropy on arrays; see
/// `linearCrossEntropy(hidden:hiddenShape:weight:weightShape:bias:classIndices:options:outputs:memoryBudget:gradientFilter:)`.
///
/// - Parameters:
///   - hidden: `[..., D]`.
///   - weight: `[V, D]`.
///   - bias: `[V]`, or `nil`.
///   - targets: the shape of `hidden` without its last dimension.
///   - options: as for the buffer call (ignore index, class weights, smoothing, loss weight,
///     temperature, softcap, z-loss; reduction `none`, `sum` or `mean`).
///   - outputs: which arrays to return besides the loss (default: the gradients).
///   - memoryBudget: bytes of logits one chunk may hold.
///   - gradientFilter: `ε ≥ 0` of the gradient filtering (0: exact).
/// - Throws: `SoftmaxError` for mismatched shapes, a bad option or label.
/// - Complexity: O(N·D·V).
public func linearCrossEntropy<T: LinearCrossEntropyScalar, L: ClassLabel>(
    hidden: NDArray<T>, weight: NDArray<T>, bias: NDArray<T>? = nil, classIndices targets: NDArray<L>,
    options: CrossEntropyOptions = .init(), outputs: LinearCrossEntropyOutputSet = .gradients,
    memoryBudget: Int = LinearCrossEntropy.defaultMemoryBudget, gradientFilter: Double = 0
) throws -> LinearCrossEntropyResult<T> {
    let targetShape = Array(hidden.shape.dropLast())
    guard hidden.rank >= 1, targets.shape == targetShape else {
        throw SoftmaxError.shapeMismatch(argument: "class-index targets", expected: targetShape, actual: targets.shape)
    }
    if let bias, bias.shape != [weight.shape.first ?? 0] {
        throw SoftmaxError.shapeMismatch(argument: "bias", expected: [weight.shape.first ?? 0], actual: bias.shape)
    }
    let classes = weight.shape.first ?? 0
    func make(_ member: LinearCrossEntropyOutputSet, _ count: Int) -> UnsafeMutableBufferPointer<T>? {
        guard outputs.contains(member) else { return nil }
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
        buffer.initialize(repeating: 0)
        return buffer
    }
    var zLoss = 0.0
    let buffers = LinearCrossEntropyOutputs<T>(
        hiddenGradient: make(.hiddenGradient, hidden.count), weightGradient: make(.weightGradient, weight.count),
        biasGradient: bias == nil ? nil : make(.biasGradient, classes), losses: make(.losses, targets.count),
        zLosses: make(.zLosses, targets.count))
    defer {
        for b in [
            buffers.hiddenGradient, buffers.weightGradient, buffers.biasGradient, buffers.losses, buffers.zLosses,
        ] {
            b?.deallocate()
        }
    }
    let loss = try hidden.scalars.withUnsafeBufferPointer { h in
        try weight.scalars.withUnsafeBufferPointer { w in
            try targets.scalars.withUnsafeBufferPointer { t in
                func call(_ b: UnsafeBufferPointer<T>?) throws -> Double {
                    try withUnsafeMutablePointer(to: &zLoss) { zLoss in
                        var outputs = buffers
                        outputs.zLoss = zLoss
                        return try linearCrossEntropy(
                            hidden: h, hiddenShape: hidden.shape, weight: w, weightShape: weight.shape, bias: b,
                            classIndices: t, options: options, outputs: outputs, memoryBudget: memoryBudget,
                            gradientFilter: gradientFilter)
                    }
                }
                if let bias { return try bias.scalars.withUnsafeBufferPointer { try call($0) } }
                return try call(nil)
            }
        }
    }
    func array(_ b: UnsafeMutableBufferPointer<T>?, _ shape: [Int]) -> NDArray<T>? {
        b.map { NDArray(validShape: shape, scalars: Array($0)) }
    }
    return LinearCrossEntropyResult(
        loss: loss, zLoss: zLoss, losses: array(buffers.losses, targetShape),
        zLosses: array(buffers.zLosses, targetShape),
        hiddenGradient: array(buffers.hiddenGradient, hidden.shape),
        weightGradient: array(buffers.weightGradient, weight.shape),
        biasGradient: array(buffers.biasGradient, [classes]))
}
