import SoftmaxKernels

// The pieces of a cross-entropy call below its public entry points, at `package` level so that
// a caller running the loss in chunks (the linear cross-entropy of a language-model head) or
// in shards (the vocabulary-parallel loss) builds on the same validation, parameters,
// denominators and tile-ordered sums as `crossEntropy(scores:shape:classIndices:…)`.

extension LossReduction {
    /// What the summed per-position losses are divided by.
    ///
    /// - Parameters:
    ///   - layout: the scores' layout.
    ///   - targetWeightSum: `Σ w_t` over the positions not ignored, for class-index targets
    ///     (`.mean` divides by it, PyTorch's weighted mean); `nil` for probability targets
    ///     (`.mean` divides by the number of positions).
    /// - Returns: the denominator; 0 when every position is ignored under `.mean` (the loss and
    ///   the gradient are then 0, never NaN).
    package func denominator(layout: Layout, targetWeightSum: Double?) -> Double {
        switch self {
        case .none, .sum: 1
        case .mean: targetWeightSum ?? Double(layout.positions)
        case .full: Double(layout.positions)
        case .batchSize: Double(layout.outer)
        }
    }
}

/// One fused pass of the cross-entropy kernels over every tile of a call, threaded; returns
/// Σ per-position losses in tile order (the same bits on any number of threads).
package struct CrossEntropyTask {
    /// The scores' layout.
    package let layout: Layout
    /// Decoded class indices (negative = ignored), or `nil` for probability targets.
    package let targets: UnsafePointer<Int32>?
    /// The call's options.
    package let options: CrossEntropyOptions
    /// The reduction's denominator (`LossReduction.denominator`), or the one a caller computed
    /// elsewhere (over every chunk or shard of a larger batch).
    package let denominator: Double

    /// A task; see the properties.
    package init(layout: Layout, targets: UnsafePointer<Int32>?, options: CrossEntropyOptions, denominator: Double) {
        self.layout = layout
        self.targets = targets
        self.options = options
        self.denominator = denominator
    }

    /// The reduced loss from the summed per-position losses.
    package func reduced(_ total: Double) -> Double { denominator == 0 ? 0 : total / denominator }

    /// Checks what both target kinds share — layout, options, that the loss and class weights
    /// are finite in the compute type, every output's size — and returns the layout.
    ///
    /// - Throws: `SoftmaxError` naming the first problem.
    package static func validatedLayout<T>(
        scores: UnsafeBufferPointer<T>, shape: [Int], options: CrossEntropyOptions, outputs: CrossEntropyOutputs<T>
    ) throws -> Layout {
        let layout = try Layout(shape: shape, axis: options.resolvedAxis(rank: shape.count))
        try checkCount(scores.count, layout.count, "scores")
        try options.validate(classes: layout.classes)
        // Float and Float16 compute in Float: a weight finite in Double but not in Float would
        // make the gradient scale infinite (and ∞·0 = NaN, even at ignored positions).
        let computeName = T.self == Double.self ? "float64" : "float32"
        let largest = T.self == Double.self ? Double.greatestFiniteMagnitude : Double(Float.greatestFiniteMagnitude)
        guard abs(options.lossWeight) <= largest else {
            throw SoftmaxError.invalidOption(
                name: "loss weight", value: "\(options.lossWeight)", reason: "it is not finite in \(computeName)")
        }
        if let weights = options.classWeights, let i = weights.firstIndex(where: { abs($0) > largest }) {
            throw SoftmaxError.invalidOption(
                name: "class weight", value: "\(weights[i]) at index \(i)", reason: "it is not finite in \(computeName)"
            )
        }
        if let g = outputs.gradient { try checkCount(g.count, layout.count, "gradient output") }
        if let l = outputs.losses { try checkCount(l.count, layout.positions, "loss output") }
        if let p = outputs.probabilities { try checkCount(p.count, layout.count, "probability output") }
        if let p = outputs.logProbabilities { try checkCount(p.count, layout.count, "log-probability output") }
        return layout
    }

    /// Runs `body` with the kernels' parameters in `S` (the class weights converted, the
    /// gradient scale `lossWeight / denominator`).
    package func withParameters<S: KernelScalar, R>(_: S.Type, _ body: (CrossEntropyParameters<S>) -> R) -> R {
        let weights = options.classWeights.map { $0.map { S($0) } }
        let scale = denominator == 0 ? 0 : options.lossWeight / denominator
        return (weights ?? []).withUnsafeBufferPointer { weightBuffer in
            body(
                CrossEntropyParameters<S>(
                    classes: layout.classes, weights: weights == nil ? nil : weightBuffer.address,
                    weightSum: weights.map { $0.reduce(0, +) } ?? S(layout.classes),
                    smoothing: S(options.labelSmoothing), inputIsLogProbability: options.input == .logProbabilities,
                    gradientScale: S(scale)))
        }
    }

    /// Runs the kernels on the caller's buffers in their compute type (`Float16` staged).
    ///
    /// - Parameters:
    ///   - probabilities: the probability targets, when `targets` is `nil`.
    /// - Returns: Σ per-position losses in tile order, not divided by the denominator.
    package func run<T: SoftmaxScalar>(
        scores: UnsafeBufferPointer<T>, probabilities: UnsafeBufferPointer<T>?, outputs: CrossEntropyOutputs<T>
    ) -> Double {
        dispatch(
            T.self,
            float: {
                run(
                    scores: scores.rebound(to: Float.self).address,
                    probabilities: probabilities?.rebound(to: Float.self).address,
                    outputs: outputs.rebound(to: Float.self))
            },
            double: {
                run(
                    scores: scores.rebound(to: Double.self).address,
                    probabilities: probabilities?.rebound(to: Double.self).address,
                    outputs: outputs.rebound(to: Double.self))
            },
            staged: { $0.runCrossEntropy(self, scores: scores, probabilities: probabilities, outputs: outputs) })
    }

    /// `run` in the compute type `S`.
    func run<S: KernelTableScalar>(
        scores x: UnsafePointer<S>, probabilities soft: UnsafePointer<S>?, outputs: CrossEntropyOutputs<S>
    ) -> Double {
        withParameters(S.self) { parameters in
            let pointers = CrossEntropyOutputPointers<S>(
                gradient: outputs.gradient?.address, probabilities: outputs.probabilities?.address,
                logProbabilities: outputs.logProbabilities?.address,
                streaming: SoftmaxMemory.streams(byteCount: layout.count * MemoryLayout<S>.stride))
            // Per-position losses go to the caller's buffer, or to pooled scratch (a fresh
            // allocation per call page-faulted on every call).
            if let given = outputs.losses { return run(losses: given.address) }
            return StagingPool.withBuffer(of: S.self, count: layout.positions) { run(losses: $0.address) }
            func run(losses: UnsafeMutablePointer<S>) -> Double {
                let (kernels, targets, plan) = (S.kernels, targets, TilePlan(layout))
                return TileSums.inTileOrder(tileCount: plan.tileCount) { record in
                    plan.forEachTile { k, positions in
                        if let targets {
                            kernels.crossEntropyIndices(x, targets, layout, positions, parameters, pointers, losses)
                        } else if let soft {
                            kernels.crossEntropyProbabilities(x, soft, layout, positions, parameters, pointers, losses)
                        }
                        record(k, tileSum(losses, positions))
                    }
                }
            }
        }
    }
}

extension CrossEntropyTask {
    /// `run` for `Float16` buffers, staged tile by tile (`HalfTileStaging`): each tile
    /// widens its scores (and probability targets), runs the `Float` kernels into slabs of
    /// its own for every requested element-wise output, and narrows them and its losses
    /// into the caller's buffers.  The labels were checked and the gradient scale fixed
    /// before any tile runs, so tiles are independent; the per-position losses are kept in
    /// `Float` and summed per tile as `run` sums them.
    ///
    /// Each tile reads all of its scores before it writes an output, and tiles are
    /// disjoint, so the gradient may still be the scores' own buffer.
    func runStaged(_ x: UnsafePointer<UInt16>, soft: UnsafePointer<UInt16>?, outputs: CrossEntropyStagedOutputs)
        -> Double
    {
        let staging = HalfTileStaging(layout: layout)
        let (kernels, targets) = (staging.kernels, targets)
        let elementOutputs = [outputs.gradient, outputs.probabilities, outputs.logProbabilities]
        let slabs = 1 + (soft == nil ? 0 : 1) + elementOutputs.compactMap { $0 }.count
        return withParameters(Float.self) { parameters in
            StagingPool.withBuffer(of: Float.self, count: layout.positions) { lossBuffer in
                let losses = lossBuffer.address
                return TileSums.inTileOrder(tileCount: TilePlan(layout).tileCount) { record in
                    staging.forEachTile(slabs: slabs) { _, slab, elements, slabLayout, positions in
                        // The slabs in order: scores, probability targets, then one per output.
                        var next = slab
                        func take() -> UnsafeMutablePointer<Float> {
                            defer { next += elements }
                            return next
                        }
                        let scores = take()
                        staging.widen(x, into: scores, positions)
                        let q = soft.map { soft in
                            let q = take()
                            staging.widen(soft, into: q, positions)
                            return q
                        }
                        let slabOutputs = elementOutputs.map { $0.map { _ in take() } }
                        let pointers = CrossEntropyOutputPointers<Float>(
                            gradient: slabOutputs[0], probabilities: slabOutputs[1],
                            logProbabilities: slabOutputs[2], streaming: false)
                        let (first, count) = (positions.lowerBound, positions.count)
                        if let targets {
                            kernels.crossEntropyIndices(
                                scores, targets + first, slabLayout, 0..<count, parameters, pointers, losses + first
                            )
                        } else if let q {
                            kernels.crossEntropyProbabilities(
                                scores, q, slabLayout, 0..<count, parameters, pointers, losses + first)
                        }
                        for (output, staged) in zip(elementOutputs, slabOutputs) {
                            guard let output, let staged else { continue }
                            staging.narrow(staged, into: output, positions)
                        }
                        if let perPosition = outputs.losses {
                            kernels.narrowHalf(losses + first, perPosition + first, count)
                        }
                    } afterTile: { tile, positions in
                        record(tile, tileSum(losses, positions))
                    }
                }
            }
        }
    }
}

/// The caller's output buffers of a staged (`Float16`) cross-entropy call, as bit patterns.
struct CrossEntropyStagedOutputs {
    var gradient: UnsafeMutablePointer<UInt16>?
    var losses: UnsafeMutablePointer<UInt16>?
    var probabilities: UnsafeMutablePointer<UInt16>?
    var logProbabilities: UnsafeMutablePointer<UInt16>?
}

extension CrossEntropyOutputs {
    /// The same buffers viewed as `U`; only called when `Element` is `U` (as `dispatch` routes).
    func rebound<U: SoftmaxScalar>(to _: U.Type) -> CrossEntropyOutputs<U> {
        CrossEntropyOutputs<U>(
            gradient: gradient?.rebound(to: U.self), losses: losses?.rebound(to: U.self),
            probabilities: probabilities?.rebound(to: U.self), logProbabilities: logProbabilities?.rebound(to: U.self))
    }
}

/// Per-tile partial sums added in tile order: the loss total's bits do not depend on the
/// thread count.
package enum TileSums {
    /// Runs `body`, which reports each of `tileCount` tiles' sums through `record(tile, sum)`
    /// (from any thread, each tile once), and returns the sums added in tile order.
    package static func inTileOrder(
        tileCount: Int, _ body: (_ record: (_ tile: Int, _ sum: Double) -> Void) -> Void
    ) -> Double {
        var partials = [Double](repeating: 0, count: tileCount)
        partials.withUnsafeMutableBufferPointer { partials in body { partials[$0] = $1 } }
        return partials.reduce(0, +)
    }
}

/// `Σ losses[p]` over `positions` in Double, with four running sums: one chain of dependent
/// additions (four cycles per position) cost ~5% of a 65536×10 cross-entropy.  The order
/// depends only on the range, so the bits do not depend on the thread count.
@inline(__always)
package func tileSum<S: BinaryFloatingPoint>(_ losses: UnsafeMutablePointer<S>, _ positions: Range<Int>) -> Double {
    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
    var p = positions.lowerBound
    while p + 4 <= positions.upperBound {
        s0 += Double(losses[p])
        s1 += Double(losses[p + 1])
        s2 += Double(losses[p + 2])
        s3 += Double(losses[p + 3])
        p += 4
    }
    while p < positions.upperBound {
        s0 += Double(losses[p])
        p += 1
    }
    return (s0 + s1) + (s2 + s3)
}
