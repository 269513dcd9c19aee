import Dispatch

/// A communicator that counts what passes through another: collectives, bytes and seconds
/// spent in them (what `softmax bench` reports per rank).
public final class MeasuredCommunicator: Communicator {
    /// The communicator that does the work.
    public let base: any Communicator
    /// The allreduce calls so far.
    public private(set) var allReduceCalls = 0
    /// The bytes this rank handed to allreduce so far (its buffers' sizes, not the wire's).
    public private(set) var allReduceBytes = 0
    /// Seconds spent inside allreduce so far (waiting for the slowest rank included).
    public private(set) var allReduceSeconds = 0.0

    /// A counter around `base`.
    public init(_ base: any Communicator) { self.base = base }

    /// `base`'s rank.
    public var rank: Int { base.rank }
    /// `base`'s size.
    public var size: Int { base.size }

    /// Sets the counts to zero.
    public func reset() {
        allReduceCalls = 0
        allReduceBytes = 0
        allReduceSeconds = 0
    }

    private func measured(bytes: Int, _ body: () throws -> Void) rethrows {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        allReduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        allReduceCalls += 1
        allReduceBytes += bytes
    }

    /// `base.allReduce`, counted.
    public func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws {
        try measured(bytes: values.count * 4) { try base.allReduce(values, operation) }
    }

    /// `base.allReduce`, counted.
    public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) throws {
        try measured(bytes: values.count * 8) { try base.allReduce(values, operation) }
    }

    /// `base.broadcast` (not counted).
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
        try base.broadcast(bytes, from: root)
    }

    /// `base.barrier` (not counted).
    public func barrier() throws { try base.barrier() }
}
