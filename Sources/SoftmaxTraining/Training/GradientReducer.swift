import Softmax
import SoftmaxLayers

/// The step of training between back-propagation and the solver's update: it gets every
/// parameter's gradient and may replace it — the seam for data-parallel training, where each
/// process computes the gradient of its share of the batch and a reducer sums them across
/// processes (an MPI `Allreduce`) before every process takes the same solver step.
///
/// In one process (`processCount == 1`, the default) `Trainer` calls `reduce(_:)` exactly once
/// per mini-batch, after `Network.backward()` and before `SGDSolver.step()`, and there is
/// nothing to combine: `SingleProcessReducer`, the default reducer, leaves the gradients as
/// they are.  A reducer keeps `SoftmaxTraining` free of any transport: an MPI one lives in the
/// module that links MPI (`SoftmaxDistributed`'s `CommunicatorGradientReducer`).
///
/// With `processCount` = K > 1 the trainer runs data-parallel: every process shuffles the
/// same order (same seed), takes its contiguous share (`processRank`) of each global batch,
/// and calls `reduce(_:loss:denominator:)` instead, once per mini-batch, with the gradient and
/// mean loss of its share and the share's denominator; the reducer returns the whole batch's
/// mean loss and leaves the whole batch's mean gradient in every process.  After each epoch
/// every process evaluates its share of the samples and the figures are added with `sum(_:)`.
///
/// Every requirement but `reduce(_:)` has a default (one process, nothing combined), so
/// reducers written against the first version of this protocol keep compiling.
public protocol GradientReducer {
    /// The number of processes training the model together (default 1).
    var processCount: Int { get }
    /// This process's index among them, `0..<processCount` (default 0).
    var processRank: Int { get }

    /// Combines the gradients in place: the one-process step (`processCount == 1`).
    ///
    /// - Parameter gradients: Every learnable blob of the network in a fixed order (the same
    ///   in every process); their `diff` holds this process's gradient on entry and must hold
    ///   the combined gradient on return.  `ParameterGradients.updatePacked(_:)` offers them
    ///   as one contiguous buffer, so a transport sums all parameters in one call.
    /// - Throws: Whatever the transport throws; the trainer stops and rethrows it.
    func reduce(_ gradients: ParameterGradients) throws

    /// Combines the gradients and losses of the processes' shares of one batch into the whole
    /// batch's: the data-parallel step (`processCount > 1`).
    ///
    /// Each process's loss is the mean over its share, `loss = S / denominator` with `S` the
    /// share's summed (weighted) loss, and its gradient is the gradient of that mean.  The
    /// whole batch's mean is `Σ S / Σ denominator` over the processes, its gradient
    /// `Σ (gradient · denominator) / Σ denominator`; when `Σ denominator` is 0 (every label of
    /// the batch ignored) both are 0, as the single process gives.
    ///
    /// - Parameters:
    ///   - gradients: As for `reduce(_:)`: this process's gradient on entry (zeros for an
    ///     empty share), the whole batch's on return — the same bits in every process.
    ///   - loss: The mean loss of this process's share (0 for an empty share).
    ///   - denominator: What that mean divides by: the share's class weights summed over its
    ///     non-ignored positions, or their count without class weights (0 for an empty share).
    /// - Returns: The whole batch's mean loss, the same in every process.
    /// - Throws: Whatever the transport throws; the trainer stops and rethrows it.
    /// - Note: The default calls `reduce(gradients)` and returns `loss` unchanged (one process).
    func reduce(_ gradients: ParameterGradients, loss: Double, denominator: Double) throws -> Double

    /// Adds `values` element by element over the processes (the evaluation's loss sums and
    /// confusion counts).
    ///
    /// - Parameter values: The same count in every process.
    /// - Returns: The sums, the same in every process.
    /// - Throws: Whatever the transport throws.
    /// - Note: The default returns `values` (one process).
    func sum(_ values: [Double]) throws -> [Double]
}

extension GradientReducer {
    /// 1: one process.
    public var processCount: Int { 1 }
    /// 0: the only process.
    public var processRank: Int { 0 }

    /// Calls `reduce(gradients)` and returns `loss`: in one process the share is the batch.
    ///
    /// - Parameters:
    ///   - gradients: Passed to `reduce(_:)`.
    ///   - loss: Returned as it is.
    ///   - denominator: Not read.
    /// - Returns: `loss`.
    /// - Throws: What `reduce(_:)` throws.
    /// - Complexity: That of `reduce(_:)`.
    public func reduce(_ gradients: ParameterGradients, loss: Double, denominator: Double) throws -> Double {
        try reduce(gradients)
        return loss
    }

    /// Returns `values`: one process's sums are its own.
    ///
    /// - Parameter values: The values.
    /// - Returns: `values`.
    /// - Complexity: O(1).
    public func sum(_ values: [Double]) throws -> [Double] { values }
}

/// The reducer of a single process: the gradients are already complete, so it does nothing.
public struct SingleProcessReducer: GradientReducer {
    /// The reducer.
    public init() {}

    /// Leaves the gradients as they are.
    ///
    /// - Parameter gradients: Not read.
    /// - Complexity: O(1).
    public func reduce(_ gradients: ParameterGradients) {}
}

/// The gradients of a network's learnable blobs, in a fixed order, with a way to see them as
/// one flat buffer (the blobs' `diff` arrays one after another).
public struct ParameterGradients {
    /// The learnable blobs (`Network.parameters`: each inner-product layer's weights, then
    /// its bias, first layer first).  Their `diff` is the gradient.
    public let blobs: [Blob<Float>]

    /// The gradients of `blobs`.
    ///
    /// - Parameter blobs: The learnable blobs, in an order every process agrees on.
    public init(_ blobs: [Blob<Float>]) { self.blobs = blobs }

    /// The number of gradient values: the sum of the blobs' `diff` counts.
    public var count: Int { blobs.reduce(0) { $0 + $1.diff.count } }

    /// The gradients as one buffer: the blobs' `diff` concatenated in order.
    ///
    /// - Returns: `count` values.
    /// - Complexity: O(count).
    public func packed() -> [Float] {
        var buffer: [Float] = []
        buffer.reserveCapacity(count)
        for blob in blobs { buffer.append(contentsOf: blob.diff) }
        return buffer
    }

    /// Writes `buffer` back into the blobs' `diff`, the inverse of `packed()`.
    ///
    /// - Parameter buffer: `count` values, in the order `packed()` gives them.
    /// - Throws: `SoftmaxError.countMismatch` when `buffer` does not hold `count` values (then
    ///   no blob is changed).
    /// - Complexity: O(count).
    public func unpack(_ buffer: [Float]) throws {
        guard buffer.count == count else {
            throw SoftmaxError.countMismatch(argument: "packed gradients", expected: count, actual: buffer.count)
        }
        var start = 0
        for blob in blobs {
            let end = start + blob.diff.count
            blob.diff.replaceSubrange(0..<blob.diff.count, with: buffer[start..<end])
            start = end
        }
    }

    /// Packs the gradients, lets `body` change the buffer (sum it across processes, scale
    /// it), and unpacks the result.
    ///
    /// - Parameter body: Changes the `count` values in place; it may not change their number.
    /// - Throws: What `body` throws (then the gradients are unchanged), or
    ///   `SoftmaxError.countMismatch` when `body` changed the buffer's length.
    /// - Complexity: O(count) plus `body`.
    public func updatePacked(_ body: (inout [Float]) throws -> Void) throws {
        var buffer = packed()
        try body(&buffer)
        try unpack(buffer)
    }
}
