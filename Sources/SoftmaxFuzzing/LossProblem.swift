import Softmax

/// The element types of class-index targets the loss fuzzer tries.
enum FuzzLabelType: CaseIterable {
    case int8, int32, int64, uint8, int, float, double
}

/// A small cross-entropy problem decoded from fuzzer bytes, and the invariants of its result.
///
/// The decoding: element type (chosen by the caller), rank 1–4, dimensions 0–8 (sometimes up to
/// 64), axis (default,
/// or −6…6), reduction, ignore index, class weights (sometimes the wrong count or non-finite),
/// label smoothing and loss weight (sometimes out of their domain), input kind, target kind
/// (class indices of one of ``FuzzLabelType`` or probabilities), a buffer of the wrong size, the
/// outputs to fill (the gradient sometimes in place over the scores), then one byte per score
/// and per target; then the temperature, softcap and z-loss (``FuzzLogitOptions``) and a byte
/// for the z-loss outputs — after the rest, so inputs from before these options keep their
/// meaning (a missing byte reads 0: the defaults, no z-loss outputs).
struct LossProblem<T: SoftmaxScalar> {
    var shape: [Int]
    var options: CrossEntropyOptions
    /// `nil` for probability targets.
    var labelType: FuzzLabelType?
    /// Which buffer gets the wrong size (0 scores, 1 targets, 2–5 outputs), or `nil`.
    var wrongBuffer: Int?
    var sizeDelta: Int
    /// Bits 0–3: gradient, losses, probabilities, log-probabilities; bit 4: gradient in place.
    var outputMask: UInt8
    /// Bit 0: the per-position z terms; bit 1: the reduced z-loss; bit 2: the z terms' buffer
    /// off by `sizeDelta`.
    var zOutputMask: UInt8
    var scores: [T]
    /// Label values as `Double` (converted to `labelType` when run); probabilities as `T`.
    var labelValues: [Double]
    var probabilityTargets: [T]

    /// Scores from one byte each: mostly −32…32 in quarters, sometimes NaN, ±∞, ±the largest
    /// finite value or the smallest subnormal.
    static func score(_ b: UInt8) -> T {
        switch b {
        case 0xFF: .nan
        case 0xFE: .infinity
        case 0xFD: -.infinity
        case 0xFC: .greatestFiniteMagnitude
        case 0xFB: -.greatestFiniteMagnitude
        case 0xFA: .leastNonzeroMagnitude
        default: T(Double(Int8(bitPattern: b)) / 4)
        }
    }

    init(_ input: inout FuzzInput) {
        let rank = 1 + Int(input.byte() % 4)
        // Mostly 0–8; bytes from 0xE0 give 9–64, so long rows reach the kernels' vector loops and
        // tails (at most 4096 elements: the first dimensions shrink to 8 when over).
        var dims = (0..<rank).map { _ in
            let b = input.byte()
            return b < 0xE0 ? Int(b % 9) : 9 + Int(b % 56)
        }
        for d in dims.indices where dims.reduce(1, *) > 4096 { dims[d] = min(dims[d], 8) }
        shape = dims
        var options = CrossEntropyOptions()
        if input.byte() % 4 != 0 { options.axis = Int(input.byte() % 13) - 6 }
        options.reduction = input.pick(LossReduction.allCases)
        options.ignoreIndex = input.pick([nil, nil, -100, 0, 1, 255, -1, 7, Int.min, Int.max])
        let axis = try? Layout.normalizedAxis(options.resolvedAxis(rank: rank), rank: rank)
        let classes = axis.map { dims[$0] } ?? rank
        let weightValues: [Double] = [1, 0.5, 2, 0, -1, 1e-3, 1e3, 0.25, 1e300, .nan, .infinity, -.infinity]
        switch input.byte() % 5 {
        case 0, 1: options.classWeights = nil
        case 2, 3: options.classWeights = (0..<classes).map { _ in input.pick(Array(weightValues.prefix(8))) }
        default:
            let count = max(0, classes + Int(input.byte() % 3) - 1)
            options.classWeights = (0..<count).map { _ in input.pick(weightValues) }
        }
        options.labelSmoothing = input.pick([0, 0, 0, 0.1, 0.5, 1, 1e-9, 0.999, -0.1, 1.5, .nan, .infinity])
        options.lossWeight = input.pick([1, 1, 1, 0, -1, 2.5, 1e-3, 1e30, 1e300, .nan, .infinity])
        options.input = input.byte() % 4 == 3 ? .logProbabilities : .logits
        self.options = options
        let kind = input.byte() % 8
        labelType = kind == 0 ? nil : FuzzLabelType.allCases[Int(kind - 1) % FuzzLabelType.allCases.count]
        let wrong = input.byte() % 16
        wrongBuffer = wrong < 6 ? Int(wrong) : nil
        sizeDelta = [-1, 1, 3][Int(input.byte() % 3)]
        outputMask = input.byte()

        let count = dims.reduce(1, *)
        scores = (0..<count).map { _ in Self.score(input.byte()) }
        var positions = count
        if let axis { positions = dims.enumerated().filter { $0.offset != axis }.map(\.element).reduce(1, *) }
        let ignore = Double(options.ignoreIndex ?? -100)
        let specials: [Double] = [
            -1, Double(classes), Double(classes + 1), ignore, -100, 255, 128, 0.5, -0.5, .nan, .infinity, -.infinity,
            1e10, -1e10, 0x1p63, 40000,
        ]
        labelValues = []
        probabilityTargets = []
        if labelType == nil {
            probabilityTargets = (0..<count).map { _ in
                let b = input.byte()
                switch b {
                case 0xFF: return .nan
                case 0xFE: return .infinity
                case 0xFD: return -0.5
                case 0xFC: return 2
                default: return T(Double(b) / 251)
                }
            }
        } else {
            labelValues = (0..<positions).map { _ in
                let b = input.byte()
                return b < 0xF0 ? Double(Int(b) % max(classes, 1)) : specials[Int(b & 0x0F)]
            }
        }
        FuzzLogitOptions.decode(&input, into: &self.options)
        zOutputMask = input.byte()
    }

    /// A buffer size: `correct`, or off by `sizeDelta` when `index` is the wrong buffer.
    private func size(_ correct: Int, _ index: Int) -> Int {
        guard wrongBuffer == index else { return correct }
        return correct + sizeDelta >= 0 ? correct + sizeDelta : correct + 1
    }

    /// Runs the problem and checks the result.
    ///
    /// - Throws: `FuzzInvariantViolation` when a check fails.
    func run() throws {
        switch labelType {
        case nil: try run(labels: [Double](), filler: 0)
        case .int8: try run(labels: labelValues.map { Self.integer($0) as Int8 }, filler: 0)
        case .int32: try run(labels: labelValues.map { Self.integer($0) as Int32 }, filler: 0)
        case .int64: try run(labels: labelValues.map { Self.integer($0) as Int64 }, filler: 0)
        case .uint8: try run(labels: labelValues.map { Self.integer($0) as UInt8 }, filler: 0)
        case .int: try run(labels: labelValues.map { Self.integer($0) as Int }, filler: 0)
        case .float: try run(labels: labelValues.map { Float($0) }, filler: 0)
        case .double: try run(labels: labelValues, filler: 0)
        }
    }

    /// `value` as an integer label: truncated towards zero and wrapped to `I`'s width (NaN and
    /// out-of-range values become the extremes), so every type sees out-of-range labels.
    static func integer<I: FixedWidthInteger>(_ value: Double) -> I {
        guard value.isFinite else { return value.isNaN ? I.max : (value < 0 ? I.min : I.max) }
        let t = value.rounded(.towardZero)
        if t >= 0x1p63 { return I.max }
        if t <= -0x1p63 { return I.min }
        return I(truncatingIfNeeded: Int64(t))
    }

    private func run<L: ClassLabel>(labels: [L], filler: L) throws {
        let rank = shape.count
        let axis = try? Layout.normalizedAxis(options.resolvedAxis(rank: rank), rank: rank)
        let layout = axis.flatMap { try? Layout(shape: shape, axis: $0) }
        let count = scores.count
        let positions = layout?.positions ?? labels.count
        let classes = layout?.classes ?? 0
        let indexTargets = labelType != nil

        // What the call must accept.
        // Weights must be finite in the compute type (Float for Float and Float16).
        let largest = T.self == Double.self ? Double.greatestFiniteMagnitude : Double(Float.greatestFiniteMagnitude)
        let optionsValid =
            options.labelSmoothing >= 0 && options.labelSmoothing <= 1 && abs(options.lossWeight) <= largest
            && (options.classWeights.map { $0.count == classes && $0.allSatisfy { abs($0) <= largest } } ?? true)
        let labelsValid = labels.allSatisfy {
            guard let t = $0.classIndex else { return false }
            return t == options.ignoreIndex || (t >= 0 && t < classes)
        }
        let wantGradient = outputMask & 1 != 0
        let gradientInPlace = wantGradient && outputMask & 16 != 0 && wrongBuffer != 2
        // A wrong size matters only for a buffer the call gets.
        let used = [
            true, true, wantGradient && !gradientInPlace, outputMask & 2 != 0, outputMask & 4 != 0, outputMask & 8 != 0,
        ]
        let wantZLosses = zOutputMask & 1 != 0
        let wantZLoss = zOutputMask & 2 != 0
        let zLossesWrong = wantZLosses && zOutputMask & 4 != 0
        let sizesRight = (wrongBuffer.map { !used[$0] } ?? true) && !zLossesWrong
        // Temperature, softcap and z-loss: in their domains, finite (with the inverses of the
        // first two) in the compute type, and only with logits.
        let logitOptionsValid = FuzzLogitOptions.valid(options, doublePrecision: T.self == Double.self)
        let expectSuccess =
            layout != nil && sizesRight && optionsValid && logitOptionsValid && (!indexTargets || labelsValid)

        // When the results must be finite.
        let finiteScores = scores.allSatisfy(\.isFinite)
        let weights = options.classWeights ?? []
        let moderateWeights = weights.allSatisfy { abs($0) <= 1e6 } && abs(options.lossWeight) <= 1e6
        let moderateScores = scores.allSatisfy { abs(Double($0)) <= 1e4 }
        let signed =
            weights.contains { $0 < 0 } || probabilityTargets.contains { !($0 >= 0 && $0 <= 1) }
        let finiteTargets = probabilityTargets.allSatisfy(\.isFinite)
        // Huge finite scores may overflow per-position losses to ±∞; with logits and non-negative
        // weights and targets every per-position loss is ≥ 0, so the sum cannot be ∞ − ∞.
        let lossesNonNegative = options.input == .logits && !signed
        let halfPrecision = T.significandBitCount < 15
        // A temperature, softcap or z-loss narrows both claims to moderate values.
        let largestScore = scores.reduce(0.0) { max($0, abs(Double($1))) }
        let transform = FuzzLogitOptions.claims(
            options, largestLogit: largestScore, classes: classes, halfPrecision: halfPrecision)
        let lossMustBeNumber =
            finiteScores && moderateWeights && finiteTargets && (lossesNonNegative || moderateScores)
            && transform.lossIsNumber
        let gradientMustBeFinite =
            finiteScores && moderateWeights && finiteTargets
            && (!halfPrecision || (options.classWeights == nil && abs(options.lossWeight) <= 10))
            && transform.gradientIsFinite
        let ignored = indexTargets ? labels.map { $0.classIndex != nil && $0.classIndex == options.ignoreIndex } : []

        var scoreBuffer = [T](repeating: 0, count: size(count, 0))
        for k in 0..<min(count, scoreBuffer.count) { scoreBuffer[k] = scores[k] }
        var gradient = [T](repeating: 0, count: wantGradient && !gradientInPlace ? size(count, 2) : 0)
        var losses = [T](repeating: 0, count: outputMask & 2 != 0 ? size(positions, 3) : 0)
        var probabilities = [T](repeating: 0, count: outputMask & 4 != 0 ? size(count, 4) : 0)
        var logProbabilities = [T](repeating: 0, count: outputMask & 8 != 0 ? size(count, 5) : 0)
        // Filled with 7 so that a z term left unwritten shows.
        let zCount = positions + (zLossesWrong ? (positions + sizeDelta >= 0 ? sizeDelta : 1) : 0)
        var zLosses = [T](repeating: 7, count: wantZLosses ? zCount : 0)
        // The reduced z-loss's cell starts as NaN: every call that succeeds must write it.
        let zLoss = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        zLoss.initialize(to: .nan)
        defer { zLoss.deallocate() }
        var labelBuffer = labels
        var probabilityBuffer = probabilityTargets
        if wrongBuffer == 1 {
            if indexTargets {
                labelBuffer = Array(labels.prefix(size(labels.count, 1)))
                while labelBuffer.count < size(labels.count, 1) { labelBuffer.append(filler) }
            } else {
                probabilityBuffer = [T](repeating: 0.5, count: size(count, 1))
            }
        }

        var result: Double?
        scoreBuffer.withUnsafeMutableBufferPointer { x in
            gradient.withUnsafeMutableBufferPointer { g in
                losses.withUnsafeMutableBufferPointer { l in
                    probabilities.withUnsafeMutableBufferPointer { p in
                        logProbabilities.withUnsafeMutableBufferPointer { lp in
                            zLosses.withUnsafeMutableBufferPointer { z in
                                let outputs = CrossEntropyOutputs<T>(
                                    gradient: wantGradient ? (gradientInPlace ? x : g) : nil,
                                    losses: outputMask & 2 != 0 ? l : nil,
                                    probabilities: outputMask & 4 != 0 ? p : nil,
                                    logProbabilities: outputMask & 8 != 0 ? lp : nil,
                                    zLosses: wantZLosses ? z : nil, zLoss: wantZLoss ? zLoss : nil)
                                if indexTargets {
                                    result = labelBuffer.withUnsafeBufferPointer {
                                        try? crossEntropy(
                                            scores: UnsafeBufferPointer(x), shape: shape, classIndices: $0,
                                            options: options, outputs: outputs)
                                    }
                                } else {
                                    result = probabilityBuffer.withUnsafeBufferPointer {
                                        try? crossEntropy(
                                            scores: UnsafeBufferPointer(x), shape: shape, probabilities: $0,
                                            options: options, outputs: outputs)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if gradientInPlace { gradient = scoreBuffer }

        guard (result != nil) == expectSuccess else {
            throw FuzzEntryPoints.violation(
                "loss: expected \(expectSuccess ? "success" : "an error"), got \(result.map { "\($0)" } ?? "an error")"
                    + " — \(describe())")
        }
        guard let loss = result, let layout else { return }
        if lossMustBeNumber && loss.isNaN {
            throw FuzzEntryPoints.violation("loss: NaN loss from finite scores and valid options — \(describe())")
        }
        if wantGradient && gradientMustBeFinite, let k = gradient.firstIndex(where: { !$0.isFinite }) {
            throw FuzzEntryPoints.violation("loss: gradient[\(k)] = \(gradient[k]) from finite scores — \(describe())")
        }
        try checkZLoss(
            wantZLosses ? zLosses : nil, wantZLoss ? zLoss.pointee : nil, loss: loss, layout: layout, ignored: ignored,
            mustBeNumbers: lossMustBeNumber, finiteScores: finiteScores)
        guard indexTargets else { return }
        if options.reduction == .mean && ignored.allSatisfy({ $0 }) {
            guard loss == 0, !wantZLoss || zLoss.pointee == 0 else {
                throw FuzzEntryPoints.violation(
                    "loss: \(loss) (z-loss \(zLoss.pointee)) under mean with every label ignored — \(describe())")
            }
            if wantGradient && finiteScores, let k = gradient.firstIndex(where: { $0 != 0 }) {
                throw FuzzEntryPoints.violation(
                    "loss: gradient[\(k)] = \(gradient[k]) under mean with every label ignored — \(describe())")
            }
        }
        // Ignored positions contribute nothing: zero loss and zero gradient.
        guard finiteScores else { return }
        for position in 0..<layout.positions where ignored[position] {
            if outputMask & 2 != 0 && losses[position] != 0 {
                throw FuzzEntryPoints.violation(
                    "loss: ignored position \(position) has loss \(losses[position]) — \(describe())")
            }
            if wantZLosses && zLosses[position] != 0 {
                throw FuzzEntryPoints.violation(
                    "loss: ignored position \(position) has z term \(zLosses[position]) — \(describe())")
            }
            // A loss weight or class weight beyond the compute type's range (1e300 in Float) makes
            // the gradient scale infinite, and ∞·0 is NaN even here: only moderate ones are checked.
            guard wantGradient && moderateWeights else { continue }
            let (outer, inner) = position.quotientAndRemainder(dividingBy: max(layout.inner, 1))
            for c in 0..<layout.classes {
                let k = (outer * layout.classes + c) * layout.inner + inner
                if gradient[k] != 0 {
                    throw FuzzEntryPoints.violation(
                        "loss: ignored position \(position) has gradient \(gradient[k]) — \(describe())")
                }
            }
        }
    }

    /// The z-loss outputs of a call that succeeded: every z term `λ·lse²` is ≥ 0 or NaN (a
    /// number when the loss must be; 0 where ignored, checked by the caller), without a
    /// z-loss every term and the reduced z-loss are 0 (finite scores), and the reduced z-loss
    /// is the terms' sum over the reduction's z denominator (Float and Double buffers: Float16
    /// terms are rounded when stored).
    ///
    /// - Parameters:
    ///   - terms: the per-position z terms, when requested.
    ///   - reduced: the reduced z-loss, when requested.
    ///   - ignored: per position, whether its label is the ignore index (empty for
    ///     probability targets).
    private func checkZLoss(
        _ terms: [T]?, _ reduced: Double?, loss: Double, layout: Layout, ignored: [Bool], mustBeNumbers: Bool,
        finiteScores: Bool
    ) throws {
        if let reduced, reduced.isNaN ? mustBeNumbers : !(reduced >= 0) {
            throw FuzzEntryPoints.violation("loss: reduced z-loss \(reduced) — \(describe())")
        }
        if let terms, let k = terms.firstIndex(where: { $0.isNaN ? mustBeNumbers : !($0 >= 0) }) {
            throw FuzzEntryPoints.violation("loss: z term [\(k)] = \(terms[k]) — \(describe())")
        }
        guard finiteScores else { return }
        if options.zLoss == 0 {
            if let reduced, reduced != 0 {
                throw FuzzEntryPoints.violation(
                    "loss: reduced z-loss \(reduced) without a z-loss (loss \(loss)) — \(describe())")
            }
            if let terms, let k = terms.firstIndex(where: { $0 != 0 }) {
                throw FuzzEntryPoints.violation(
                    "loss: z term [\(k)] = \(terms[k]) without a z-loss (loss \(loss)) — \(describe())")
            }
        }
        guard let terms, let reduced, T.significandBitCount >= 15, terms.allSatisfy(\.isFinite), reduced.isFinite
        else { return }
        try FuzzLogitOptions.checkReducedZ(
            reduced, terms: terms.map { Double($0) }, reduction: options.reduction, layout: layout,
            active: ignored.isEmpty ? nil : ignored.lazy.filter { !$0 }.count,
            tolerance: T.self == Double.self ? 1e-12 : 1e-6, describe: describe)
    }

    /// The problem, for invariant messages.
    func describe() -> String {
        "\(T.self) scores \(shape) \(scores.prefix(16)), options \(options), labels \(labelType.map { "\($0)" } ?? "probabilities")"
            + " \(labelType == nil ? probabilityTargets.prefix(16).map { "\($0)" } : labelValues.prefix(16).map { "\($0)" })"
            + ", wrong buffer \(wrongBuffer.map { "\($0) by \(sizeDelta)" } ?? "none"), outputs \(outputMask)"
            + ", z outputs \(zOutputMask)"
    }
}
