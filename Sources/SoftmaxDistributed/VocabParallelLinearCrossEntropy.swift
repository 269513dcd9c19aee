import Softmax
import SoftmaxKernels

/// The fused linear cross-entropy with the weight's rows (the vocabulary) split across the
/// ranks of `communicator`: each rank holds `weight [V_r, D]` (and `bias [V_r]`) of its
/// classes `shard` and the whole `hidden [N, D]`; the labels are global.
///
/// Per chunk of rows, each rank forms its `[rows, V_r]` logits, the vocabulary-parallel
/// cross-entropy turns them into its shard of the gradient (three allreduces of `rows`
/// values), and the backward products follow: `dWeight` and `dBias` stay local, and the
/// partial `dHidden = G·W_r` is summed over the group with one allreduce of `N·D` values at
/// the end.  The ranks agree on the chunk size (the smallest any rank's budget allows) so
/// that they run the same collectives.
///
/// Equal, to rounding, to `linearCrossEntropy` with the gathered weight and bias: the loss on
/// every rank, `dHidden` on every rank, each rank's rows of `dWeight` and `dBias`.
///
/// - Parameters:
///   - hidden: `[..., D]`, the same on every rank.
///   - hiddenShape: Its dimensions; the last is `D`.
///   - weight: This rank's `[V_r, D]` rows of the weight.
///   - weightShape: `[V_r, D]`, `V_r == shard.count`.
///   - bias: This rank's `V_r` values of the bias, or `nil` (on every rank).
///   - shard: This rank's classes.
///   - classIndices: One global label per position.
///   - options: As for `linearCrossEntropy`; `classWeights` holds this shard's `V_r` weights.
///   - communicator: The group; every rank must make the same call.
///   - outputs: `dHidden` (the whole gradient, on every rank), this rank's `dWeight`/`dBias`
///     rows, per-position losses and z terms; `accumulate` adds to `dWeight`/`dBias`.
///   - memoryBudget: Bytes of logits one chunk may hold on this rank.
///   - gradientFilter: As for `linearCrossEntropy` (per rank, on its classes).
/// - Returns: The reduced loss and z-loss, the same on every rank.
/// - Throws: `SoftmaxError` for a bad shape, option or label (before any collective),
///   `CommunicationError`.
/// - Complexity: O(N·D·V_r) per rank in three matrix products; allreduces of 2 + 4·N values
///   and of `N·D` for `dHidden`.
public func vocabParallelLinearCrossEntropy<T: VocabParallelScalar, L: ClassLabel>(
    hidden: UnsafeBufferPointer<T>, hiddenShape: [Int], weight: UnsafeBufferPointer<T>, weightShape: [Int],
    bias: UnsafeBufferPointer<T>? = nil, shard: ClassShard, classIndices: UnsafeBufferPointer<L>,
    options: CrossEntropyOptions = .init(), communicator: any Communicator,
    outputs: LinearCrossEntropyOutputs<T> = .init(), memoryBudget: Int = LinearCrossEntropy.defaultMemoryBudget,
    gradientFilter: Double = 0
) throws -> DistributedLoss {
    var problem = try LinearCrossEntropyProblem(
        hiddenShape: hiddenShape, hiddenCount: hidden.count, weightShape: weightShape, weightCount: weight.count,
        biasCount: bias?.count, targetCount: classIndices.count, options: options, memoryBudget: memoryBudget,
        gradientFilter: gradientFilter, elementSize: MemoryLayout<T>.stride)
    guard problem.classes == shard.count else {
        throw SoftmaxError.shapeMismatch(
            argument: "weight", expected: [shard.count, problem.features], actual: weightShape)
    }
    try problem.checkOutputs(outputs)
    let n = problem.positions
    let vocab = try VocabParallelProblem(
        positions: n, shard: shard, scoreCount: n * shard.count, targetCount: classIndices.count, options: options,
        elementSize: MemoryLayout<T>.stride)
    var targets = [Int32](repeating: -1, count: n)
    try targets.withUnsafeMutableBufferPointer { try vocab.decode(classIndices, into: $0.baseAddress!) }
    // The group's chunk size (its smallest) and the whole batch's Σ target weights.
    var agreed: [Double] = [-Double(problem.chunkRows)]
    try communicator.allReduce(&agreed, .maximum)
    problem.chunkRows = Int(-agreed[0])
    var weightSum: [Double] = [0]
    var active = 0
    for t in targets where t >= 0 {
        active += 1
        if Int(t) < shard.count { weightSum[0] += options.classWeights?[Int(t)] ?? 1 }
    }
    try communicator.allReduce(&weightSum, .sum)
    let denominators = vocab.denominators(activeCount: active, targetWeightSum: weightSum[0])
    func run<S: VocabParallelScalar & GEMMScalar & KernelTableScalar>(_: S.Type) throws -> LossSums {
        let typed = LinearCrossEntropyOutputs<S>(
            hiddenGradient: outputs.hiddenGradient?.rebound(to: S.self),
            weightGradient: outputs.weightGradient?.rebound(to: S.self),
            biasGradient: outputs.biasGradient?.rebound(to: S.self), losses: outputs.losses?.rebound(to: S.self),
            zLosses: outputs.zLosses?.rebound(to: S.self), accumulate: outputs.accumulate)
        let sums = try targets.withUnsafeBufferPointer { decoded in
            try runChunks(
                problem, vocab, hidden: hidden.rebound(to: S.self), weight: weight.rebound(to: S.self),
                bias: bias?.rebound(to: S.self), targets: decoded.baseAddress,
                denominators: denominators, communicator: communicator, outputs: typed)
        }
        if let dHidden = typed.hiddenGradient { try S.allReduce(dHidden, .sum, on: communicator) }
        return sums
    }
    let sums = T.self == Double.self ? try run(Double.self) : try run(Float.self)
    let z = denominators.z == 0 ? 0 : sums.z / denominators.z
    outputs.zLoss?.pointee = z
    return DistributedLoss(loss: (denominators.loss == 0 ? 0 : sums.crossEntropy / denominators.loss) + z, zLoss: z)
}

/// The chunks of one rank: the linear cross-entropy's chunk loop with the vocabulary-parallel
/// loss per chunk; a rank without classes still joins every chunk's collectives.
private func runChunks<S: VocabParallelScalar & GEMMScalar & KernelTableScalar>(
    _ problem: LinearCrossEntropyProblem, _ vocab: VocabParallelProblem, hidden: UnsafePointer<S>?,
    weight: UnsafePointer<S>?, bias: UnsafePointer<S>?, targets: UnsafePointer<Int32>?,
    denominators: (loss: Double, z: Double), communicator: any Communicator, outputs: LinearCrossEntropyOutputs<S>
) throws -> LossSums {
    let n = problem.positions
    let shard = vocab.shard
    func chunkLoss(_ logits: UnsafeMutablePointer<S>?, _ rows: Range<Int>) throws -> LossSums {
        let chunk = vocab.chunk(rows: rows.count)
        func slice(_ buffer: UnsafeMutableBufferPointer<S>?) -> UnsafeMutableBufferPointer<S>? {
            buffer.map { UnsafeMutableBufferPointer(rebasing: $0[rows]) }
        }
        let gradient =
            outputs.wantsGradient && logits != nil
            ? UnsafeMutableBufferPointer(start: logits, count: rows.count * shard.count) : nil
        return try chunk.sums(
            scores: logits.map { UnsafePointer($0) }, targets: targets.map { $0 + rows.lowerBound },
            communicator: communicator,
            outputs: VocabParallelOutputs(
                gradient: gradient, losses: slice(outputs.losses), zLosses: slice(outputs.zLosses)),
            denominators: denominators
        ).0
    }
    guard shard.count > 0, n > 0, let hidden, let weight else {
        // No classes here (or no positions): no products, zero gradients, but the same chunks.
        if !outputs.accumulate {
            outputs.weightGradient?.update(repeating: 0)
            outputs.biasGradient?.update(repeating: 0)
        }
        outputs.hiddenGradient?.update(repeating: 0)
        var total = LossSums()
        var first = 0
        while first < n {
            let rows = first..<Swift.min(n, first + problem.chunkRows)
            total = total + (try chunkLoss(nil, rows))
            first = rows.upperBound
        }
        return total
    }
    return try problem.run(
        hidden: hidden, weight: weight, bias: bias, options: vocab.options, denominators: denominators,
        outputs: outputs,
        chunkLoss: chunkLoss)
}
