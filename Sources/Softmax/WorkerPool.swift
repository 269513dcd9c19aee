import Dispatch
import Foundation
import MemoryHints
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// A fixed set of worker threads that run the iterations of one parallel loop at a time, with
/// the calling thread taking part.
///
/// `DispatchQueue.concurrentPerform` wakes its threads for every call, which costs more than a
/// short loop's iterations take (every array below a few megabytes ran slower on two threads
/// than on one; `docs/performance.md`).  These workers
/// spin for a short while after each loop (`spinNanoseconds`), so back-to-back calls (a
/// training loop, a benchmark) find them awake; then they sleep on a condition variable.
///
/// One loop runs at a time.  A caller that finds the pool busy (another task is using it)
/// runs its loop through `concurrentPerform` instead, so concurrent callers never wait for
/// each other.
package final class WorkerPool: @unchecked Sendable {
    /// One pool for the process, with a worker per core beyond the caller's.
    package static let shared = WorkerPool(workers: OnlineProcessors.count - 1)

    /// How long an idle worker keeps polling for the next loop before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    /// One parallel loop: its body and the counters the threads share.
    private final class Loop: @unchecked Sendable {
        /// Cleared (under no lock: see `run`) once every iteration has finished.
        var body: ((Int) -> Void)?
        let iterations: Int
        let next = Atomic<Int>(0)
        let remaining: Atomic<Int>
        /// Workers inside `work()`, which may hold a reference to `body`.
        let active = Atomic<Int>(0)

        init(body: @escaping (Int) -> Void, iterations: Int) {
            self.body = body
            self.iterations = iterations
            remaining = Atomic(iterations)
        }

        /// Claims and runs iterations until none are left.
        func work() {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < iterations, let body else { return }
                body(i)
                remaining.wrappingSubtract(1, ordering: .releasing)
            }
        }
    }

    private let workerCount: Int
    private let busy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let current = PthreadLocked<Loop?>(nil)
    private let sleepers = Atomic<Int>(0)
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private let started = Atomic<Bool>(false)

    private init(workers: Int) {
        workerCount = Swift.max(0, workers)
        lock = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(i)` for every `i` in `0..<iterations`, on the workers and the calling
    /// thread, and returns when all have finished.  Iterations may run in any order and on any
    /// thread; `body` must only write what iteration `i` owns.
    package func run(iterations: Int, _ body: (Int) -> Void) {
        if iterations <= 0 { return }
        if iterations == 1 || workerCount == 0 {
            for i in 0..<iterations { body(i) }
            return
        }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            withoutActuallyEscaping(body) { body in
                nonisolated(unsafe) let body = body
                DispatchQueue.concurrentPerform(iterations: iterations) { body($0) }
            }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        startWorkersOnce()
        withoutActuallyEscaping(body) { body in
            let loop = Loop(body: body, iterations: iterations)
            current.withLock { $0 = loop }
            // Sequentially consistent with the worker's `sleepers` increment and `generation`
            // check: otherwise both sides could read the other's old value and the wake-up
            // would be lost.
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(lock)
            }
            loop.work()
            // Wait for every iteration, and for every worker to leave `work()` (where it may
            // still hold a reference to `body`).
            while loop.remaining.load(ordering: .acquiring) > 0 || loop.active.load(ordering: .acquiring) > 0 {
                spinPause()
            }
            // No thread reads `body` again (a late worker claims an index past the end and
            // stops).  Drop it before `withoutActuallyEscaping` ends.
            current.withLock { $0 = nil }
            loop.body = nil
        }
    }

    /// Runs `body(i)` for every `i` in `0..<iterations` on at most `threads` threads (the
    /// caller's included), each taking one contiguous run of iterations.
    package func run(iterations: Int, threads: Int, _ body: (Int) -> Void) {
        let threads = Swift.max(1, Swift.min(threads, iterations))
        let perThread = (iterations + threads - 1) / Swift.max(threads, 1)
        run(iterations: threads) { t in
            for i in (t * perThread)..<Swift.min((t + 1) * perThread, iterations) { body(i) }
        }
    }

    private func startWorkersOnce() {
        guard !started.load(ordering: .acquiring),
            started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        for _ in 0..<workerCount {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "softmax-worker"
            thread.start()
        }
    }

    private func workerLoop() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            waitForNewLoop(after: seen)
            seen = generation.load(ordering: .acquiring)
            guard let loop = current.withLock({ $0 }) else { continue }
            loop.active.wrappingAdd(1, ordering: .acquiringAndReleasing)
            loop.work()
            loop.active.wrappingSubtract(1, ordering: .releasing)
        }
    }

    /// Returns once `generation` has moved past `seen`: polls for `spinNanoseconds`, then
    /// sleeps until `run` broadcasts.
    private func waitForNewLoop(after seen: Int) {
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
        while generation.load(ordering: .acquiring) == seen {
            if DispatchTime.now().uptimeNanoseconds > deadline {
                pthread_mutex_lock(lock)
                sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, lock) }
                sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(lock)
                return
            }
            for _ in 0..<64 { spinPause() }
        }
    }
}

/// A hint to the core that this thread is spinning (`pause` on x86, `yield` on arm64).
@inline(__always)
private func spinPause() { softmax_spin_pause() }
