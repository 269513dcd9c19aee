import Foundation
import Softmax

/// A small fused linear cross-entropy problem (`linearCrossEntropy(hidden:…)`) decoded from
/// fuzzer bytes, and the invariants of its result.
///
/// The decoding, one byte each unless said: the selector (read by the entry point: bit 0
/// Double, bit 1 a bias, bit 2 accumulate, bit 3 again streamed), the count of leading
/// dimensions (0–3; none makes hidden `[D]`, one position), each leading dimension (0–8; the
/// last ones shrink to 1 while `N` > 8), `D` (0–8), `V` (0–8, or 0–70 from 0x80 so rows reach
/// the vector loops and the fused transformed-row kernel at ≥ 32), which shape or buffer is
/// wrong (mostly none) and by how much, the reduction (every case: `full` and `batch-size` are
/// refused), ignore index, class weights (sometimes the wrong count or non-finite), label
/// smoothing, loss weight, input kind, label type, memory budget (from under one row of logits
/// to `Int.max`, sometimes 0 or negative), gradient filter (sometimes negative, NaN, ∞), the
/// outputs to fill; then one byte per hidden value, weight value, bias value and label; then
/// temperature, softcap and z-loss (``FuzzLogitOptions``).  `N·D·V` ≤ 8·8·70.
struct LinearLossProblem<T: LinearCrossEntropyScalar> {
    /// The dimensions before `D` (their product is `N`).
    var leadingDimensions: [Int]
    /// `D`.
    var features: Int
    /// `V`.
    var classes: Int
    var hasBias: Bool
    var accumulate: Bool
    var options: CrossEntropyOptions
    var labelType: FuzzLabelType
    /// Which shape or buffer is wrong (see ``Fault``), or `nil`.
    var fault: Fault?
    var sizeDelta: Int
    /// Bits 0–5: dHidden, dWeight, dBias, per-position losses, per-position z terms, the
    /// reduced z-loss.
    var outputMask: UInt8
    var memoryBudget: Int
    var gradientFilter: Double
    var hidden: [T]
    var weight: [T]
    var bias: [T]
    /// Label values as `Double` (converted to `labelType` when run).
    var labelValues: [Double]

    /// What the decoder can get wrong on purpose.
    enum Fault: Int, CaseIterable {
        case hiddenShapeEmpty, weightShapeWider, weightShapeRank1, weightShapeRank3
        case hiddenCount, weightCount, biasCount, targetCount
        case hiddenGradientCount, weightGradientCount, biasGradientCount, lossesCount, zLossesCount
    }

    var positions: Int { leadingDimensions.reduce(1, *) }

    /// Hidden, weight and bias values from one byte each: mostly −8…8 in sixteenths, sometimes
    /// NaN, ±∞, −1000, 1e30 or the largest finite value.
    static func value(_ b: UInt8) -> T {
        switch b {
        case 0xFF: .nan
        case 0xFE: .infinity
        case 0xFD: -.infinity
        case 0xFC: .greatestFiniteMagnitude
        case 0xFB: T(1e30)
        case 0xFA: -1000
        default: T(Double(Int8(bitPattern: b)) / 16)
        }
    }

    init(selector: UInt8, _ input: inout FuzzInput) {
        hasBias = selector & 2 != 0
        accumulate = selector & 4 != 0
        var dims = (0..<Int(input.byte() % 4)).map { _ in Int(input.byte() % 9) }
        for d in dims.indices.reversed() where dims.reduce(1, *) > 8 { dims[d] = 1 }
        leadingDimensions = dims
        features = Int(input.byte() % 9)
        let v = input.byte()
        classes = v < 0x80 ? Int(v % 9) : Int(v % 71)
        let f = Int(input.byte() % 32)
        fault = f < Fault.allCases.count ? Fault(rawValue: f) : nil
        sizeDelta = [-1, 1, 3][Int(input.byte() % 3)]

        var options = CrossEntropyOptions()
        options.reduction = input.pick([.mean, .sum, .none, .mean, .sum, .none, .full, .batchSize])
        options.ignoreIndex = input.pick([nil, nil, -100, 0, 1, 255, -1, 7, Int.min, Int.max])
        let weightValues: [Double] = [1, 0.5, 2, 0, -1, 1e-3, 1e3, 0.25, 1e300, .nan, .infinity, -.infinity]
        let classes = classes
        switch input.byte() % 5 {
        case 0, 1: options.classWeights = nil
        case 2, 3: options.classWeights = (0..<classes).map { _ in input.pick(Array(weightValues.prefix(8))) }
        default:
            let count = max(0, classes + Int(input.byte() % 3) - 1)
            options.classWeights = (0..<count).map { _ in input.pick(weightValues) }
        }
        options.labelSmoothing = input.pick([0, 0, 0, 0.1, 0.5, 1, 1e-9, 0.999, -0.1, 1.5, .nan, .infinity])
        options.lossWeight = input.pick([1, 1, 1, 0, -1, 2.5, 1e-3, 1e30, 1e300, .nan, .infinity])
        options.input = input.byte() % 8 == 7 ? .logProbabilities : .logits
        labelType = FuzzLabelType.allCases[Int(input.byte()) % FuzzLabelType.allCases.count]

        let rowBytes = max(1, classes * MemoryLayout<T>.stride)
        let budgets = [
            LinearCrossEntropy.defaultMemoryBudget, 1, rowBytes - 1, rowBytes, 2 * rowBytes, 3 * rowBytes,
            5 * rowBytes + 1, 0, -1, Int.min, Int.max, 7 * rowBytes, max(1, rowBytes / 2),
        ]
        memoryBudget = input.pick(budgets)
        gradientFilter = input.pick([0, 0, 0, 0, 0x1p-12, 1e-3, 0.5, 1e30, -1, .nan, .infinity, -0.0, 1e-300])
        outputMask = input.byte()

        let n = dims.reduce(1, *)
        hidden = (0..<(n * features)).map { _ in Self.value(input.byte()) }
        weight = (0..<(classes * features)).map { _ in Self.value(input.byte()) }
        bias = hasBias ? (0..<classes).map { _ in Self.value(input.byte()) } : []
        let ignore = Double(options.ignoreIndex ?? -100)
        let specials: [Double] = [
            -1, Double(classes), Double(classes + 1), ignore, -100, 255, 128, 0.5, -0.5, .nan, .infinity, -.infinity,
            1e10, -1e10, 0x1p63, 40000,
        ]
        labelValues = (0..<n).map { _ in
            let b = input.byte()
            return b < 0xF0 ? Double(Int(b) % max(classes, 1)) : specials[Int(b & 0x0F)]
        }
        FuzzLogitOptions.decode(&input, into: &options)
        self.options = options
    }

    /// A buffer or shape size: `correct`, or off by `sizeDelta` when `fault` is `which`.
    private func size(_ correct: Int, _ which: Fault) -> Int {
        guard fault == which else { return correct }
        return correct + sizeDelta >= 0 ? correct + sizeDelta : correct + 1
    }

    /// Runs the problem and checks the result.
    ///
    /// - Throws: `FuzzInvariantViolation` when a check fails.
    func run() throws {
        switch labelType {
        case .int8: try run(labels: labelValues.map { LossProblem<T>.integer($0) as Int8 }, filler: 0)
        case .int32: try run(labels: labelValues.map { LossProblem<T>.integer($0) as Int32 }, filler: 0)
        case .int64: try run(labels: labelValues.map { LossProblem<T>.integer($0) as Int64 }, filler: 0)
        case .uint8: try run(labels: labelValues.map { LossProblem<T>.integer($0) as UInt8 }, filler: 0)
        case .int: try run(labels: labelValues.map { LossProblem<T>.integer($0) as Int }, filler: 0)
        case .float: try run(labels: labelValues.map { Float($0) }, filler: 0)
        case .double: try run(labels: labelValues, filler: 0)
        }
    }

    /// What one call returned and wrote.
    struct Result {
        var loss: Double
        var zLoss: Double
        var hiddenGradient: [T]
        var weightGradient: [T]
        var biasGradient: [T]
        var losses: [T]
        var zLosses: [T]

        /// Every value finite.
        var isFinite: Bool {
            loss.isFinite && zLoss.isFinite
                && [hiddenGradient, weightGradient, biasGradient, losses, zLosses].allSatisfy {
                    $0.allSatisfy(\.isFinite)
                }
        }
    }

    /// What the prior contents of the weight and bias gradients are (what `accumulate` adds to,
    /// and what a call without it must overwrite).
    static func prior(_ k: Int) -> T { T(Double(k % 5 - 2) * 0.75) }

    /// Calls `linearCrossEntropy` with the decoded buffers (some of the wrong size), the
    /// requested outputs, `budget` and `accumulate`.
    ///
    /// - Returns: the result, or `nil` when the call threw.
    /// - Parameter filler: what a target buffer longer than the labels is padded with.
    private func call<L: ClassLabel>(_ labels: [L], filler: L, budget: Int, accumulate: Bool) -> Result? {
        let n = positions
        let (d, v) = (features, classes)
        var hiddenShape = leadingDimensions + [d]
        var weightShape = [v, d]
        switch fault {
        case .hiddenShapeEmpty: hiddenShape = []
        case .weightShapeWider: weightShape = [v, d + 1]
        case .weightShapeRank1: weightShape = [v * d]
        case .weightShapeRank3: weightShape = [v, d, 1]
        default: break
        }
        func resized<E>(_ values: [E], _ count: Int, filler: E) -> [E] {
            Array(values.prefix(count)) + [E](repeating: filler, count: max(0, count - values.count))
        }
        let hiddenBuffer = resized(hidden, size(hidden.count, .hiddenCount), filler: 0)
        let weightBuffer = resized(weight, size(weight.count, .weightCount), filler: 0)
        let biasBuffer = resized(bias, size(bias.count, .biasCount), filler: 0)
        let labelBuffer = resized(labels, size(labels.count, .targetCount), filler: filler)
        // Outputs start as sentinels (7) or the prior gradients, so that a value left unwritten shows.
        var dHidden = [T](repeating: 7, count: outputMask & 1 != 0 ? size(n * d, .hiddenGradientCount) : 0)
        var dWeight = (0..<(outputMask & 2 != 0 ? size(v * d, .weightGradientCount) : 0)).map(Self.prior)
        var dBias = (0..<(outputMask & 4 != 0 ? size(v, .biasGradientCount) : 0)).map(Self.prior)
        var losses = [T](repeating: 7, count: outputMask & 8 != 0 ? size(n, .lossesCount) : 0)
        var zLosses = [T](repeating: 7, count: outputMask & 16 != 0 ? size(n, .zLossesCount) : 0)
        let zLoss = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        zLoss.initialize(to: .nan)
        defer { zLoss.deallocate() }

        let loss: Double? = hiddenBuffer.withUnsafeBufferPointer { h in
            weightBuffer.withUnsafeBufferPointer { w in
                biasBuffer.withUnsafeBufferPointer { b in
                    labelBuffer.withUnsafeBufferPointer { t in
                        dHidden.withUnsafeMutableBufferPointer { gh in
                            dWeight.withUnsafeMutableBufferPointer { gw in
                                dBias.withUnsafeMutableBufferPointer { gb in
                                    losses.withUnsafeMutableBufferPointer { l in
                                        zLosses.withUnsafeMutableBufferPointer { z in
                                            let outputs = LinearCrossEntropyOutputs<T>(
                                                hiddenGradient: outputMask & 1 != 0 ? gh : nil,
                                                weightGradient: outputMask & 2 != 0 ? gw : nil,
                                                biasGradient: outputMask & 4 != 0 ? gb : nil,
                                                losses: outputMask & 8 != 0 ? l : nil,
                                                zLosses: outputMask & 16 != 0 ? z : nil,
                                                zLoss: outputMask & 32 != 0 ? zLoss : nil, accumulate: accumulate)
                                            return try? linearCrossEntropy(
                                                hidden: h, hiddenShape: hiddenShape, weight: w,
                                                weightShape: weightShape, bias: hasBias ? b : nil, classIndices: t,
                                                options: options, outputs: outputs, memoryBudget: budget,
                                                gradientFilter: gradientFilter)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard let loss else { return nil }
        return Result(
            loss: loss, zLoss: outputMask & 32 != 0 ? zLoss.pointee : 0, hiddenGradient: dHidden,
            weightGradient: dWeight, biasGradient: dBias, losses: losses, zLosses: zLosses)
    }

    /// Whether the call must succeed, written out from `LinearCrossEntropyProblem.init`,
    /// `checkOutputs`, the label decoding and (for what the options must satisfy in the
    /// compute type) `CrossEntropyTask.validatedLayout`.
    func expectedSuccess<L: ClassLabel>(_ labels: [L]) -> Bool {
        let (n, d, v) = (positions, features, classes)
        // The gradient filter: a finite number ≥ 0.
        guard gradientFilter >= 0, gradientFilter.isFinite else { return false }
        // Shapes and input counts: hidden [..., D] with its element count, weight [V, D], bias
        // [V], one label per position.
        switch fault {
        case .hiddenShapeEmpty, .weightShapeWider, .weightShapeRank1, .weightShapeRank3: return false
        case .hiddenCount, .weightCount, .targetCount: return false
        case .biasCount where hasBias: return false
        default: break
        }
        // Positions need features (D = 0 with N > 0 is refused).
        guard d > 0 || n == 0 else { return false }
        // Reductions none, sum, mean; logits only.
        guard [.none, .sum, .mean].contains(options.reduction), options.input == .logits else { return false }
        // The options' domains (CrossEntropyOptions.validate), and finite in the compute type.
        let largest = T.self == Double.self ? Double.greatestFiniteMagnitude : Double(Float.greatestFiniteMagnitude)
        guard options.labelSmoothing >= 0, options.labelSmoothing <= 1, abs(options.lossWeight) <= largest else {
            return false
        }
        if let weights = options.classWeights, weights.count != v || !weights.allSatisfy({ abs($0) <= largest }) {
            return false
        }
        guard FuzzLogitOptions.valid(options, doublePrecision: T.self == Double.self) else { return false }
        // A positive memory budget.
        guard memoryBudget > 0 else { return false }
        // Every requested output of its size.
        let requested: [Fault: Bool] = [
            .hiddenGradientCount: outputMask & 1 != 0, .weightGradientCount: outputMask & 2 != 0,
            .biasGradientCount: outputMask & 4 != 0, .lossesCount: outputMask & 8 != 0,
            .zLossesCount: outputMask & 16 != 0,
        ]
        if let fault, requested[fault] == true { return false }
        // Every label the ignore index or a class (only read when there are positions).
        return n == 0
            || labels.allSatisfy {
                guard let t = $0.classIndex else { return false }
                return t == options.ignoreIndex || (t >= 0 && t < v)
            }
    }

    private func run<L: ClassLabel>(labels: [L], filler: L) throws {
        let expectSuccess = expectedSuccess(labels)
        let result = call(labels, filler: filler, budget: memoryBudget, accumulate: accumulate)
        guard (result != nil) == expectSuccess else {
            throw FuzzEntryPoints.violation(
                "linear-loss: expected \(expectSuccess ? "success" : "an error"), got "
                    + "\(result.map { "\($0.loss)" } ?? "an error") — \(describe())")
        }
        guard let result else { return }
        let (n, d, v) = (positions, features, classes)

        // What the inputs let us claim.
        let finiteInputs = (hidden + weight + bias).allSatisfy(\.isFinite)
        let largestHidden = hidden.reduce(0.0) { max($0, abs(Double($1))) }
        let largestWeight = weight.reduce(0.0) { max($0, abs(Double($1))) }
        let largestBias = bias.reduce(0.0) { max($0, abs(Double($1))) }
        // |logit| ≤ D·max|h|·max|w| + max|b|.
        let largestLogit = Double(d) * largestHidden * largestWeight + largestBias
        let weights = options.classWeights ?? []
        let moderateWeights = weights.allSatisfy { abs($0) <= 1e6 } && abs(options.lossWeight) <= 1e6
        let signed = weights.contains { $0 < 0 }
        let transform = FuzzLogitOptions.claims(
            options, largestLogit: largestLogit, classes: v, halfPrecision: false, gradientLimit: 1e20)
        // Logits that cannot overflow; per-position losses ≥ 0 without negative weights (no ∞ − ∞).
        let lossMustBeNumber =
            finiteInputs && moderateWeights && largestLogit <= (signed ? 1e4 : 1e30) && transform.lossIsNumber
        // The backward products multiply the softmax gradient by hidden and weight values.
        let gradientMustBeFinite =
            lossMustBeNumber && max(largestHidden, largestWeight, largestBias) <= 1e4 && transform.gradientIsFinite
        let ignored = labels.map { $0.classIndex != nil && $0.classIndex == options.ignoreIndex }
        let context = describe()

        if lossMustBeNumber && (result.loss.isNaN || (outputMask & 32 != 0 && result.zLoss.isNaN)) {
            throw FuzzEntryPoints.violation(
                "linear-loss: loss \(result.loss), z-loss \(result.zLoss) from finite inputs — \(context)")
        }
        if gradientMustBeFinite {
            for (name, values) in [
                ("dHidden", result.hiddenGradient), ("dWeight", result.weightGradient), ("dBias", result.biasGradient),
            ] {
                if let k = values.firstIndex(where: { !$0.isFinite }) {
                    throw FuzzEntryPoints.violation(
                        "linear-loss: \(name)[\(k)] = \(values[k]) from finite moderate inputs — \(context)")
                }
            }
        }
        // z terms: ≥ 0 (or NaN where the loss may be), reduced as the reduction says.
        if outputMask & 32 != 0, result.zLoss.isNaN ? lossMustBeNumber : !(result.zLoss >= 0) {
            throw FuzzEntryPoints.violation("linear-loss: reduced z-loss \(result.zLoss) — \(context)")
        }
        if outputMask & 16 != 0,
            let k = result.zLosses.firstIndex(where: { $0.isNaN ? lossMustBeNumber : !($0 >= 0) })
        {
            throw FuzzEntryPoints.violation("linear-loss: z term [\(k)] = \(result.zLosses[k]) — \(context)")
        }
        let finiteLogits = finiteInputs && largestLogit <= 1e30
        if finiteLogits && options.zLoss == 0 {
            if outputMask & 32 != 0 && result.zLoss != 0 {
                throw FuzzEntryPoints.violation(
                    "linear-loss: reduced z-loss \(result.zLoss) without a z-loss (loss \(result.loss)) — \(context)")
            }
            if outputMask & 16 != 0, let k = result.zLosses.firstIndex(where: { $0 != 0 }) {
                throw FuzzEntryPoints.violation(
                    "linear-loss: z term [\(k)] = \(result.zLosses[k]) without a z-loss (loss \(result.loss)) — \(context)"
                )
            }
        }
        if outputMask & 48 == 48, result.isFinite {
            try FuzzLogitOptions.checkReducedZ(
                result.zLoss, terms: result.zLosses.map { Double($0) }, reduction: options.reduction,
                layout: Layout(outer: n, classes: v, inner: 1), active: ignored.lazy.filter { !$0 }.count,
                tolerance: T.self == Double.self ? 1e-12 : 1e-6, describe: { "linear-loss: " + context })
        }

        // Ignored positions: loss, z term and dHidden row 0.
        if finiteLogits {
            for r in 0..<n where ignored[r] {
                if outputMask & 8 != 0 && result.losses[r] != 0 || outputMask & 16 != 0 && result.zLosses[r] != 0 {
                    throw FuzzEntryPoints.violation(
                        "linear-loss: ignored position \(r) has loss \(outputMask & 8 != 0 ? "\(result.losses[r])" : "-")"
                            + ", z term \(outputMask & 16 != 0 ? "\(result.zLosses[r])" : "-") — \(context)")
                }
                // ∞·0 = NaN: the gradient scale (the loss weight over the denominator) must be finite.
                guard outputMask & 1 != 0 && moderateWeights else { continue }
                if let k = (0..<d).first(where: { result.hiddenGradient[r * d + $0] != 0 }) {
                    throw FuzzEntryPoints.violation(
                        "linear-loss: ignored position \(r) has dHidden[\(k)] = \(result.hiddenGradient[r * d + k])"
                            + " — \(context)")
                }
            }
        }
        // Every position ignored (or none): loss 0, z-loss 0, zero gradients (the prior ones
        // unchanged when accumulating).
        if ignored.allSatisfy({ $0 }) {
            guard result.loss == 0, result.zLoss == 0 else {
                throw FuzzEntryPoints.violation(
                    "linear-loss: loss \(result.loss), z-loss \(result.zLoss) with every position ignored — \(context)")
            }
            if finiteInputs && moderateWeights {
                let expected: (Int) -> T = { accumulate ? Self.prior($0) : 0 }
                if let k = result.hiddenGradient.firstIndex(where: { $0 != 0 }) {
                    throw FuzzEntryPoints.violation(
                        "linear-loss: dHidden[\(k)] = \(result.hiddenGradient[k]) with every position ignored — \(context)"
                    )
                }
                for (name, values) in [("dWeight", result.weightGradient), ("dBias", result.biasGradient)] {
                    if let k = values.indices.first(where: { values[$0] != expected($0) }) {
                        throw FuzzEntryPoints.violation(
                            "linear-loss: \(name)[\(k)] = \(values[k]) with every position ignored"
                                + " (accumulate \(accumulate)) — \(context)")
                    }
                }
            }
        }

        guard finiteInputs else { return }
        let scales = errorScales(
            labels: labels, ignored: ignored, largest: (largestHidden, largestWeight, largestLogit))
        // The decoded budget against one chunk of every row: the same to rounding.
        if gradientFilter == 0, let whole = call(labels, filler: filler, budget: Int.max, accumulate: accumulate),
            whole.isFinite
        {
            try compare(
                result, whole, scales: scales, priorScale: accumulate ? 1.5 : 0,
                "budget \(memoryBudget) against one chunk")
        }
        // Accumulating adds the gradients to the prior contents.
        if accumulate, let plain = call(labels, filler: filler, budget: memoryBudget, accumulate: false), plain.isFinite
        {
            var expected = plain
            expected.weightGradient = plain.weightGradient.enumerated().map { Self.prior($0.offset) + $0.element }
            expected.biasGradient = plain.biasGradient.enumerated().map { Self.prior($0.offset) + $0.element }
            try compare(result, expected, scales: scales, priorScale: 1.5, "accumulated against prior + plain")
        }
    }

    /// Error scales of each output for comparing two calls that differ only in rounding
    /// (chunking, accumulation): bounds on the magnitudes of the terms each output sums, from
    /// the logits' magnitude, the transform, the weights and the denominators.
    struct ErrorScales {
        var loss: Double, losses: Double, zLosses: Double, hiddenGradient: Double, weightGradient: Double,
            biasGradient: Double
    }

    private func errorScales<L: ClassLabel>(
        labels: [L], ignored: [Bool], largest: (hidden: Double, weight: Double, logit: Double)
    ) -> ErrorScales {
        let (n, v) = (Double(positions), Double(classes))
        let t = options.temperature
        let lambda = options.zLoss
        let weightBound = max(1, (options.classWeights ?? []).reduce(0.0) { max($0, abs($1)) })
        // The transformed logits' rounding carries |logit|/T; their magnitude is at most that or c.
        let sError = largest.logit / t
        let lse = min(options.softcap ?? .infinity, sError) + log(max(v, 1)) + 1
        // 0 without a z-loss, not 0·∞ = NaN when the logits' scale squared overflows (logits
        // near 1e300 in Double made every scale NaN, so two calls had to agree to 1e-12).
        let zTerm = lambda == 0 ? 0 : lambda * (lse * lse + 2 * lse * sError)
        let perPosition = 2 * weightBound * (sError + lse) + zTerm
        // Denominators: Σ w_t over active labels for a weighted mean, their count for the z term.
        var weightSum = 0.0
        var active = 0
        for (label, skip) in zip(labels, ignored) where !skip {
            active += 1
            if let c = label.classIndex, c >= 0, c < classes {
                weightSum += options.classWeights?[c] ?? 1
            }
        }
        let mean = options.reduction == .mean
        let denominator = mean ? max(abs(weightSum), 1e-12) : 1
        let zDenominator = mean ? Double(max(active, 1)) : 1
        let gradient =
            abs(options.lossWeight) * max(1, 1 / t) * (2 * weightBound / denominator + 2 * lambda * lse / zDenominator)
        return ErrorScales(
            loss: n * (perPosition - zTerm) / denominator + n * zTerm / zDenominator, losses: perPosition,
            zLosses: zTerm, hiddenGradient: gradient * largest.weight * v,
            weightGradient: gradient * largest.hidden * n,
            biasGradient: gradient * n)
    }

    /// Checks that `got` equals `want` to rounding: within 1e-4 (Float) or 1e-10 (Double)
    /// of the larger of `want`'s largest magnitude and the output's error scale, plus a small
    /// absolute tolerance.
    private func compare(_ got: Result, _ want: Result, scales: ErrorScales, priorScale: Double, _ what: String) throws
    {
        let (relative, absolute) = T.self == Double.self ? (1e-10, 1e-12) : (1e-4, 1e-5)
        func check(_ name: String, _ a: [Double], _ b: [Double], _ scale: Double) throws {
            let largest = b.reduce(0.0) { max($0, abs($1)) }
            let tolerance = relative * max(largest, scale) + absolute
            for k in b.indices where !(abs(a[k] - b[k]) <= tolerance) {
                throw FuzzEntryPoints.violation(
                    "linear-loss: \(what): \(name)[\(k)] = \(a[k]), expected \(b[k]) (tolerance \(tolerance))"
                        + " — \(describe())")
            }
        }
        func doubles(_ values: [T]) -> [Double] { values.map { Double($0) } }
        try check("loss", [got.loss], [want.loss], scales.loss)
        try check("z-loss", [got.zLoss], [want.zLoss], scales.loss)
        try check("losses", doubles(got.losses), doubles(want.losses), scales.losses)
        try check("zLosses", doubles(got.zLosses), doubles(want.zLosses), scales.zLosses)
        try check("dHidden", doubles(got.hiddenGradient), doubles(want.hiddenGradient), scales.hiddenGradient)
        try check(
            "dWeight", doubles(got.weightGradient), doubles(want.weightGradient), scales.weightGradient + priorScale)
        try check("dBias", doubles(got.biasGradient), doubles(want.biasGradient), scales.biasGradient + priorScale)
    }

    /// The problem, for invariant messages.
    func describe() -> String {
        "\(T.self) hidden \(leadingDimensions + [features]) \(hidden.prefix(16)), weight [\(classes), \(features)]"
            + " \(weight.prefix(16)), bias \(hasBias ? "\(bias.prefix(16))" : "none"), options \(options),"
            + " labels \(labelType) \(labelValues.prefix(16)), fault \(fault.map { "\($0) by \(sizeDelta)" } ?? "none"),"
            + " outputs \(outputMask), budget \(memoryBudget), gradient filter \(gradientFilter),"
            + " accumulate \(accumulate)"
    }
}
