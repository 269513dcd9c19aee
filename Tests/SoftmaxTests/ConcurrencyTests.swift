import SoftmaxTestSupport
import Synchronization
import Testing

@testable import Softmax

/// The entry points called from many tasks at once: every call must give the same bits as the
/// same call made alone, whatever else runs, whatever `SoftmaxThreads.maximum` is changed to
/// meanwhile, and whichever instruction set each task picks with `SoftmaxISA.withActive`.
/// Run under ThreadSanitizer (`swift test --sanitize=thread`) these also look for data races in
/// the worker pool, the staging pool and the settings.
@Suite("Concurrent calls from many tasks")
struct ConcurrencyTests {
    /// One library call and the bytes of everything it returns.
    struct Call: Sendable {
        let name: String
        let run: @Sendable () throws -> [UInt8]
    }

    /// Calls on every element type and entry point: large ones (at least
    /// `TilePlan.parallelThreshold` elements, so they go through the worker pool, or through
    /// `concurrentPerform` when another call holds the pool), and small ones run on the caller's
    /// thread.  Float16 calls (per-tile slabs) and class-index cross-entropy take their scratch
    /// from `StagingPool`.
    static func calls() throws -> [Call] {
        var rng = SeededGenerator(seed: 5150)
        func scores<T: SoftmaxScalar>(_: T.Type, _ shape: [Int], masked: Bool = false) throws -> NDArray<T> {
            var values = rng.gaussians(shape.reduce(1, *), std: 3).map { T($0) }
            if masked { values[values.count / 3] = -.infinity }
            return try NDArray(shape: shape, scalars: values)
        }
        func labels<L: BinaryInteger & Sendable>(_: L.Type, _ count: Int, classes: Int, ignore: Int? = nil) throws
            -> NDArray<L>
        {
            try NDArray(
                shape: [count],
                scalars: (0..<count).map { p in
                    if let ignore, p % 7 == 3 { return L(ignore) }
                    return L(Int.random(in: 0..<classes, using: &rng))
                })
        }
        func distribution<T: SoftmaxScalar>(_: T.Type, _ shape: [Int]) throws -> NDArray<T> {
            // Probability targets: a softmax of random scores (exact enough for a target).
            try scores(T.self, shape).softmax(axis: 1)
        }

        var calls: [Call] = []
        func add(_ name: String, _ run: @escaping @Sendable () throws -> [UInt8]) {
            calls.append(Call(name: name, run: run))
        }

        // Forward passes: rows, strided (inner > 1), short rows; Float, Double, Float16.
        let rows = try scores(Float.self, [44, 3000], masked: true)
        add("Float softmax \(rows.shape)") { bytes(try rows.softmax(axis: 1).scalars) }
        let strided = try scores(Float.self, [4, 21, 1600])
        add("Float logSoftmax \(strided.shape) axis 1") { bytes(try strided.logSoftmax(axis: 1).scalars) }
        add("Float logSumExp \(strided.shape) axis 1") { bytes(try strided.logSumExp(axis: 1).scalars) }
        let doubles = try scores(Double.self, [28, 5000])
        add("Double softmax \(doubles.shape)") { bytes(try doubles.softmax(axis: 1).scalars) }
        add("Double logSumExp \(doubles.shape) axis 0") { bytes(try doubles.logSumExp(axis: 0).scalars) }
        let smallDoubles = try scores(Double.self, [5, 7, 3])
        add("Double logSoftmax \(smallDoubles.shape) axis 1") { bytes(try smallDoubles.logSoftmax(axis: 1).scalars) }
        let halves = try scores(Float16.self, [44, 3000], masked: true)
        add("Float16 softmax \(halves.shape)") { bytes(try halves.softmax(axis: 1).scalars) }
        let shortHalves = try scores(Float16.self, [13_200, 10])
        add("Float16 logSoftmax \(shortHalves.shape)") { bytes(try shortHalves.logSoftmax(axis: 1).scalars) }
        let smallHalves = try scores(Float16.self, [3, 7, 5])
        add("Float16 logSumExp \(smallHalves.shape) axis 1") { bytes(try smallHalves.logSumExp(axis: 1).scalars) }

        // Backward, and the buffer API in place (the output is the input).
        let y = try rows.softmax(axis: 1)
        let dy = try scores(Float.self, rows.shape)
        add("Float softmaxBackward \(rows.shape)") { bytes(try y.softmaxBackward(gradient: dy, axis: 1).scalars) }
        add("Float logSoftmax in place \(rows.shape)") {
            var data = rows.scalars
            try data.withUnsafeMutableBufferPointer {
                try logSoftmax(UnsafeBufferPointer($0), shape: rows.shape, axis: 1, into: $0)
            }
            return bytes(data)
        }

        // Cross-entropy with class indices: more labels than one decoder chunk (decoded on the
        // pool), strided, Float16 (staged), with every option; and with probability targets.
        let all: CrossEntropyOutputSet = [.gradient, .losses, .probabilities, .logProbabilities]
        let manyRows = try scores(Float.self, [33_000, 4])
        let manyLabels = try labels(Int32.self, 33_000, classes: 4, ignore: -100)
        add("Float crossEntropy indices \(manyRows.shape)") {
            bytes(try crossEntropy(manyRows, classIndices: manyLabels, options: .init(ignoreIndex: -100), outputs: all))
        }
        let segmentation = try scores(Float.self, [2, 21, 56, 56])
        let pixels = try NDArray(
            shape: [2, 56, 56], scalars: try labels(Int64.self, 2 * 56 * 56, classes: 21, ignore: 255).scalars)
        let weights = (0..<21).map { 0.5 + Double($0) / 21 }
        add("Float crossEntropy indices \(segmentation.shape) axis 1") {
            let options = CrossEntropyOptions(ignoreIndex: 255, classWeights: weights, labelSmoothing: 0.1)
            return bytes(try crossEntropy(segmentation, classIndices: pixels, options: options, outputs: all))
        }
        let halfLabels = try labels(Int.self, 44, classes: 3000)
        add("Float16 crossEntropy indices \(halves.shape)") {
            bytes(try crossEntropy(halves, classIndices: halfLabels, options: .init(reduction: .sum), outputs: all))
        }
        let smallScores = try scores(Float.self, [6, 4])
        let floatLabels = try NDArray(shape: [6], scalars: [0, 3, 1, 2, 2, 0] as [Float])
        add("Float crossEntropy float labels \(smallScores.shape)") {
            bytes(try crossEntropy(smallScores, classIndices: floatLabels, outputs: all))
        }
        let soft = try distribution(Double.self, doubles.shape)
        add("Double crossEntropy probabilities \(doubles.shape)") {
            bytes(try crossEntropy(doubles, probabilities: soft, options: .init(labelSmoothing: 0.05), outputs: all))
        }
        let softHalves = try distribution(Float16.self, halves.shape)
        add("Float16 crossEntropy probabilities \(halves.shape)") {
            bytes(try crossEntropy(halves, probabilities: softHalves, outputs: [.gradient, .losses]))
        }
        let smallSoft = try distribution(Float16.self, [6, 5])
        let smallHalfScores = try scores(Float16.self, [6, 5])
        add("Float16 crossEntropy probabilities [6, 5]") {
            bytes(try crossEntropy(smallHalfScores, probabilities: smallSoft, options: .init(reduction: .none)))
        }
        return calls
    }

    /// Many tasks run the calls at once, each under an instruction set of its own choosing (or the
    /// process-wide one), while other tasks keep changing `SoftmaxThreads.maximum` and storing
    /// the process-wide instruction set; every result must match, bit for bit, the same call made
    /// alone beforehand.
    @Test func concurrentCallsMatchSerialBits() async throws {
        let calls = try Self.calls()
        let global = SoftmaxISA.active
        // The serial results, per call and supported instruction set.
        var expected: [[[UInt8]]] = []
        for call in calls {
            expected.append(try SoftmaxISA.supported.map { isa in try SoftmaxISA.withActive(isa) { try call.run() } })
        }
        let want = expected
        // `nil`: no `withActive`, the process-wide set.
        let choices: [SoftmaxISA?] = [nil] + SoftmaxISA.supported

        let workers = 24
        let rounds = 2
        let finished = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Settings changers: the thread cap (results may not depend on it) and the
            // process-wide instruction set, stored with the value it already has so that other
            // tests running meanwhile are not affected.
            for changer in 0..<2 {
                group.addTask {
                    var step = changer
                    while finished.value < workers {
                        SoftmaxThreads.maximum = step % 4
                        SoftmaxISA.active = global
                        step += 1
                        await Task.yield()
                    }
                }
            }
            for worker in 0..<workers {
                group.addTask {
                    defer { finished.increment() }
                    for round in 0..<rounds {
                        let c = (worker * 5 + round * 7) % calls.count
                        let choice = (worker + round) % choices.count
                        let isa = choices[choice]
                        let wanted = want[c][SoftmaxISA.supported.firstIndex(of: isa ?? global)!]
                        let got = try {
                            if let isa {
                                return try SoftmaxISA.withActive(isa) {
                                    #expect(SoftmaxISA.active == isa)
                                    return try calls[c].run()
                                }
                            }
                            return try calls[c].run()
                        }()
                        if got != wanted {
                            let set = isa.map { "\($0)" } ?? "the process-wide set (\(global))"
                            let differing = differingBytes(got, wanted)
                            let message: String =
                                "\(calls[c].name) under \(set): \(differing) of \(got.count) bytes differ from the "
                                + "serial result (worker \(worker), round \(round))"
                            Issue.record(Comment(rawValue: message))
                        }
                        await Task.yield()
                    }
                }
            }
            try await group.waitForAll()
        }
        // The default, not the value seen on entry: other tests save and restore the cap too, and
        // restoring a value one of them had set for a moment would leave it set for the rest of
        // the run.
        SoftmaxThreads.maximum = 0
        #expect(SoftmaxISA.active == global)
    }

    /// Blocks of `StagingPool` are never handed to two callers at once: each task fills its
    /// buffer with its own pattern, lets other tasks run, and finds the pattern intact.
    @Test func stagingPoolBlocksAreExclusive() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<16 {
                group.addTask {
                    var rng = SeededGenerator(seed: UInt64(100 + task))
                    for round in 0..<40 {
                        // Sizes that share kept blocks (within a factor of two) and some that do not.
                        let count = [1000, 1500, 1999, 40_000, 70_000][Int.random(in: 0..<5, using: &rng)]
                        let tag = UInt32(task << 16 | round)
                        let intact = StagingPool.withBuffer(of: UInt32.self, count: count) { buffer in
                            buffer.initialize(repeating: tag)
                            // Give other callers time to take (wrongly) the same block.
                            var spin = 0
                            for i in 0..<20_000 { spin &+= i }
                            return spin != 0 && buffer.allSatisfy { $0 == tag }
                        }
                        #expect(intact, "task \(task) round \(round): \(count) values")
                        await Task.yield()
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// A counter shared by tasks.
private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .acquiring) }
    func increment() { count.wrappingAdd(1, ordering: .releasing) }
}

/// The bytes of an array's elements (bitwise comparison: NaN equals itself, −0 differs from 0).
private func bytes<T>(_ values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}

/// The bytes of everything a cross-entropy call returned.
private func bytes<T>(_ result: CrossEntropyResult<T>) -> [UInt8] {
    withUnsafeBytes(of: result.loss.bitPattern) { Array($0) }
        + [result.losses, result.gradient, result.probabilities, result.logProbabilities].flatMap {
            bytes($0?.scalars ?? [])
        }
}

/// How many bytes differ (or the larger count when the lengths differ).
private func differingBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
    a.count != b.count ? Swift.max(a.count, b.count) : zip(a, b).count { $0 != $1 }
}
