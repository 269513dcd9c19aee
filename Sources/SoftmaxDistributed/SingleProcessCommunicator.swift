/// A group of one process: every collective leaves its buffer as it is.
///
/// The distributed code paths run on it unchanged, so they are testable (and usable) without
/// MPI; with it they give the single-process results.
public final class SingleProcessCommunicator: Communicator {
    /// The group of this process alone.
    public init() {}

    /// 0.
    public var rank: Int { 0 }
    /// 1.
    public var size: Int { 1 }

    /// Leaves `values` as they are (the combination of one process's values).
    ///
    /// - Complexity: O(1).
    public func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) {}
    /// Leaves `values` as they are (the combination of one process's values).
    ///
    /// - Complexity: O(1).
    public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) {}
    /// Leaves `bytes` as they are (`root` can only be 0).
    ///
    /// - Complexity: O(1).
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) {}
    /// Returns at once.
    ///
    /// - Complexity: O(1).
    public func barrier() {}
}
