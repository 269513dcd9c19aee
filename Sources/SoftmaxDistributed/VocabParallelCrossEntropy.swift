import Softmax
import SoftmaxKernels

/// The element types of the vocabulary-parallel losses: `Float` and `Double`.
public protocol VocabParallelScalar: CommunicatorScalar & LinearCrossEntropyScalar {}

extension Float: VocabParallelScalar {}
extension Double: VocabParallelScalar {}

/// What one rank's vocabulary-parallel cross-entropy writes; `nil` ones are skipped.
public struct VocabParallelOutputs<Element: VocabParallelScalar> {
    /// This rank's shard of the gradient, laid out like its scores `[N, V_r]`.
    public var gradient: UnsafeMutableBufferPointer<Element>?
    /// The `N` per-position losses (the whole row's, z terms included, the same on every rank).
    public var losses: UnsafeMutableBufferPointer<Element>?
    /// The `N` per-position z terms `λ·lse²` (the same on every rank).
    public var zLosses: UnsafeMutableBufferPointer<Element>?

    /// Outputs to write.
    public init(
        gradient: UnsafeMutableBufferPointer<Element>? = nil, losses: UnsafeMutableBufferPointer<Element>? = nil,
        zLosses: UnsafeMutableBufferPointer<Element>? = nil
    ) {
        self.gradient = gradient
        self.losses = losses
        self.zLosses = zLosses
    }
}

/// The reduced losses of a distributed call, the same on every rank.
public struct DistributedLoss: Sendable, Equatable {
    /// The reduced loss, the z-loss included (as `crossEntropy` returns it).
    public var loss: Double
    /// The reduced z-loss alone (0 without one).
    public var zLoss: Double
}

/// The cross-entropy of scores whose classes are split across the ranks of `communicator`
/// (Megatron-LM's vocabulary-parallel cross-entropy): each rank holds the scores of its
/// classes `shard` for every position, the labels are global, and three allreduces of `N`
/// values — the rows' maxima, their sums of exponentials (with the target's weight), and the
/// per-position losses — give every rank the loss and its own shard of the gradient.
///
/// Equal, to rounding, to `crossEntropy` on the scores gathered along the class axis.  Every
/// option of that call applies except probability targets and log-probability input:
/// the ignore index, every reduction, label smoothing (its `Σ_c` over each shard, then summed),
/// class weights (`options.classWeights` holds **this shard's** `V_r` weights), the loss
/// weight, temperature, softcap and z-loss.
///
/// - Parameters:
///   - scores: This rank's `[N, V_r]` scores (class axis last), row-major.
///   - positions: `N`, the same on every rank.
///   - shard: This rank's classes; the shards of the group tile `0..<totalClasses`.
///   - classIndices: `N` global labels (the same on every rank).
///   - options: As for `crossEntropy`; `axis` is ignored (the class axis is the last).
///   - communicator: The group; every rank must make the same call.
///   - outputs: This rank's gradient shard, the per-position losses and z terms.
/// - Returns: The reduced loss and z-loss, not multiplied by the loss weight (as
///   `crossEntropy`), the same on every rank.
/// - Throws: `SoftmaxError` for a bad size, option or label (checked before any collective,
///   so every rank throws the same error when the inputs agree), `CommunicationError`.
/// - Complexity: O(N·V_r) per rank, plus three allreduces of `N`, `2N + 1` and `N` values.
public func vocabParallelCrossEntropy<T: VocabParallelScalar, L: ClassLabel>(
    scores: UnsafeBufferPointer<T>, positions: Int, shard: ClassShard, classIndices: UnsafeBufferPointer<L>,
    options: CrossEntropyOptions = .init(), communicator: any Communicator,
    outputs: VocabParallelOutputs<T> = .init()
) throws -> DistributedLoss {
    let problem = try VocabParallelProblem(
        positions: positions, shard: shard, scoreCount: scores.count, targetCount: classIndices.count,
        options: options, elementSize: MemoryLayout<T>.stride)
    try problem.checkOutputs(outputs)
    var decoded = [Int32](repeating: -1, count: positions)
    try decoded.withUnsafeMutableBufferPointer { decodedBuffer in
        try problem.decode(classIndices, into: decodedBuffer.baseAddress!)
    }
    if T.self == Float.self {
        return try problem.run(
            scores: scores.rebound(to: Float.self), targets: decoded, communicator: communicator,
            outputs: outputs.rebound(to: Float.self))
    }
    return try problem.run(
        scores: scores.rebound(to: Double.self), targets: decoded, communicator: communicator,
        outputs: outputs.rebound(to: Double.self))
}

extension UnsafeBufferPointer {
    /// The same memory as `U` (the caller checked that `U` is `Element`).
    func rebound<U>(to _: U.Type) -> UnsafePointer<U>? {
        UnsafeRawPointer(baseAddress).map { $0.assumingMemoryBound(to: U.self) }
    }
}

extension UnsafeMutableBufferPointer {
    /// The same memory as `U` (the caller checked that `U` is `Element`).
    func rebound<U>(to _: U.Type) -> UnsafeMutableBufferPointer<U> {
        UnsafeMutableBufferPointer<U>(
            start: UnsafeMutableRawPointer(baseAddress).map { $0.assumingMemoryBound(to: U.self) }, count: count)
    }
}

extension VocabParallelOutputs {
    /// The same buffers as `U` (the caller checked that `U` is `Element`).
    func rebound<U: VocabParallelScalar>(to _: U.Type) -> VocabParallelOutputs<U> {
        VocabParallelOutputs<U>(
            gradient: gradient?.rebound(to: U.self), losses: losses?.rebound(to: U.self),
            zLosses: zLosses?.rebound(to: U.self))
    }
}
