import SoftmaxTraining

/// The data-parallel gradient reducer: the processes of a `Communicator` train one model,
/// each on its share of every batch, their gradients combined by one allreduce per step.
///
/// Give every process `Trainer(settings:gradientReducer: CommunicatorGradientReducer(c))`
/// with its own communicator `c` of the group and the same data and settings.  The trainer
/// then splits each global batch across the `communicator.size` processes and calls
/// `reduce(_:loss:denominator:)` once per batch: all parameters' gradients, each scaled by
/// its process's denominator, plus the denominator and the scaled loss, travel in one `Float`
/// buffer summed by one `allReduce`.  The training equals the one-process run up to the
/// order of summation, provided the allreduce gives every process the same bits (the local
/// group does; MPI's standard asks it of implementations, and Open MPI's algorithms do),
/// since each process applies its own copy of the sum.  With a group of one
/// (`SingleProcessCommunicator`) the trainer takes its one-process path and this reducer
/// does nothing: the same bits as the default reducer.
public struct CommunicatorGradientReducer: GradientReducer {
    /// The group the gradients are combined over.
    public let communicator: any Communicator

    /// A reducer over `communicator`'s group.
    ///
    /// - Parameter communicator: This process's communicator (every process of the group
    ///   must train with a reducer over its own).
    public init(_ communicator: any Communicator) { self.communicator = communicator }

    /// The group's size.
    public var processCount: Int { communicator.size }
    /// This process's rank in the group.
    public var processRank: Int { communicator.rank }

    /// Sums the gradients over the group (no division), all parameters in one allreduce; does
    /// nothing in a group of one.  The trainer calls this only in a group of one: with more
    /// processes it calls `reduce(_:loss:denominator:)`, which weights the shares.
    ///
    /// - Parameter gradients: This process's gradients on entry, their sum over the group on
    ///   return.
    /// - Throws: `CommunicationError` from the transport (the gradients are then unchanged).
    /// - Complexity: O(gradients.count) plus the allreduce.
    public func reduce(_ gradients: ParameterGradients) throws {
        guard communicator.size > 1 else { return }
        try gradients.updatePacked { try communicator.allReduce(&$0, .sum) }
    }

    /// Turns this process's share of a batch into the whole batch: the gradients become
    /// `Σ (gradient · denominator) / Σ denominator` and the result is
    /// `Σ (loss · denominator) / Σ denominator`, both 0 when `Σ denominator` is 0.
    ///
    /// One allreduce of a `Float` buffer: the packed gradients times `denominator`, then
    /// `denominator` and `denominator · loss`.
    ///
    /// - Parameters:
    ///   - gradients: The gradient of this process's mean loss on entry (zeros for an empty
    ///     share); the whole batch's on return, the same bits in every process.
    ///   - loss: This process's mean loss over its share (0 for an empty share).
    ///   - denominator: What that mean divides by (0 for an empty share).
    /// - Returns: The whole batch's mean loss.
    /// - Throws: `CommunicationError` from the transport (the gradients are then unchanged).
    /// - Complexity: O(gradients.count) plus the allreduce of `gradients.count + 2` values.
    public func reduce(_ gradients: ParameterGradients, loss: Double, denominator: Double) throws -> Double {
        guard communicator.size > 1 else {
            try reduce(gradients)
            return loss
        }
        let count = gradients.count
        let weight = Float(denominator)
        // Written and read through raw buffers: per-element appends and checked subscripts
        // cost more than the allreduce itself on a model of 100k parameters.
        var buffer = [Float](unsafeUninitializedCapacity: count + 2) { out, initialized in
            var i = 0
            for blob in gradients.blobs {
                blob.diff.withUnsafeBufferPointer { diff in
                    for value in diff {
                        out[i] = value * weight
                        i += 1
                    }
                }
            }
            out[count] = weight
            out[count + 1] = Float(denominator * loss)
            initialized = count + 2
        }
        try communicator.allReduce(&buffer, .sum)
        let total = buffer[count]
        let lossSum = buffer[count + 1]
        buffer.withUnsafeBufferPointer { sums in
            var start = 0
            for blob in gradients.blobs {
                blob.diff.withUnsafeMutableBufferPointer { diff in
                    for j in diff.indices { diff[j] = total == 0 ? 0 : sums[start + j] / total }
                    start += diff.count
                }
            }
        }
        return total == 0 ? 0 : Double(lossSum) / Double(total)
    }

    /// Adds `values` element by element over the group (one allreduce of `Double`s).
    ///
    /// - Parameter values: The same count in every process.
    /// - Returns: The sums, the same in every process.
    /// - Throws: `CommunicationError` from the transport.
    /// - Complexity: O(values.count) plus the allreduce.
    public func sum(_ values: [Double]) throws -> [Double] {
        guard communicator.size > 1 else { return values }
        var sums = values
        try communicator.allReduce(&sums, .sum)
        return sums
    }
}
