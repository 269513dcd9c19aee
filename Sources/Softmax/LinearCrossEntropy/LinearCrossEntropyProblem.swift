import SoftmaxKernels

/// The sizes of one fused linear cross-entropy call, checked, and its chunked computation.
package struct LinearCrossEntropyProblem {
    /// `N`: positions (rows of hidden states).
    package let positions: Int
    /// `D`: features per position.
    package let features: Int
    /// `V`: classes (rows of the weight).
    package let classes: Int
    /// Rows of logits per chunk; a caller may lower it (a vocabulary-parallel loss takes the
    /// group's smallest, so that every rank runs the same chunks).
    package var chunkRows: Int
    /// The gradient filter `ε` (0: exact).
    let gradientFilter: Double
    /// Classes per block of the gradient filter: the unit a backward product skips.
    static let filterBlock = 256
    /// Rows per block of the gradient filter: each block of rows skips its own class blocks
    /// (one row uncertain about a class no longer keeps that class for the whole chunk).
    static let filterRows = 128
    /// The bytes of `Gᵀ` one product of `dW += Gᵀ·H` may take: 2 MiB.
    ///
    /// A BLAS packs the whole `k × n` operand of a product it is given, where `n` here is the
    /// classes: one `dW` product over 32000 classes had OpenBLAS pack ~30 MiB beyond the chunk
    /// (100 MiB peak at a 64 MiB budget); in class blocks of this size the product's packing
    /// stays within a few MiB, at the same speed (docs/performance.md).
    static let weightGradientPanelBytes = 2 << 20

    /// Classes per product of `dW += Gᵀ·H` over `rows` rows: as many as fill
    /// `weightGradientPanelBytes`, 512 at least (smaller products lose the BLAS's speed).
    static func weightGradientClassBlock(rows: Int, elementSize: Int) -> Int {
        Swift.max(512, weightGradientPanelBytes / Swift.max(1, rows * elementSize))
    }

    /// Checks the shapes, counts and options of a call.
    ///
    /// - Throws: `SoftmaxError` naming the first problem.
    package init(
        hiddenShape: [Int], hiddenCount: Int, weightShape: [Int], weightCount: Int, biasCount: Int?,
        targetCount: Int, options: CrossEntropyOptions, memoryBudget: Int, gradientFilter: Double = 0,
        elementSize: Int
    ) throws {
        guard gradientFilter >= 0, gradientFilter.isFinite else {
            throw SoftmaxError.invalidOption(
                name: "gradient filter", value: "\(gradientFilter)", reason: "it must be a finite number at least 0")
        }
        self.gradientFilter = gradientFilter
        guard !hiddenShape.isEmpty else {
            throw SoftmaxError.invalidShape(shape: hiddenShape, reason: "hidden states need at least one dimension (D)")
        }
        let hiddenElements = try Layout.elementCount(hiddenShape)
        try checkCount(hiddenCount, hiddenElements, "hidden")
        features = hiddenShape[hiddenShape.count - 1]
        positions = try Layout.elementCount(Array(hiddenShape.dropLast()))
        // With no features every logit is the bias: N×V work that no input bytes pay for (a
        // header can name any N and V of zero-width arrays), so it is refused, not run.
        guard features > 0 || positions == 0 else {
            throw SoftmaxError.invalidShape(
                shape: hiddenShape, reason: "hidden states need at least one feature (D ≥ 1)")
        }
        guard weightShape.count == 2, weightShape[1] == features else {
            throw SoftmaxError.shapeMismatch(
                argument: "weight", expected: [weightShape.first ?? 0, features], actual: weightShape)
        }
        classes = weightShape[0]
        try checkCount(weightCount, try Layout.elementCount(weightShape), "weight")
        if let biasCount { try checkCount(biasCount, classes, "bias") }
        try checkCount(targetCount, positions, "targets")
        guard classes <= Int(Int32.max) else {
            throw SoftmaxError.invalidShape(shape: weightShape, reason: "more than \(Int32.max) classes")
        }
        switch options.reduction {
        case .none, .sum, .mean: break
        case .full, .batchSize:
            throw SoftmaxError.invalidOption(
                name: "reduction", value: options.reduction.rawValue,
                reason: "the linear cross-entropy takes none, sum or mean")
        }
        guard options.input == .logits else {
            throw SoftmaxError.invalidOption(
                name: "input", value: options.input.rawValue, reason: "the linear cross-entropy computes logits")
        }
        try options.validate(classes: classes)
        if elementSize == MemoryLayout<Double>.stride {
            try options.validateLimits(computingIn: Double.self)
        } else {
            try options.validateLimits(computingIn: Float.self)
        }
        guard memoryBudget > 0 else {
            throw SoftmaxError.invalidOption(
                name: "memory budget", value: "\(memoryBudget)", reason: "it must be positive")
        }
        let rowBytes = Swift.max(1, ResourceLimits.bytes(count: classes, size: elementSize))
        // No positions: no chunk, nothing to check (an empty batch succeeds at once).
        chunkRows = positions == 0 ? 0 : Swift.max(1, Swift.min(positions, memoryBudget / rowBytes))
        try ResourceLimits.check(
            ResourceLimits.bytes(count: chunkRows, size: rowBytes),
            for: "the logits of \(chunkRows) row\(chunkRows == 1 ? "" : "s") of \(classes) classes")
    }

    /// Throws unless every requested output has its size.
    package func checkOutputs<T>(_ outputs: LinearCrossEntropyOutputs<T>) throws {
        if let g = outputs.hiddenGradient { try checkCount(g.count, positions * features, "hidden gradient output") }
        if let g = outputs.weightGradient { try checkCount(g.count, classes * features, "weight gradient output") }
        if let g = outputs.biasGradient { try checkCount(g.count, classes, "bias gradient output") }
        if let l = outputs.losses { try checkCount(l.count, positions, "loss output") }
        if let z = outputs.zLosses { try checkCount(z.count, positions, "z-loss output") }
    }

    /// The backward products of `rows` rows of the softmax gradient `g` (rows of `classes`),
    /// restricted to the class ranges `runs`: `dH = G·W`, `dW += Gᵀ·H`, `db += Σ G`.
    func backward<S: GEMMScalar & KernelTableScalar>(
        _ g: UnsafeMutablePointer<S>, rows: Int, runs: [Range<Int>], hidden: UnsafePointer<S>,
        weight: UnsafePointer<S>, outputs: LinearCrossEntropyOutputs<S>, hiddenGradientRow: Int
    ) {
        let (d, v) = (features, classes)
        if let dHidden = outputs.hiddenGradient {
            let target = dHidden.address + hiddenGradientRow * d
            if runs.isEmpty { target.update(repeating: 0, count: rows * d) }
            for (k, run) in runs.enumerated() {
                GEMM.multiply(
                    m: rows, n: d, k: run.count, MatrixOperand(UnsafePointer(g + run.lowerBound), rowStride: v),
                    MatrixOperand(weight + run.lowerBound * d, rowStride: d), beta: k == 0 ? 0 : 1, into: target)
            }
        }
        if let dWeight = outputs.weightGradient {
            let block = Self.weightGradientClassBlock(rows: rows, elementSize: MemoryLayout<S>.stride)
            for run in runs {
                for start in stride(from: run.lowerBound, to: run.upperBound, by: block) {
                    let count = Swift.min(block, run.upperBound - start)
                    GEMM.multiply(
                        m: count, n: d, k: rows,
                        MatrixOperand(UnsafePointer(g + start), rowStride: v, transpose: .transposed),
                        MatrixOperand(hidden, rowStride: d), beta: 1, into: dWeight.address + start * d)
                }
            }
        }
        if let dBias = outputs.biasGradient {
            for run in runs {
                for r in 0..<rows {
                    let row = g + r * v
                    for c in run { dBias[c] += row[c] }
                }
            }
        }
    }

    /// The gradient filter's class ranges: blocks of `block` classes where some row's
    /// `|G|` reaches `threshold`, neighbouring ones merged into one run.
    ///
    /// - Complexity: O(rows · classes), one read of the chunk.
    static func keptClassRuns<S: KernelTableScalar>(
        _ g: UnsafePointer<S>, rows: Int, classes: Int, threshold: S, block: Int
    ) -> [Range<Int>] {
        let blocks = (classes + block - 1) / block
        var largest = [S](repeating: 0, count: blocks)
        for r in 0..<rows {
            let row = g + r * classes
            for b in 0..<blocks where largest[b] < threshold {
                var m: S = 0
                for c in (b * block)..<Swift.min((b + 1) * block, classes) { m = Swift.max(m, abs(row[c])) }
                largest[b] = Swift.max(largest[b], m)
            }
        }
        var runs: [Range<Int>] = []
        for b in 0..<blocks where !(largest[b] < threshold) {
            let range = (b * block)..<Swift.min((b + 1) * block, classes)
            if let last = runs.last, last.upperBound == range.lowerBound {
                runs[runs.count - 1] = last.lowerBound..<range.upperBound
            } else {
                runs.append(range)
            }
        }
        return runs
    }

    /// The chunked forward and backward pass in the compute type `S`; returns Σ per-position
    /// losses and z terms in chunk and tile order (the same bits on any number of threads).
    ///
    /// - Parameter denominators: the whole batch's loss and z-loss denominators.
    func run<S: GEMMScalar & KernelTableScalar>(
        hidden: UnsafePointer<S>, weight: UnsafePointer<S>, bias: UnsafePointer<S>?, targets: UnsafePointer<Int32>,
        options: CrossEntropyOptions, denominators: (loss: Double, z: Double), outputs: LinearCrossEntropyOutputs<S>
    ) -> LossSums {
        run(
            hidden: hidden, weight: weight, bias: bias, options: options, denominators: denominators,
            outputs: outputs
        ) { logits, chunk in
            // The fused pass over the chunk, its gradient in place of the logits.
            let task = CrossEntropyTask(
                layout: Layout(outer: chunk.count, classes: classes, inner: 1), targets: targets + chunk.lowerBound,
                options: options, denominator: denominators.loss, zDenominator: denominators.z)
            func slice<E>(_ buffer: UnsafeMutableBufferPointer<E>?) -> UnsafeMutableBufferPointer<E>? {
                buffer.map { UnsafeMutableBufferPointer(rebasing: $0[chunk]) }
            }
            return task.run(
                scores: UnsafePointer(logits), probabilities: nil,
                outputs: CrossEntropyOutputs<S>(
                    gradient: outputs.wantsGradient
                        ? UnsafeMutableBufferPointer(start: logits, count: chunk.count * classes) : nil,
                    losses: slice(outputs.losses), zLosses: slice(outputs.zLosses)))
        }
    }

    /// The chunked forward and backward pass with the chunk's loss computed by `chunkLoss`:
    /// given the chunk's logits (rows of `classes`) and its rows of the batch, it returns their
    /// Σ losses and z terms and, when a gradient is wanted, leaves the gradient of the loss
    /// with respect to the logits in their place.  The vocabulary-parallel loss passes its own.
    ///
    /// - Parameter denominators: the whole batch's loss and z-loss denominators (the
    ///   gradient filter's scale).
    package func run<S: GEMMScalar & KernelTableScalar>(
        hidden: UnsafePointer<S>, weight: UnsafePointer<S>, bias: UnsafePointer<S>?, options: CrossEntropyOptions,
        denominators: (loss: Double, z: Double), outputs: LinearCrossEntropyOutputs<S>,
        chunkLoss: (_ logits: UnsafeMutablePointer<S>, _ rows: Range<Int>) throws -> LossSums
    ) rethrows -> LossSums {
        let (n, d, v) = (positions, features, classes)
        if !outputs.accumulate {
            outputs.weightGradient?.update(repeating: 0)
            outputs.biasGradient?.update(repeating: 0)
        }
        if n == 0 || v == 0 {
            outputs.hiddenGradient?.update(repeating: 0)
            outputs.losses?.update(repeating: 0)
            outputs.zLosses?.update(repeating: 0)
            return LossSums()
        }
        let wantsGradient = outputs.wantsGradient
        return try StagingPool.withBuffer(of: S.self, count: chunkRows * v) { chunk in
            var total = LossSums()
            var first = 0
            while first < n {
                let rows = Swift.min(chunkRows, n - first)
                let logits = chunk.address
                let hiddenRows = MatrixOperand(hidden + first * d, rowStride: d)
                // Logits = H · Wᵀ (+ b: the bias fills the rows, which the product adds to).
                if let bias {
                    for r in 0..<rows { (logits + r * v).update(from: bias, count: v) }
                }
                GEMM.multiply(
                    m: rows, n: v, k: d, hiddenRows, MatrixOperand(weight, rowStride: d, transpose: .transposed),
                    beta: bias == nil ? 0 : 1, into: logits)
                total = total + (try chunkLoss(logits, first..<(first + rows)))
                if wantsGradient {
                    // The backward products over the whole chunk, or with the gradient filter
                    // per block of rows, over the class runs where some |G| reaches ε·scale.
                    let scale = denominators.loss == 0 ? 0 : abs(options.lossWeight) / denominators.loss
                    let threshold = S(gradientFilter * scale)
                    let rowBlock = gradientFilter == 0 ? rows : Self.filterRows
                    var start = 0
                    while start < rows {
                        let count = Swift.min(rowBlock, rows - start)
                        let g = logits + start * v
                        let runs =
                            gradientFilter == 0
                            ? [0..<v]
                            : Self.keptClassRuns(
                                g, rows: count, classes: v, threshold: threshold, block: Self.filterBlock)
                        backward(
                            g, rows: count, runs: runs, hidden: hidden + (first + start) * d, weight: weight,
                            outputs: outputs, hiddenGradientRow: first + start)
                        start += count
                    }
                }
                first += rows
            }
            return total
        }
    }
}
