/// How an allreduce combines the processes' values, element by element.
public enum ReductionOperation: String, Sendable, CaseIterable {
    /// The sum.
    case sum
    /// The largest value.
    case maximum
}

/// A group of processes that compute together: the few collective operations the distributed
/// losses and data-parallel training need, and nothing else.
///
/// Every process of the group calls the same collectives in the same order with buffers of
/// the same length; each call returns when the process's part is done.  Three conformances:
/// `SingleProcessCommunicator` (a group of one, every collective a no-op),
/// `LocalCommunicatorGroup` (ranks as threads of one process, for tests and for trying a
/// scheme without MPI) and, when the package is built with the `MPI` trait,
/// `MPICommunicator` (Open MPI's `MPI_COMM_WORLD`).
public protocol Communicator: AnyObject {
    /// This process's index in the group, `0..<size`.
    var rank: Int { get }
    /// The number of processes in the group.
    var size: Int { get }

    /// Replaces `values` on every process by their element-wise combination over the group.
    ///
    /// - Parameters:
    ///   - values: The same count on every process.
    ///   - operation: Sum or maximum.
    /// - Throws: `CommunicationError` when the transport fails.
    func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws
    /// Replaces `values` on every process by their element-wise combination over the group.
    ///
    /// - Parameters:
    ///   - values: The same count on every process.
    ///   - operation: Sum or maximum.
    /// - Throws: `CommunicationError` when the transport fails.
    func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) throws
    /// Copies `bytes` of process `root` into `bytes` of every other process.
    ///
    /// - Parameters:
    ///   - bytes: The same count on every process.
    ///   - root: The rank whose bytes are sent.
    /// - Throws: `CommunicationError` when the transport fails.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws
    /// Returns once every process of the group has called it.
    ///
    /// - Throws: `CommunicationError` when the transport fails.
    func barrier() throws
}

/// A collective that failed in the transport.
public struct CommunicationError: Error, CustomStringConvertible, Sendable {
    /// What failed, e.g. "MPI_Allreduce returned error 15".
    public var description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}

/// The element types the collectives carry: `Float` and `Double`.
public protocol CommunicatorScalar: BinaryFloatingPoint & Sendable {
    /// Calls the communicator's allreduce for this type.
    static func allReduce(
        _ values: UnsafeMutableBufferPointer<Self>, _ operation: ReductionOperation, on communicator: any Communicator
    ) throws
}

extension Float: CommunicatorScalar {
    /// Calls `communicator.allReduce` for `Float`.
    public static func allReduce(
        _ values: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation,
        on communicator: any Communicator
    ) throws { try communicator.allReduce(values, operation) }
}

extension Double: CommunicatorScalar {
    /// Calls `communicator.allReduce` for `Double`.
    public static func allReduce(
        _ values: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation,
        on communicator: any Communicator
    ) throws { try communicator.allReduce(values, operation) }
}

extension Communicator {
    /// The allreduce for any `CommunicatorScalar`.
    ///
    /// - Parameters:
    ///   - values: The same count on every process.
    ///   - operation: Sum or maximum.
    /// - Throws: `CommunicationError` when the transport fails.
    public func allReduce<T: CommunicatorScalar>(_ values: inout [T], _ operation: ReductionOperation) throws {
        try values.withUnsafeMutableBufferPointer { try T.allReduce($0, operation, on: self) }
    }

    /// True on rank 0, the process that prints and writes files.
    public var isRoot: Bool { rank == 0 }
}
