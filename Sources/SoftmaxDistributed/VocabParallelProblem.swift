import Foundation
import Softmax
import SoftmaxKernels

/// The sizes and options of one vocabulary-parallel cross-entropy call, checked, and its
/// computation in the compute type.
struct VocabParallelProblem {
    /// `N`.
    let positions: Int
    /// This rank's classes.
    let shard: ClassShard
    /// The call's options (class weights: the shard's).
    let options: CrossEntropyOptions

    /// Checks sizes and options before any collective.
    ///
    /// - Throws: `SoftmaxError` naming the first problem.
    init(
        positions: Int, shard: ClassShard, scoreCount: Int, targetCount: Int, options: CrossEntropyOptions,
        elementSize: Int
    ) throws {
        guard positions >= 0 else {
            throw SoftmaxError.invalidShape(shape: [positions, shard.count], reason: "positions must be at least 0")
        }
        guard shard.totalClasses <= Int(Int32.max) else {
            throw SoftmaxError.invalidShape(
                shape: [positions, shard.totalClasses], reason: "more than \(Int32.max) classes")
        }
        let (count, overflow) = positions.multipliedReportingOverflow(by: shard.count)
        guard !overflow else {
            throw SoftmaxError.invalidShape(shape: [positions, shard.count], reason: "too many elements")
        }
        try checkCount(scoreCount, count, "scores")
        try checkCount(targetCount, positions, "targets")
        guard options.input == .logits else {
            throw SoftmaxError.invalidOption(
                name: "input", value: options.input.rawValue,
                reason: "the vocabulary-parallel cross-entropy takes logits")
        }
        try options.validate(classes: shard.count)
        if elementSize == MemoryLayout<Double>.stride {
            try options.validateLimits(computingIn: Double.self)
        } else {
            try options.validateLimits(computingIn: Float.self)
        }
        self.init(checked: positions, shard, options)
    }

    private init(checked positions: Int, _ shard: ClassShard, _ options: CrossEntropyOptions) {
        self.positions = positions
        self.shard = shard
        self.options = options
    }

    /// The same call on `rows` of its positions (a chunk of a larger batch), without checking
    /// the options again.
    func chunk(rows: Int) -> VocabParallelProblem {
        precondition((0...positions).contains(rows), "a chunk lies within the batch")
        return VocabParallelProblem(checked: rows, shard, options)
    }

    /// The loss's and the z-loss's denominators (`LossReduction.denominator`, `zDenominator`)
    /// of a batch of `positions` rows over the whole vocabulary, of which `activeCount` are
    /// not ignored and whose targets' weights sum to `targetWeightSum` (over every shard).
    func denominators(activeCount: Int, targetWeightSum: Double) -> (loss: Double, z: Double) {
        let layout = Layout(outer: positions, classes: shard.totalClasses, inner: 1)
        return (
            options.reduction.denominator(
                layout: layout, targetWeightSum: options.classWeights == nil ? Double(activeCount) : targetWeightSum),
            options.reduction.zDenominator(layout: layout, activeCount: activeCount)
        )
    }

    /// Throws unless every requested output has its size.
    func checkOutputs<T>(_ outputs: VocabParallelOutputs<T>) throws {
        if let g = outputs.gradient { try checkCount(g.count, positions * shard.count, "gradient output") }
        if let l = outputs.losses { try checkCount(l.count, positions, "loss output") }
        if let z = outputs.zLosses { try checkCount(z.count, positions, "z-loss output") }
    }

    /// Checks every global label (`0..<totalClasses` or the ignore index) and writes the
    /// shard-local class: `label − start` inside the shard, `shard.count` in another shard,
    /// −1 ignored.
    func decode<L: ClassLabel>(_ labels: UnsafeBufferPointer<L>, into local: UnsafeMutablePointer<Int32>) throws {
        var checking = options
        checking.classWeights = nil  // the shard's; the decoder would index them globally
        _ = try decodeClassIndices(
            labels, into: local, classes: shard.totalClasses, options: checking, targetShape: [positions])
        let start = Int32(shard.start)
        let end = Int32(shard.start + shard.count)
        let elsewhere = Int32(shard.count)
        for p in 0..<positions {
            let t = local[p]
            if t >= 0 { local[p] = t >= start && t < end ? t - start : elsewhere }
        }
    }
}

extension VocabParallelProblem {
    /// Rows per piece of threaded work: about 64 KiB of scores, at least one row.
    private func rowsPerPiece(elementSize: Int) -> Int {
        Swift.max(1, (64 << 10) / Swift.max(1, shard.count * elementSize))
    }

    /// Runs `body` over every row range of `0..<positions`, threaded like the package's
    /// other calls (`SoftmaxThreads`).
    private func forEachPiece(elementSize: Int, _ body: (Range<Int>) -> Void) {
        let rows = rowsPerPiece(elementSize: elementSize)
        let pieces = (positions + rows - 1) / rows
        WorkerPool.shared.run(iterations: pieces, threads: SoftmaxThreads.effective) { i in
            body((i * rows)..<Swift.min((i + 1) * rows, positions))
        }
    }

    /// The reduced loss in the compute type `S` (`sums` with this call's own denominators).
    func run<S: KernelTableScalar & CommunicatorScalar>(
        scores given: UnsafePointer<S>?, targets: [Int32], communicator: any Communicator,
        outputs: VocabParallelOutputs<S>
    ) throws -> DistributedLoss {
        let (sums, task) = try targets.withUnsafeBufferPointer {
            try self.sums(
                scores: given, targets: $0.baseAddress, communicator: communicator, outputs: outputs, denominators: nil)
        }
        let reduced = task.reduced(sums)
        return DistributedLoss(loss: reduced.loss, zLoss: reduced.zLoss)
    }

    /// Σ losses and z terms in the compute type `S`: local normalisers, allreduce of the
    /// maxima, rescaled sums and target weights allreduced, each shard's part of every row's
    /// loss and its gradient, allreduce of the losses.  The gradient may be the scores
    /// (in place).
    ///
    /// - Parameters:
    ///   - targets: `positions` shard-local targets (`decode`).
    ///   - denominators: The loss's and z-loss's, when the rows are a chunk of a larger batch;
    ///     `nil`: this call's own.
    /// - Returns: The sums (not divided) and the task whose denominators divide them.
    func sums<S: KernelTableScalar & CommunicatorScalar>(
        scores given: UnsafePointer<S>?, targets: UnsafePointer<Int32>?, communicator: any Communicator,
        outputs: VocabParallelOutputs<S>, denominators: (loss: Double, z: Double)?
    ) throws -> (LossSums, CrossEntropyTask) {
        let targets = UnsafeBufferPointer(start: targets, count: positions)
        let (n, v) = (positions, shard.count)
        let kernels = S.kernels
        let size = MemoryLayout<S>.stride
        let transform = options.logitTransform(S.self)
        // Transformed scores (temperature, softcap) in a scratch copy: the normaliser and the
        // loss both read them, with an allreduce between.
        var transformed = [S]()
        if !transform.isIdentity, n * v > 0, let given {
            transformed = [S](unsafeUninitializedCapacity: n * v) { buffer, count in
                let out = buffer.baseAddress!
                forEachPiece(elementSize: size) { rows in
                    kernels.transformLogits(
                        given + rows.lowerBound * v, out + rows.lowerBound * v, rows.count * v, transform)
                }
                count = n * v
            }
        }
        return try transformed.withUnsafeBufferPointer { transformedBuffer in
            let x = transform.isIdentity ? given : transformedBuffer.baseAddress.map { UnsafePointer($0) }
            // 1. Each row's maximum over the group.
            var maxima = [S](repeating: -.infinity, count: n)
            var sums = [S](repeating: 0, count: n + n + 1)
            if v > 0, n > 0, let x {
                maxima.withUnsafeMutableBufferPointer { m in
                    sums.withUnsafeMutableBufferPointer { s in
                        let (mp, sp) = (m.baseAddress!, s.baseAddress!)
                        forEachPiece(elementSize: size) { kernels.rowNormalizers(x, v, $0, mp, sp) }
                    }
                }
            }
            let localMaxima = maxima
            try communicator.allReduce(&maxima, .maximum)
            // 2. The sums rescaled to the group's shift, the target's weight (one rank holds
            // it), and the shard's Σ w_c: one allreduce.
            let weights = options.classWeights.map { $0.map { S($0) } }
            for p in 0..<n {
                let shift = maxima[p] == -.infinity ? 0 : maxima[p]
                let own = localMaxima[p] == -.infinity ? S(0) : localMaxima[p]
                sums[p] = sums[p] == 0 ? 0 : sums[p] * S.scalarExp(own - shift)
                let t = Int(targets[p])
                sums[n + p] = t >= 0 && t < v ? (weights?[t] ?? 1) : 0
            }
            sums[2 * n] = weights.map { $0.reduce(0, +) } ?? S(v)
            try communicator.allReduce(&sums, .sum)
            // 3. Denominators and parameters, the same on every rank.
            var targetWeightSum = 0.0
            var active = 0
            for p in 0..<n where targets[p] >= 0 {
                targetWeightSum += Double(sums[n + p])
                active += 1
            }
            let divide = denominators ?? self.denominators(activeCount: active, targetWeightSum: targetWeightSum)
            let task = CrossEntropyTask(
                layout: Layout(outer: n, classes: v, inner: 1), targets: nil, options: options,
                denominator: divide.loss, zDenominator: divide.z)
            var losses = [S](repeating: 0, count: n)
            if v > 0, n > 0, let x {
                task.withParameters(S.self) { base in
                    var parameters = base
                    parameters.weightSum = sums[2 * n]
                    parameters.smoothingClasses = shard.totalClasses
                    losses.withUnsafeMutableBufferPointer { l in
                        maxima.withUnsafeBufferPointer { m in
                            sums.withUnsafeBufferPointer { s in
                                let (lp, mp, sp) = (l.baseAddress!, m.baseAddress!, s.baseAddress!)
                                let (tp, g) = (targets.baseAddress!, outputs.gradient?.baseAddress)
                                forEachPiece(elementSize: size) { rows in
                                    kernels.crossEntropyGivenNormalizers(
                                        x, tp, rows, parameters, g, mp, sp, sp + n, lp, nil)
                                }
                                // Chain rule through the transform, in place.
                                if let g, !transform.isIdentity {
                                    forEachPiece(elementSize: size) { rows in
                                        let start = rows.lowerBound * v
                                        kernels.chainLogitGradient(
                                            g + start, x + start, g + start, rows.count * v, transform)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // 4. Each row's loss: the sum of the shards' parts.
            try communicator.allReduce(&losses, .sum)
            var lossSum = 0.0
            var zSum = 0.0
            for p in 0..<n {
                var z = 0.0
                if targets[p] >= 0 && options.zLoss != 0 && sums[p] != 0 {
                    let lse = Double(maxima[p]) + log(Double(sums[p]))
                    z = options.zLoss * lse * lse
                }
                // As `crossEntropy`: the per-position losses include the z terms.
                outputs.losses?[p] = S(Double(losses[p]) + z)
                outputs.zLosses?[p] = S(z)
                lossSum += Double(losses[p])
                zSum += z
            }
            return (LossSums(crossEntropy: lossSum, z: zSum), task)
        }
    }
}
