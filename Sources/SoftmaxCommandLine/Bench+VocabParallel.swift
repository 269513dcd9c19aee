import Dispatch
import Foundation
import Softmax
import SoftmaxDistributed

extension Bench {
    /// Times a vocabulary-parallel loss on every rank of the world (under `mpirun`; one
    /// process otherwise): `vocab-parallel-cross-entropy` on `N × V` scores, or
    /// `vocab-parallel-linear-cross-entropy` on `N × D` hidden states and a `V × D` weight,
    /// each rank holding its even shard of the `V` classes.  Returns rank 0's report (one line
    /// per rank: median time, allreduce time, calls and bytes per call, extra peak memory);
    /// other ranks return an empty string.
    func benchVocabParallel(_ shape: [Int]) throws -> String {
        let world = World.communicator
        switch dtype {
        case .float64: return try benchVocabParallel(Double.self, shape, world)
        default: return try benchVocabParallel(Float.self, shape, world)
        }
    }

    private func benchVocabParallel<T: VocabParallelScalar>(
        _: T.Type, _ shape: [Int], _ world: any Communicator
    ) throws -> String {
        let linear = op == .vocabParallelLinearCrossEntropy
        if op == .allReduce { return try benchAllReduce(T.self, count: shape[0], world) }
        let (n, d, v) = linear ? (shape[0], shape[1], shape[2]) : (shape[0], 0, shape[1])
        let shard = ClassShard.even(totalClasses: v, rank: world.rank, size: world.size)
        let size = MemoryLayout<T>.stride
        let count = { (a: Int, b: Int) in ResourceLimits.bytes(count: a, size: b) }
        // Inputs and outputs: scores and gradient, or hidden, dHidden, weight and dWeight.
        let arrays =
            linear
            ? ResourceLimits.bytes(
                adding: ResourceLimits.bytes(count: count(n, d), size: 2 * size),
                ResourceLimits.bytes(count: count(shard.count, d), size: 2 * size))
            : ResourceLimits.bytes(count: count(n, shard.count), size: 2 * size)
        try ResourceLimits.check(arrays, for: "benchmarking \(op.rawValue) \(self.shape) on rank \(world.rank)")
        let peakBefore = Self.peakResidentBytes()
        // Labels the same on every rank; each rank's own numbers for its shard.
        var labelGenerator = SplitMix64(seed: 0x5EED)
        let labels = (0..<n).map { _ in Int32.random(in: 0..<Int32(v), using: &labelGenerator) }
        var generator = SplitMix64(seed: 0x5EED &+ UInt64(world.rank) &+ 1)
        func filled(_ count: Int, _ scale: Float) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count { buffer[i] = T(Float.random(in: -scale...scale, using: &generator)) }
                initialized = count
            }
        }
        let options = lossOptions(axis: -1)
        let measured = MeasuredCommunicator(world)
        var median = 0.0
        if linear {
            let hidden = filled(n * d, 1)
            let weight = filled(shard.count * d, 0.05)
            var dHidden = [T](repeating: 0, count: n * d)
            var dWeight = [T](repeating: 0, count: shard.count * d)
            try hidden.withUnsafeBufferPointer { h in
                try weight.withUnsafeBufferPointer { w in
                    try labels.withUnsafeBufferPointer { t in
                        try dHidden.withUnsafeMutableBufferPointer { dh in
                            try dWeight.withUnsafeMutableBufferPointer { dw in
                                median = try timed(measured) {
                                    _ = try vocabParallelLinearCrossEntropy(
                                        hidden: h, hiddenShape: [n, d], weight: w, weightShape: [shard.count, d],
                                        shard: shard, classIndices: t, options: options, communicator: measured,
                                        outputs: LinearCrossEntropyOutputs(hiddenGradient: dh, weightGradient: dw),
                                        memoryBudget: memoryBudget)
                                }
                            }
                        }
                    }
                }
            }
        } else {
            let scores = filled(n * shard.count, 4)
            var gradient = [T](repeating: 0, count: n * shard.count)
            try scores.withUnsafeBufferPointer { x in
                try labels.withUnsafeBufferPointer { t in
                    try gradient.withUnsafeMutableBufferPointer { g in
                        median = try timed(measured) {
                            _ = try vocabParallelCrossEntropy(
                                scores: x, positions: n, shard: shard, classIndices: t, options: options,
                                communicator: measured, outputs: VocabParallelOutputs(gradient: g))
                        }
                    }
                }
            }
        }
        let extraMiB = Double(Swift.max(0, Self.peakResidentBytes() - peakBefore - arrays)) / 1048576
        let calls = Double(repeats)
        // Every rank's figures, gathered on all by one allreduce of a slot per rank.
        let fields = 6
        var figures = [Double](repeating: 0, count: world.size * fields)
        let mine = [
            median, measured.allReduceSeconds / calls, Double(measured.allReduceCalls) / calls,
            Double(measured.allReduceBytes) / calls, extraMiB, Double(shard.count),
        ]
        for (i, value) in mine.enumerated() { figures[world.rank * fields + i] = value }
        try world.allReduce(&figures, .sum)
        guard world.isRoot else { return "" }
        let flops = linear ? 6 * Double(n) * Double(d) * Double(v) : 0
        var lines: [String] = []
        for rank in 0..<world.size {
            let f = Array(figures[(rank * fields)..<((rank + 1) * fields)])
            let shapeText = shape.map(String.init).joined(separator: "x")
            if json {
                lines.append(
                    "{\"op\": \"\(op.rawValue)\", \"shape\": \"\(shapeText)\", \"dtype\": \"\(dtype.rawValue)\", "
                        + "\"ranks\": \(world.size), \"rank\": \(rank), \"classes\": \(Int(f[5])), "
                        + "\"threads\": \(SoftmaxThreads.effective)\(lossOptionsJSON), "
                        + "\"median_ms\": \(String(format: "%.6g", f[0] * 1e3)), "
                        + "\"allreduce_ms\": \(String(format: "%.6g", f[1] * 1e3)), "
                        + "\"allreduce_calls\": \(Int(f[2])), \"allreduce_bytes\": \(Int(f[3])), "
                        + "\"extra_peak_mib\": \(String(format: "%.1f", f[4]))"
                        + (linear ? ", \"gflops_all_ranks\": \(String(format: "%.6g", flops / f[0] / 1e9))" : "")
                        + "}")
            } else {
                lines.append(
                    String(
                        format: "%@ %@ %@ rank %d of %d (%d classes) threads %d%@: median %.2f ms, allreduce %.2f ms "
                            + "(%d calls, %d bytes), extra peak %.1f MiB",
                        op.rawValue, shapeText, dtype.rawValue, rank, world.size, Int(f[5]), SoftmaxThreads.effective,
                        lossOptionsText, f[0] * 1e3, f[1] * 1e3, Int(f[2]), Int(f[3]), f[4]))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The median seconds of a sum-allreduce of `count` values over the world (each run after
    /// a barrier); rank 0's report line.
    private func benchAllReduce<T: VocabParallelScalar>(
        _: T.Type, count: Int, _ world: any Communicator
    ) throws -> String {
        try ResourceLimits.check(
            ResourceLimits.bytes(count: count, size: MemoryLayout<T>.stride), for: "benchmarking allreduce of \(count)")
        var values = [T](repeating: 1, count: count)
        let mine = try values.withUnsafeMutableBufferPointer { buffer in
            try medianSeconds(beforeEach: world.barrier) { try T.allReduce(buffer, .sum, on: world) }
        }
        // The slowest rank's median: the collective ends for all when it ends for the last.
        var median = [mine]
        try world.allReduce(&median, .maximum)
        guard world.isRoot else { return "" }
        let bytes = count * MemoryLayout<T>.stride
        if json {
            return
                "{\"op\": \"allreduce\", \"count\": \(count), \"bytes\": \(bytes), \"dtype\": \"\(dtype.rawValue)\", "
                + "\"ranks\": \(world.size), \"median_us\": \(String(format: "%.6g", median[0] * 1e6))}"
        }
        return String(
            format: "allreduce %d %@ (%d bytes) over %d ranks: median %.2f µs, %.3f GB/s of buffer", count,
            dtype.rawValue, bytes, world.size, median[0] * 1e6, Double(bytes) / median[0] / 1e9)
    }

    /// The median seconds of `repeats` runs after a warm-up, every rank starting each run
    /// together (a barrier before it); the counts of `measured` cover the timed runs only.
    private func timed(_ measured: MeasuredCommunicator, _ body: () throws -> Void) throws -> Double {
        try medianSeconds(beforeEach: measured.barrier, afterWarmUp: measured.reset, body)
    }
}
