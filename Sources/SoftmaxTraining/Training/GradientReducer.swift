import Softmax
import SoftmaxLayers

/// The step of training between back-propagation and the solver's update: it gets every
/// parameter's gradient and may replace it — the seam for data-parallel training, where each
/// process computes the gradient of its share of the batch and a reducer sums them across
/// processes (an MPI `Allreduce`) before every process takes the same solver step.
///
/// `Trainer` calls `reduce(_:)` exactly once per mini-batch, after `Network.backward()` and
/// before `SGDSolver.step()`.  In one process there is nothing to combine:
/// `SingleProcessReducer`, the default, leaves the gradients as they are.  A reducer keeps
/// `SoftmaxTraining` free of any transport: an MPI one lives in the module that links MPI.
///
/// Room left for the data-parallel work: a reducer that splits batches across processes will
/// also need to sum the batch's loss and its count of non-ignored positions (so that the mean
/// is over the whole batch).  That will be a second requirement with a default no-op
/// implementation in an extension, so that reducers written against this protocol keep
/// compiling.
public protocol GradientReducer {
    /// Combines the gradients in place.
    ///
    /// - Parameter gradients: Every learnable blob of the network in a fixed order (the same
    ///   in every process); their `diff` holds this process's gradient on entry and must hold
    ///   the combined gradient on return.  `ParameterGradients.updatePacked(_:)` offers them
    ///   as one contiguous buffer, so a transport sums all parameters in one call.
    /// - Throws: Whatever the transport throws; the trainer stops and rethrows it.
    func reduce(_ gradients: ParameterGradients) throws
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
