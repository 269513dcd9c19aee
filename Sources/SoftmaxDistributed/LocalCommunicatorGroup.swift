import Foundation

/// Ranks as threads of one process: `size` communicators that meet in shared memory.
///
/// It runs a distributed scheme on 2, 3 or more ranks without MPI — what the tests use to
/// compare the vocabulary-parallel losses and data-parallel training with their
/// single-process results.  Collectives combine the ranks' buffers in rank order, so every
/// rank gets the same bits, and the same bits on every run.
public enum LocalCommunicatorGroup {
    /// Runs `body` once per rank, each on its own thread with that rank's communicator, and
    /// returns the results in rank order.
    ///
    /// Every rank must call the same collectives in the same order (as under MPI); a rank that
    /// throws makes the others' later collectives throw too, instead of waiting forever.
    ///
    /// - Parameters:
    ///   - size: The number of ranks, at least 1.
    ///   - body: One rank's work.
    /// - Returns: `body`'s results, rank 0 first.
    /// - Throws: The first error a rank threw (in rank order) that was not another rank's
    ///   failure.
    public static func run<R>(size: Int, _ body: @escaping (any Communicator) throws -> R) throws -> [R] {
        precondition(size >= 1, "a group needs at least one rank")
        let rendezvous = Rendezvous(size: size)
        let results = ResultSlots<R>(count: size)
        let finished = DispatchGroup()
        nonisolated(unsafe) let body = body  // called once per rank, each on its own thread
        for rank in 0..<size {
            finished.enter()
            let thread = Thread {
                let communicator = LocalCommunicator(rank: rank, rendezvous: rendezvous)
                do {
                    results.set(rank, .success(try body(communicator)))
                } catch {
                    rendezvous.abandon()
                    results.set(rank, .failure(error))
                }
                finished.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        finished.wait()
        let values = results.values()
        // The error that started it, not the others' "a rank failed" that followed.
        for case .failure(let error) in values where !(error is AbandonedGroup) { throw error }
        return try values.map { try $0.get() }
    }
}

/// What a rank of a local group throws from a collective once another rank has failed.
struct AbandonedGroup: Error, CustomStringConvertible {
    var description: String { "another rank of the local group failed" }
}

/// The results of the ranks, set from their threads.
private final class ResultSlots<R>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<R, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ rank: Int, _ result: Result<R, any Error>) {
        lock.lock()
        slots[rank] = result
        lock.unlock()
    }

    func values() -> [Result<R, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}

/// Where the ranks of a local group meet: a reusable barrier and one posted buffer per rank.
private final class Rendezvous: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    private var abandoned = false
    /// Each rank's buffer of the collective in progress (a rank writes its own slot before a
    /// `wait()` and reads the others' after it: the lock orders the two).
    let posted: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    init(size: Int) {
        self.size = size
        posted = .allocate(capacity: size)
        posted.initialize(repeating: nil, count: size)
    }

    deinit { posted.deallocate() }

    /// Waits until every rank has arrived; throws once a rank has given up.
    func wait() throws {
        condition.lock()
        defer { condition.unlock() }
        if abandoned { throw AbandonedGroup() }
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
            return
        }
        while generation == mine && !abandoned { condition.wait() }
        if generation == mine { throw AbandonedGroup() }
    }

    /// Releases every waiting rank with an error (a rank threw and will not arrive).
    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }
}

/// One rank of a `LocalCommunicatorGroup`.
private final class LocalCommunicator: Communicator {
    let rank: Int
    let rendezvous: Rendezvous
    var size: Int { rendezvous.size }

    init(rank: Int, rendezvous: Rendezvous) {
        self.rank = rank
        self.rendezvous = rendezvous
    }

    /// Posts the buffer, waits for all, combines every rank's values in rank order into a
    /// private copy, waits until all have read, then writes the copy back.
    private func combine<T: CommunicatorScalar>(
        _ values: UnsafeMutableBufferPointer<T>, _ operation: ReductionOperation
    ) throws {
        rendezvous.posted[rank] = values.baseAddress.map { UnsafeMutableRawPointer($0) }
        try rendezvous.wait()
        var combined = [T](repeating: 0, count: values.count)
        for source in 0..<size {
            guard let base = rendezvous.posted[source] else { continue }
            let other = base.assumingMemoryBound(to: T.self)
            for i in 0..<values.count {
                combined[i] =
                    source == 0
                    ? other[i]
                    : (operation == .sum ? combined[i] + other[i] : Swift.max(combined[i], other[i]))
            }
        }
        try rendezvous.wait()
        for i in 0..<values.count { values[i] = combined[i] }
    }

    func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws {
        try combine(values, operation)
    }

    func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) throws {
        try combine(values, operation)
    }

    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
        rendezvous.posted[rank] = bytes.baseAddress
        try rendezvous.wait()
        if rank != root, let source = rendezvous.posted[root], let target = bytes.baseAddress {
            target.copyMemory(from: source, byteCount: bytes.count)
        }
        try rendezvous.wait()
    }

    func barrier() throws { try rendezvous.wait() }
}
