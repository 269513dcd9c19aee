import SoftmaxTestSupport
import Synchronization
import Testing

@testable import Softmax

@Suite("Worker pool")
struct WorkerPoolTests {
    /// Runs a loop of `iterations` through `run` and returns how often each index ran (each
    /// index writes only its own slot).
    func counts(_ iterations: Int, _ run: (Int, (Int) -> Void) -> Void) -> [Int] {
        var counts = [Int](repeating: 0, count: iterations)
        counts.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            run(iterations) { buffer[$0] += 1 }
        }
        return counts
    }

    /// Every iteration runs exactly once, for loops of every size, back to back and from many
    /// tasks at once (callers that find the pool busy take the fallback path).
    @Test func everyIterationRunsOnce() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var rng = SeededGenerator(seed: UInt64(task))
                    for _ in 0..<200 {
                        let iterations = Int.random(in: 0...64, using: &rng)
                        let ran = counts(iterations) { WorkerPool.shared.run(iterations: $0, $1) }
                        #expect(ran.allSatisfy { $0 == 1 }, "\(iterations) iterations")
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// A loop started from inside a loop (the pool is busy) still runs, without deadlock.
    @Test func nestedLoopsRun() {
        let total = Atomic<Int>(0)
        WorkerPool.shared.run(iterations: 4) { _ in
            WorkerPool.shared.run(iterations: 5) { _ in total.wrappingAdd(1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 20)
    }

    /// `threads:` caps the participants and still covers every iteration once.
    @Test(arguments: 1...4)
    func threadCapCoversEveryIteration(threads: Int) {
        let ran = counts(37) { WorkerPool.shared.run(iterations: $0, threads: threads, $1) }
        #expect(ran.allSatisfy { $0 == 1 })
    }
}
