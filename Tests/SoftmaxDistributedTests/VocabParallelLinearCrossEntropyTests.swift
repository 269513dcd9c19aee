import Softmax
import SoftmaxTestSupport
import Testing

@testable import SoftmaxDistributed

/// The vocabulary-parallel linear cross-entropy on 1, 2, 3 and 4 ranks (uneven shards, an
/// empty one, chunk budgets that differ between ranks) against `linearCrossEntropy` with the
/// gathered weight and bias: the loss, `dHidden` on every rank, each rank's rows of `dWeight`
/// and `dBias`, the per-position losses.
@Suite("Vocabulary-parallel linear cross-entropy")
struct VocabParallelLinearCrossEntropyTests {
    static let (n, d, v) = (23, 9, 31)

    static let optionCases: [(String, CrossEntropyOptions)] = [
        ("mean", CrossEntropyOptions(reduction: .mean)),
        ("sum, ignore, smoothing", CrossEntropyOptions(reduction: .sum, ignoreIndex: -100, labelSmoothing: 0.1)),
        (
            "weights, none, transforms, z-loss",
            CrossEntropyOptions(
                reduction: .none, ignoreIndex: -100, classWeights: (0..<v).map { 0.5 + Double($0 % 4) / 3 },
                temperature: 1.5, softcap: 4, zLoss: 1e-3)
        ),
        (
            "weights, mean, smoothing, loss weight",
            CrossEntropyOptions(
                reduction: .mean, ignoreIndex: -100, classWeights: (0..<v).map { 1 + Double($0 % 3) },
                labelSmoothing: 0.2, lossWeight: 0.5, zLoss: 1e-4)
        ),
    ]

    static let splits: [[Range<Int>]] = [
        [0..<31], [0..<16, 16..<31], [0..<3, 3..<20, 20..<31], [0..<9, 9..<9, 9..<30, 30..<31],
    ]

    func check<T: VocabParallelScalar>(_: T.Type, _ name: String, _ options: CrossEntropyOptions, split: [Range<Int>])
        throws
    {
        let (n, d, v) = (Self.n, Self.d, Self.v)
        var generator = SeededGenerator(seed: 91)
        let hidden = generator.gaussians(n * d).map { T($0) }
        let weight = generator.gaussians(v * d, std: 0.7).map { T($0) }
        let bias = generator.gaussians(v, std: 0.3).map { T($0) }
        var labels = (0..<n).map { _ in Int64(generator.next() % UInt64(v)) }
        for i in stride(from: 1, to: n, by: 4) { labels[i] = -100 }
        if options.ignoreIndex == nil { labels = labels.map { $0 < 0 ? 0 : $0 } }
        // The single-process call with everything.
        var dHidden = [T](repeating: 0, count: n * d)
        var dWeight = [T](repeating: 0, count: v * d)
        var dBias = [T](repeating: 0, count: v)
        var losses = [T](repeating: 0, count: n)
        let loss = try hidden.withUnsafeBufferPointer { h in
            try weight.withUnsafeBufferPointer { w in
                try bias.withUnsafeBufferPointer { b in
                    try labels.withUnsafeBufferPointer { l in
                        try dHidden.withUnsafeMutableBufferPointer { dh in
                            try dWeight.withUnsafeMutableBufferPointer { dw in
                                try dBias.withUnsafeMutableBufferPointer { db in
                                    try losses.withUnsafeMutableBufferPointer { lp in
                                        try linearCrossEntropy(
                                            hidden: h, hiddenShape: [n, d], weight: w, weightShape: [v, d], bias: b,
                                            classIndices: l, options: options,
                                            outputs: LinearCrossEntropyOutputs(
                                                hiddenGradient: dh, weightGradient: dw, biasGradient: db, losses: lp),
                                            memoryBudget: 5 * v * MemoryLayout<T>.stride)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let results = try LocalCommunicatorGroup.run(size: split.count) { communicator in
            let range = split[communicator.rank]
            let shard = try ClassShard(start: range.lowerBound, count: range.count, totalClasses: v)
            let localWeight = Array(weight[(range.lowerBound * d)..<(range.upperBound * d)])
            let localBias = Array(bias[range])
            var shardOptions = options
            shardOptions.classWeights = options.classWeights.map { Array($0[range]) }
            var dh = [T](repeating: .nan, count: n * d)
            var dw = [T](repeating: .nan, count: range.count * d)
            var db = [T](repeating: .nan, count: range.count)
            var lp = [T](repeating: .nan, count: n)
            // Budgets that differ per rank: 2, 3, 4 ... rows of this rank's classes.
            let budget = Swift.max(1, (2 + communicator.rank) * range.count * MemoryLayout<T>.stride)
            let result = try hidden.withUnsafeBufferPointer { h in
                try localWeight.withUnsafeBufferPointer { w in
                    try localBias.withUnsafeBufferPointer { b in
                        try labels.withUnsafeBufferPointer { l in
                            try dh.withUnsafeMutableBufferPointer { dhp in
                                try dw.withUnsafeMutableBufferPointer { dwp in
                                    try db.withUnsafeMutableBufferPointer { dbp in
                                        try lp.withUnsafeMutableBufferPointer { lpp in
                                            try vocabParallelLinearCrossEntropy(
                                                hidden: h, hiddenShape: [n, d], weight: w,
                                                weightShape: [range.count, d],
                                                bias: b, shard: shard, classIndices: l, options: shardOptions,
                                                communicator: communicator,
                                                outputs: LinearCrossEntropyOutputs(
                                                    hiddenGradient: dhp, weightGradient: dwp, biasGradient: dbp,
                                                    losses: lpp),
                                                memoryBudget: budget)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (result, dh, dw, db, lp)
        }
        let tolerance = T.self == Double.self ? 1e-11 : 3e-5
        func worst(_ got: some Sequence<T>, _ want: some Sequence<T>) -> Double {
            let pairs = Array(zip(got, want))
            let scale = Swift.max(pairs.map { Swift.abs(Double($0.1)) }.max() ?? 0, 1e-30)
            return pairs.map { Swift.abs(Double($0.0) - Double($0.1)) / scale }.max() ?? 0
        }
        let what = "\(T.self) \(name), shards \(split)"
        for (rank, (result, dh, dw, db, lp)) in results.enumerated() {
            let range = split[rank]
            #expect(
                Swift.abs(result.loss - loss) <= tolerance * Swift.max(1, Swift.abs(loss)),
                "\(what) rank \(rank): loss \(result.loss) vs \(loss)")
            #expect(worst(dh, dHidden) <= tolerance, "\(what) rank \(rank): dHidden off by \(worst(dh, dHidden))")
            let wantRows = Array(dWeight[(range.lowerBound * d)..<(range.upperBound * d)])
            if !range.isEmpty {
                #expect(worst(dw, wantRows) <= tolerance, "\(what) rank \(rank): dWeight off by \(worst(dw, wantRows))")
                #expect(worst(db, Array(dBias[range])) <= tolerance, "\(what) rank \(rank): dBias")
            }
            #expect(worst(lp, losses) <= tolerance, "\(what) rank \(rank): losses off by \(worst(lp, losses))")
        }
    }

    @Test(arguments: 0..<optionCases.count)
    func equalsTheGatheredCall(option index: Int) throws {
        let (name, options) = Self.optionCases[index]
        for split in Self.splits {
            try check(Float.self, name, options, split: split)
            try check(Double.self, name, options, split: split)
        }
    }

    @Test func aWeightThatIsNotTheShardIsRefused() throws {
        let shard = try ClassShard(start: 0, count: 4, totalClasses: 10)
        let hidden = [Float](repeating: 0, count: 6)
        let weight = [Float](repeating: 0, count: 15)
        let labels: [Int64] = [1, 2]
        #expect(throws: SoftmaxError.self) {
            try hidden.withUnsafeBufferPointer { h in
                try weight.withUnsafeBufferPointer { w in
                    try labels.withUnsafeBufferPointer { l in
                        try vocabParallelLinearCrossEntropy(
                            hidden: h, hiddenShape: [2, 3], weight: w, weightShape: [5, 3], shard: shard,
                            classIndices: l, communicator: SingleProcessCommunicator())
                    }
                }
            }
        }
    }
}
