import SoftmaxKernels

/// The sizes of one fused linear cross-entropy call, checked, and its chunked computation.
struct LinearCrossEntropyProblem {
    /// `N`: positions (rows of hidden states).
    let positions: Int
    /// `D`: features per position.
    let features: Int
    /// `V`: classes (rows of the weight).
    let classes: Int
    /// Rows of logits per chunk.
    let chunkRows: Int

    /// Checks the shapes, counts and options of a call.
    ///
    /// - Throws: `SoftmaxError` naming the first problem.
    init(
        hiddenShape: [Int], hiddenCount: Int, weightShape: [Int], weightCount: Int, biasCount: Int?,
        targetCount: Int, options: CrossEntropyOptions, memoryBudget: Int, elementSize: Int
    ) throws {
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
    func checkOutputs<T>(_ outputs: LinearCrossEntropyOutputs<T>) throws {
        if let g = outputs.hiddenGradient { try checkCount(g.count, positions * features, "hidden gradient output") }
        if let g = outputs.weightGradient { try checkCount(g.count, classes * features, "weight gradient output") }
        if let g = outputs.biasGradient { try checkCount(g.count, classes, "bias gradient output") }
        if let l = outputs.losses { try checkCount(l.count, positions, "loss output") }
        if let z = outputs.zLosses { try checkCount(z.count, positions, "z-loss output") }
    }

    /// The chunked forward and backward pass in the compute type `S`; returns Σ per-position
    /// losses and z terms in chunk and tile order (the same bits on any number of threads).
    ///
    /// - Parameter denominators: the whole batch's loss and z-loss denominators.
    func run<S: GEMMScalar & KernelTableScalar>(
        hidden: UnsafePointer<S>, weight: UnsafePointer<S>, bias: UnsafePointer<S>?, targets: UnsafePointer<Int32>,
        options: CrossEntropyOptions, denominators: (loss: Double, z: Double), outputs: LinearCrossEntropyOutputs<S>
    ) -> LossSums {
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
        let wantsGradient =
            outputs.hiddenGradient != nil || outputs.weightGradient != nil || outputs.biasGradient != nil
        let weightOperand = MatrixOperand(weight, rowStride: d)
        return StagingPool.withBuffer(of: S.self, count: chunkRows * v) { chunk in
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
                // The fused pass over the chunk, its gradient in place of the logits.
                let layout = Layout(outer: rows, classes: v, inner: 1)
                let scores = UnsafeMutableBufferPointer(start: logits, count: rows * v)
                let task = CrossEntropyTask(
                    layout: layout, targets: targets + first, options: options, denominator: denominators.loss,
                    zDenominator: denominators.z)
                func chunkOf<E>(_ buffer: UnsafeMutableBufferPointer<E>?) -> UnsafeMutableBufferPointer<E>? {
                    buffer.map { UnsafeMutableBufferPointer(rebasing: $0[first..<(first + rows)]) }
                }
                total =
                    total
                    + task.run(
                        scores: UnsafePointer(logits), probabilities: nil,
                        outputs: CrossEntropyOutputs<S>(
                            gradient: wantsGradient ? scores : nil, losses: chunkOf(outputs.losses),
                            zLosses: chunkOf(outputs.zLosses)))
                if wantsGradient {
                    let gradient = MatrixOperand(UnsafePointer(logits), rowStride: v)
                    if let dHidden = outputs.hiddenGradient {
                        // dH = G · W.
                        GEMM.multiply(m: rows, n: d, k: v, gradient, weightOperand, into: dHidden.address + first * d)
                    }
                    if let dWeight = outputs.weightGradient {
                        // dW += Gᵀ · H.
                        GEMM.multiply(
                            m: v, n: d, k: rows,
                            MatrixOperand(UnsafePointer(logits), rowStride: v, transpose: .transposed),
                            hiddenRows, beta: 1, into: dWeight.address)
                    }
                    if let dBias = outputs.biasGradient {
                        // db += Σ_rows G.
                        for r in 0..<rows {
                            let row = logits + r * v
                            for c in 0..<v { dBias[c] += row[c] }
                        }
                    }
                }
                first += rows
            }
            return total
        }
    }
}
