// `softmax-distributed-check`: the vocabulary-parallel losses on the ranks of an MPI job
// against the single-process calls, for CI (`mpirun -np K softmax-distributed-check`).
//
// Every rank generates the same problem from a seed, computes the single-process loss and
// gradients on the whole vocabulary itself, and compares its shard of the distributed result
// with them; shards are uneven (rank r holds a share proportional to r + 1).  Rank 0 prints a
// line per case; the exit status is 1 on every rank when any rank saw a difference beyond
// rounding.  Built without the MPI trait (or not under mpirun) it runs the same checks on
// 1, 2 and 3 ranks as threads.
import Foundation
import Softmax
import SoftmaxDistributed

/// Classes `r` of `size` ranks holds: shares proportional to `r + 1`.
func unevenShard(totalClasses v: Int, rank r: Int, size k: Int) throws -> ClassShard {
    let whole = k * (k + 1) / 2
    let start = v * (r * (r + 1) / 2) / whole
    let end = v * ((r + 1) * (r + 2) / 2) / whole
    return try ClassShard(start: start, count: end - start, totalClasses: v)
}

/// The largest difference between `got` and `want`, relative to `want`'s largest magnitude.
func relativeError<T: BinaryFloatingPoint>(_ got: [T], _ want: [T]) -> Double {
    let scale = Swift.max(want.map { Swift.abs(Double($0)) }.max() ?? 0, 1e-30)
    return zip(got, want).map { Swift.abs(Double($0) - Double($1)) / scale }.max() ?? 0
}

let classes = 1000
let optionSets: [(String, CrossEntropyOptions)] = [
    ("mean", CrossEntropyOptions(reduction: .mean)),
    ("sum, ignore index, smoothing", CrossEntropyOptions(reduction: .sum, ignoreIndex: -100, labelSmoothing: 0.1)),
    (
        "weights, smoothing, loss weight, temperature, softcap, z-loss",
        CrossEntropyOptions(
            reduction: .mean, ignoreIndex: -100, classWeights: (0..<classes).map { 0.5 + Double($0 % 7) / 6 },
            labelSmoothing: 0.1, lossWeight: 2, temperature: 1.3, softcap: 20, zLoss: 1e-4)
    ),
]

/// One case on `communicator`: returns the worst relative error over loss and outputs.
func checkCrossEntropy<T: VocabParallelScalar>(
    _: T.Type, _ options: CrossEntropyOptions, communicator: any Communicator
) throws -> Double {
    let (n, v) = (300, classes)
    var generator = SplitMix64(seed: 2024)
    let scores = (0..<(n * v)).map { _ in T(generator.gaussian(std: 3)) }
    let labels = (0..<n).map { i in i % 7 == 3 ? Int64(-100) : Int64(generator.next() % UInt64(v)) }
    var gradient = [T](repeating: 0, count: n * v)
    var whole = options
    whole.axis = 1
    if whole.ignoreIndex == nil { whole.ignoreIndex = -100 }
    let loss = try scores.withUnsafeBufferPointer { x in
        try labels.withUnsafeBufferPointer { t in
            try gradient.withUnsafeMutableBufferPointer { g in
                try crossEntropy(
                    scores: x, shape: [n, v], classIndices: t, options: whole, outputs: CrossEntropyOutputs(gradient: g)
                )
            }
        }
    }
    let shard = try unevenShard(totalClasses: v, rank: communicator.rank, size: communicator.size)
    var local = [T]()
    for r in 0..<n { local += scores[(r * v + shard.start)..<(r * v + shard.start + shard.count)] }
    var shardOptions = whole
    shardOptions.classWeights = options.classWeights.map { Array($0[shard.range]) }
    var localGradient = [T](repeating: .nan, count: n * shard.count)
    let result = try local.withUnsafeBufferPointer { x in
        try labels.withUnsafeBufferPointer { t in
            try localGradient.withUnsafeMutableBufferPointer { g in
                try vocabParallelCrossEntropy(
                    scores: x, positions: n, shard: shard, classIndices: t, options: shardOptions,
                    communicator: communicator, outputs: VocabParallelOutputs(gradient: g))
            }
        }
    }
    var want = [T]()
    for r in 0..<n { want += gradient[(r * v + shard.start)..<(r * v + shard.start + shard.count)] }
    return Swift.max(Swift.abs(result.loss - loss) / Swift.max(1, Swift.abs(loss)), relativeError(localGradient, want))
}

/// One linear case on `communicator`: returns the worst relative error.
func checkLinear<T: VocabParallelScalar>(
    _: T.Type, _ options: CrossEntropyOptions, communicator: any Communicator
) throws -> Double {
    let (n, d, v) = (97, 24, classes)
    var generator = SplitMix64(seed: 4048)
    let hidden = (0..<(n * d)).map { _ in T(generator.gaussian(std: 1)) }
    let weight = (0..<(v * d)).map { _ in T(generator.gaussian(std: 0.5)) }
    let labels = (0..<n).map { i in i % 5 == 1 ? Int64(-100) : Int64(generator.next() % UInt64(v)) }
    var whole = options
    if whole.ignoreIndex == nil { whole.ignoreIndex = -100 }
    var dHidden = [T](repeating: 0, count: n * d)
    var dWeight = [T](repeating: 0, count: v * d)
    let loss = try hidden.withUnsafeBufferPointer { h in
        try weight.withUnsafeBufferPointer { w in
            try labels.withUnsafeBufferPointer { t in
                try dHidden.withUnsafeMutableBufferPointer { dh in
                    try dWeight.withUnsafeMutableBufferPointer { dw in
                        try linearCrossEntropy(
                            hidden: h, hiddenShape: [n, d], weight: w, weightShape: [v, d], classIndices: t,
                            options: whole, outputs: LinearCrossEntropyOutputs(hiddenGradient: dh, weightGradient: dw))
                    }
                }
            }
        }
    }
    let shard = try unevenShard(totalClasses: v, rank: communicator.rank, size: communicator.size)
    let localWeight = Array(weight[(shard.start * d)..<((shard.start + shard.count) * d)])
    var shardOptions = whole
    shardOptions.classWeights = options.classWeights.map { Array($0[shard.range]) }
    var localHidden = [T](repeating: .nan, count: n * d)
    var localWeightGradient = [T](repeating: .nan, count: shard.count * d)
    // Budgets that differ per rank: chunks of 10, 20, 30… rows of this rank's classes.
    let budget = Swift.max(1, 10 * (communicator.rank + 1) * shard.count * MemoryLayout<T>.stride)
    let result = try hidden.withUnsafeBufferPointer { h in
        try localWeight.withUnsafeBufferPointer { w in
            try labels.withUnsafeBufferPointer { t in
                try localHidden.withUnsafeMutableBufferPointer { dh in
                    try localWeightGradient.withUnsafeMutableBufferPointer { dw in
                        try vocabParallelLinearCrossEntropy(
                            hidden: h, hiddenShape: [n, d], weight: w, weightShape: [shard.count, d], shard: shard,
                            classIndices: t, options: shardOptions, communicator: communicator,
                            outputs: LinearCrossEntropyOutputs(hiddenGradient: dh, weightGradient: dw),
                            memoryBudget: budget)
                    }
                }
            }
        }
    }
    let wantRows = Array(dWeight[(shard.start * d)..<((shard.start + shard.count) * d)])
    return [
        Swift.abs(result.loss - loss) / Swift.max(1, Swift.abs(loss)), relativeError(localHidden, dHidden),
        relativeError(localWeightGradient, wantRows),
    ].max()!
}

/// Every case on `communicator`; rank 0 prints; returns the number of failed cases (the same
/// on every rank).
func runChecks(_ communicator: any Communicator) throws -> Int {
    var failures = 0
    for (name, options) in optionSets {
        for (kind, float, double) in [
            (
                "cross-entropy", try checkCrossEntropy(Float.self, options, communicator: communicator),
                try checkCrossEntropy(Double.self, options, communicator: communicator)
            ),
            (
                "linear cross-entropy", try checkLinear(Float.self, options, communicator: communicator),
                try checkLinear(Double.self, options, communicator: communicator)
            ),
        ] {
            // The worst rank's errors, on every rank.
            var worst = [float, double]
            try communicator.allReduce(&worst, .maximum)
            let ok = worst[0] <= 3e-5 && worst[1] <= 1e-11
            if !ok { failures += 1 }
            if communicator.isRoot {
                print(
                    String(
                        format: "%@ vocabulary-parallel %@, %@, %d ranks: worst error float32 %.2g, float64 %.2g",
                        ok ? "ok  " : "FAIL", kind, name, communicator.size, worst[0], worst[1]))
            }
        }
    }
    return failures
}

var failures = 0
do {
    #if MPI
        if MPICommunicator.isLaunchedByMPI {
            let world = try MPICommunicator.start()
            failures = try runChecks(world)
            world.finish()
            exit(failures == 0 ? 0 : 1)
        }
    #endif
    print("not under mpirun (or built without --traits MPI): ranks as threads")
    for size in 1...3 {
        failures += try LocalCommunicatorGroup.run(size: size) { try runChecks($0) }[0]
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(2)
}
exit(failures == 0 ? 0 : 1)
