/// Which outputs an `NDArray` cross-entropy call computes besides the loss.
public struct CrossEntropyOutputSet: OptionSet, Sendable {
    /// The bits of the set.
    public let rawValue: Int
    /// A set from its bits.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The gradient with respect to the scores.
    public static let gradient = Self(rawValue: 1)
    /// The per-position losses.
    public static let losses = Self(rawValue: 2)
    /// The softmax probabilities.
    public static let probabilities = Self(rawValue: 4)
    /// The log-probabilities.
    public static let logProbabilities = Self(rawValue: 8)
    /// The per-position z terms alone.
    public static let zLosses = Self(rawValue: 16)
}

/// What an `NDArray` cross-entropy call returns.
public struct CrossEntropyResult<Element: SoftmaxScalar>: Sendable {
    /// The reduced loss, z-loss included (for `.none`, the sum of the per-position losses),
    /// not multiplied by the loss weight.
    public var loss: Double
    /// The reduced z-loss alone (0 without one).
    public var zLoss: Double
    /// Per-position losses (z terms included), shape of the scores without the class axis,
    /// when requested.
    public var losses: NDArray<Element>?
    /// Per-position z terms alone, shape of `losses`, when requested.
    public var zLosses: NDArray<Element>?
    /// Gradient of the reduced loss times the loss weight, shape of the scores, when requested.
    public var gradient: NDArray<Element>?
    /// Softmax probabilities, when requested.
    public var probabilities: NDArray<Element>?
    /// Log-probabilities, when requested.
    public var logProbabilities: NDArray<Element>?
}

/// Cross-entropy of `scores` against class indices whose shape is `scores.shape` without the
/// class axis; see `crossEntropy(scores:shape:classIndices:options:outputs:)` for the formulas.
///
/// - Parameters:
///   - scores: logits (or log-probabilities with `options.input`).
///   - targets: one class index per position.
///   - options: axis, reduction, ignore index, class weights, smoothing, loss weight, input
///     kind and the logit transforms.
///   - outputs: which arrays to return besides the loss (default: the gradient).
/// - Throws: `SoftmaxError` for a bad axis, target shape, option or label.
/// - Complexity: O(n).
public func crossEntropy<T: SoftmaxScalar, L: ClassLabel>(
    _ scores: NDArray<T>, classIndices targets: NDArray<L>, options: CrossEntropyOptions = .init(),
    outputs: CrossEntropyOutputSet = [.gradient]
) throws -> CrossEntropyResult<T> {
    let axis = try Layout.normalizedAxis(options.resolvedAxis(rank: scores.rank), rank: scores.rank)
    var targetShape = scores.shape
    targetShape.remove(at: axis)
    guard targets.shape == targetShape else {
        throw SoftmaxError.shapeMismatch(argument: "class-index targets", expected: targetShape, actual: targets.shape)
    }
    return try withOutputs(scores, targetShape, outputs) { x, buffers in
        try targets.scalars.withUnsafeBufferPointer {
            try crossEntropy(scores: x, shape: scores.shape, classIndices: $0, options: options, outputs: buffers)
        }
    }
}

/// Cross-entropy of `scores` against probability targets of the same shape.
///
/// - Throws: `SoftmaxError` for a bad axis, target shape or option.
/// - Complexity: O(n).
public func crossEntropy<T: SoftmaxScalar>(
    _ scores: NDArray<T>, probabilities targets: NDArray<T>, options: CrossEntropyOptions = .init(),
    outputs: CrossEntropyOutputSet = [.gradient]
) throws -> CrossEntropyResult<T> {
    try scores.checkSameShape(targets, "probability targets")
    let axis = try Layout.normalizedAxis(options.resolvedAxis(rank: scores.rank), rank: scores.rank)
    var lossShape = scores.shape
    lossShape.remove(at: axis)
    return try withOutputs(scores, lossShape, outputs) { x, buffers in
        try targets.scalars.withUnsafeBufferPointer {
            try crossEntropy(scores: x, shape: scores.shape, probabilities: $0, options: options, outputs: buffers)
        }
    }
}

/// Allocates the requested outputs, runs `body`, and wraps them as arrays.
private func withOutputs<T: SoftmaxScalar>(
    _ scores: NDArray<T>, _ lossShape: [Int], _ set: CrossEntropyOutputSet,
    _ body: (UnsafeBufferPointer<T>, CrossEntropyOutputs<T>) throws -> Double
) throws -> CrossEntropyResult<T> {
    let positions = lossShape.reduce(1, *)
    if !set.isDisjoint(with: [.losses, .zLosses]) {
        // Per-position losses of an empty class axis can be far more than the scores.
        try ResourceLimits.check(
            ResourceLimits.bytes(count: positions, size: MemoryLayout<T>.stride),
            for: "the per-position losses of shape \(SoftmaxError.shapeText(lossShape))")
    }
    func make(_ member: CrossEntropyOutputSet, _ count: Int) -> UnsafeMutableBufferPointer<T>? {
        guard set.contains(member) else { return nil }
        let b = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
        b.initialize(repeating: 0)
        return b
    }
    var zLoss = 0.0
    return try withUnsafeMutablePointer(to: &zLoss) { zLoss in
        let buffers = CrossEntropyOutputs<T>(
            gradient: make(.gradient, scores.count), losses: make(.losses, positions),
            probabilities: make(.probabilities, scores.count), logProbabilities: make(.logProbabilities, scores.count),
            zLosses: make(.zLosses, positions), zLoss: zLoss)
        defer {
            for b in [
                buffers.gradient, buffers.losses, buffers.probabilities, buffers.logProbabilities, buffers.zLosses,
            ] {
                b?.deallocate()
            }
        }
        let loss = try scores.scalars.withUnsafeBufferPointer { try body($0, buffers) }
        return result(loss, zLoss.pointee, buffers)
    }
    func result(_ loss: Double, _ zLoss: Double, _ buffers: CrossEntropyOutputs<T>) -> CrossEntropyResult<T> {
        func array(_ b: UnsafeMutableBufferPointer<T>?, _ shape: [Int]) -> NDArray<T>? {
            b.map { NDArray(validShape: shape, scalars: Array($0)) }
        }
        return CrossEntropyResult(
            loss: loss, zLoss: zLoss, losses: array(buffers.losses, lossShape),
            zLosses: array(buffers.zLosses, lossShape), gradient: array(buffers.gradient, scores.shape),
            probabilities: array(buffers.probabilities, scores.shape),
            logProbabilities: array(buffers.logProbabilities, scores.shape))
    }
}
