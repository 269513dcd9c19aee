import Softmax
import SoftmaxTestSupport
import Testing

@testable import SoftmaxDistributed

/// The vocabulary-parallel cross-entropy on 1, 2, 3 and 4 ranks (even and uneven shards, an
/// empty one) against `crossEntropy` on the gathered scores: the loss, z-loss and per-position
/// losses on every rank, and each rank's gradient against its columns of the whole gradient.
@Suite("Vocabulary-parallel cross-entropy")
struct VocabParallelCrossEntropyTests {
    static let classes = 37

    static let optionCases: [(String, CrossEntropyOptions)] = [
        ("mean", CrossEntropyOptions(reduction: .mean)),
        ("sum, ignore index", CrossEntropyOptions(reduction: .sum, ignoreIndex: -100)),
        ("none, smoothing", CrossEntropyOptions(reduction: .none, labelSmoothing: 0.1)),
        (
            "weights, smoothing, ignore, loss weight",
            CrossEntropyOptions(
                reduction: .mean, ignoreIndex: 7, classWeights: (0..<classes).map { 0.5 + Double($0 % 5) / 4 },
                labelSmoothing: 0.2, lossWeight: 2.5)
        ),
        ("batch size", CrossEntropyOptions(reduction: .batchSize, ignoreIndex: -100)),
        (
            "temperature, softcap, z-loss",
            CrossEntropyOptions(reduction: .mean, ignoreIndex: -100, temperature: 2, softcap: 5, zLoss: 1e-3)
        ),
        (
            "everything",
            CrossEntropyOptions(
                reduction: .mean, ignoreIndex: -100, classWeights: (0..<classes).map { 1 + Double($0 % 3) },
                labelSmoothing: 0.1, temperature: 0.7, softcap: 30, zLoss: 1e-4)
        ),
    ]

    /// Shards of 37 classes: one rank; two even; three uneven; four with an empty one.
    static let splits: [[Range<Int>]] = [
        [0..<37], [0..<19, 19..<37], [0..<5, 5..<30, 30..<37], [0..<12, 12..<12, 12..<36, 36..<37],
    ]

    struct Problem {
        let n: Int
        let scores: [Double]
        let labels: [Int64]

        init(n: Int, ignore: Int?, seed: UInt64) {
            var generator = SeededGenerator(seed: seed)
            self.n = n
            scores = generator.gaussians(n * VocabParallelCrossEntropyTests.classes, std: 3)
            var labels = (0..<n).map { _ in Int64(generator.next() % UInt64(VocabParallelCrossEntropyTests.classes)) }
            if let ignore { for i in stride(from: 2, to: n, by: 5) { labels[i] = Int64(ignore) } }
            self.labels = labels
        }
    }

    func check<T: VocabParallelScalar>(
        _: T.Type, _ name: String, _ options: CrossEntropyOptions, split: [Range<Int>], problem: Problem
    ) throws {
        let (n, v) = (problem.n, Self.classes)
        let x = problem.scores.map { T($0) }
        // The single-process call on the gathered scores.
        var gradient = [T](repeating: 0, count: n * v)
        var losses = [T](repeating: 0, count: n)
        var zLosses = [T](repeating: 0, count: n)
        var zLoss = 0.0
        var wholeOptions = options
        wholeOptions.axis = 1
        let loss = try x.withUnsafeBufferPointer { xp in
            try problem.labels.withUnsafeBufferPointer { lp in
                try gradient.withUnsafeMutableBufferPointer { g in
                    try losses.withUnsafeMutableBufferPointer { l in
                        try zLosses.withUnsafeMutableBufferPointer { z in
                            try withUnsafeMutablePointer(to: &zLoss) { zp in
                                try crossEntropy(
                                    scores: xp, shape: [n, v], classIndices: lp, options: wholeOptions,
                                    outputs: CrossEntropyOutputs(gradient: g, losses: l, zLosses: z, zLoss: zp))
                            }
                        }
                    }
                }
            }
        }
        // Each rank with its columns and its class weights.
        let results = try LocalCommunicatorGroup.run(size: split.count) { communicator in
            let range = split[communicator.rank]
            let shard = try ClassShard(start: range.lowerBound, count: range.count, totalClasses: v)
            var local = [T]()
            for r in 0..<n { local += x[(r * v + range.lowerBound)..<(r * v + range.upperBound)] }
            var shardOptions = options
            shardOptions.classWeights = options.classWeights.map { Array($0[range]) }
            var g = [T](repeating: .nan, count: n * range.count)
            var l = [T](repeating: .nan, count: n)
            var z = [T](repeating: .nan, count: n)
            let result = try local.withUnsafeBufferPointer { xp in
                try problem.labels.withUnsafeBufferPointer { lp in
                    try g.withUnsafeMutableBufferPointer { gp in
                        try l.withUnsafeMutableBufferPointer { lossp in
                            try z.withUnsafeMutableBufferPointer { zp in
                                try vocabParallelCrossEntropy(
                                    scores: xp, positions: n, shard: shard, classIndices: lp, options: shardOptions,
                                    communicator: communicator,
                                    outputs: VocabParallelOutputs(gradient: gp, losses: lossp, zLosses: zp))
                            }
                        }
                    }
                }
            }
            return (result, g, l, z)
        }
        let tolerance = T.self == Double.self ? 1e-12 : 2e-5
        func close(_ a: Double, _ b: Double, scale: Double) -> Bool { Swift.abs(a - b) <= tolerance * scale }
        let gradientScale = Swift.max(gradient.map { Swift.abs(Double($0)) }.max() ?? 0, 1e-30)
        let lossScale = Swift.max(losses.map { Swift.abs(Double($0)) }.max() ?? 0, 1)
        let what = "\(T.self) \(name), shards \(split)"
        for (rank, (result, g, l, z)) in results.enumerated() {
            #expect(
                close(result.loss, loss, scale: Swift.max(1, Swift.abs(loss))),
                "\(what) rank \(rank): loss \(result.loss) vs \(loss)")
            #expect(
                close(result.zLoss, zLoss, scale: Swift.max(1, Swift.abs(zLoss))),
                "\(what) rank \(rank): z \(result.zLoss) vs \(zLoss)")
            let range = split[rank]
            var worst = 0.0
            for r in 0..<n {
                for (j, c) in range.enumerated() {
                    worst = Swift.max(worst, Swift.abs(Double(g[r * range.count + j]) - Double(gradient[r * v + c])))
                }
            }
            #expect(
                worst <= tolerance * gradientScale, "\(what) rank \(rank): gradient off by \(worst) of \(gradientScale)"
            )
            for p in 0..<n {
                #expect(
                    close(Double(l[p]), Double(losses[p]), scale: lossScale), "\(what) rank \(rank) position \(p): loss"
                )
                #expect(
                    close(Double(z[p]), Double(zLosses[p]), scale: lossScale), "\(what) rank \(rank) position \(p): z")
            }
        }
    }

    @Test(arguments: 0..<optionCases.count)
    func equalsTheGatheredCall(option index: Int) throws {
        let (name, options) = Self.optionCases[index]
        let problem = Problem(n: 29, ignore: options.ignoreIndex, seed: UInt64(40 + index))
        for split in Self.splits {
            try check(Float.self, name, options, split: split, problem: problem)
            try check(Double.self, name, options, split: split, problem: problem)
        }
    }

    /// Enough rows that the threaded driver splits them (64 KiB of scores per piece).
    @Test func manyRows() throws {
        let problem = Problem(n: 3000, ignore: -100, seed: 77)
        let options = CrossEntropyOptions(reduction: .mean, ignoreIndex: -100, labelSmoothing: 0.1, softcap: 10)
        try check(Float.self, "many rows", options, split: Self.splits[2], problem: problem)
    }

    /// Every rank throws the same error for a bad label, before any collective.
    @Test func badInputsAreErrorsOnEveryRank() throws {
        let v = Self.classes
        for labels: [Int64] in [[0, 37], [-1, 0]] {
            #expect(throws: SoftmaxError.self) {
                _ = try LocalCommunicatorGroup.run(size: 2) { communicator in
                    let shard = ClassShard.even(totalClasses: v, rank: communicator.rank, size: 2)
                    let x = [Float](repeating: 0, count: 2 * shard.count)
                    return try x.withUnsafeBufferPointer { xp in
                        try labels.withUnsafeBufferPointer { lp in
                            try vocabParallelCrossEntropy(
                                scores: xp, positions: 2, shard: shard, classIndices: lp,
                                communicator: communicator)
                        }
                    }
                }
            }
        }
        // Scores that do not match N × V_r; shard weights of the wrong length.
        let shard = try ClassShard(start: 0, count: 4, totalClasses: 10)
        let communicator = SingleProcessCommunicator()
        let x = [Float](repeating: 0, count: 7)
        let labels: [Int64] = [1, 2]
        #expect(throws: SoftmaxError.self) {
            try x.withUnsafeBufferPointer { xp in
                try labels.withUnsafeBufferPointer { lp in
                    try vocabParallelCrossEntropy(
                        scores: xp, positions: 2, shard: shard, classIndices: lp, communicator: communicator)
                }
            }
        }
        let y = [Float](repeating: 0, count: 8)
        #expect(throws: SoftmaxError.self) {
            try y.withUnsafeBufferPointer { xp in
                try labels.withUnsafeBufferPointer { lp in
                    try vocabParallelCrossEntropy(
                        scores: xp, positions: 2, shard: shard, classIndices: lp,
                        options: CrossEntropyOptions(classWeights: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
                        communicator: communicator)
                }
            }
        }
    }
}
