import SoftmaxKernels

/// How per-position losses are combined into the result.
public enum LossReduction: String, Sendable, CaseIterable {
    /// Per-position losses, shape of the class-index targets (ignored positions give 0).
    case none
    /// Σ losses (Caffe's normalization `NONE`).
    case sum
    /// Σ losses / Σ w_t over non-ignored positions for class indices (PyTorch, ONNX; Caffe's
    /// `VALID` when unweighted); Σ losses / positions for probability targets.
    case mean
    /// Σ losses / number of positions, ignored ones included (Caffe's `FULL`).
    case full
    /// Σ losses / the outer count, the product of dimensions before the class axis
    /// (Caffe's `BATCH_SIZE`).
    case batchSize = "batch-size"
}

/// What the scores are.
public enum ScoreKind: String, Sendable, CaseIterable {
    /// Unnormalised scores: the loss applies log-softmax first (cross-entropy).
    case logits
    /// Log-probabilities already: the loss is the negative log-likelihood (NLL).
    case logProbabilities = "log-probabilities"
}

/// The options of the cross-entropy loss (SPEC: "Cross-entropy loss").
public struct CrossEntropyOptions: Sendable, Equatable {
    /// The class axis of the scores; `nil` means 1, or 0 for 1-D scores (PyTorch, ONNX, Caffe).
    public var axis: Int?
    /// How per-position losses are combined.
    public var reduction: LossReduction
    /// A class-index target equal to this is ignored, even outside `0..<C`.
    public var ignoreIndex: Int?
    /// One weight per class (`w_c`), or `nil` for all 1.
    public var classWeights: [Double]?
    /// Label smoothing `ε` in [0, 1]: the target becomes `(1−ε)·target + ε/C`.
    public var labelSmoothing: Double
    /// Caffe's `loss_weight` λ: scales the gradient (not the reported loss).
    public var lossWeight: Double
    /// Whether the scores are logits or log-probabilities.
    public var input: ScoreKind
    /// The temperature `T > 0`: the logits are divided by it before the softmax (1: none).
    public var temperature: Double
    /// The softcap `c > 0`: after the temperature, `s = c·tanh(s/c)` (Gemma 2); `nil`: none.
    public var softcap: Double?
    /// The z-loss `λ ≥ 0` (PaLM uses 1e-4): each position not ignored adds `λ·lse²` of its
    /// transformed scores to the loss (0: none).
    public var zLoss: Double

    /// Options with PyTorch's defaults: class axis 1, mean reduction, no ignore index, no
    /// weights, no smoothing, loss weight 1, logits, no logit transform, no z-loss.
    public init(
        axis: Int? = nil, reduction: LossReduction = .mean, ignoreIndex: Int? = nil,
        classWeights: [Double]? = nil, labelSmoothing: Double = 0, lossWeight: Double = 1,
        input: ScoreKind = .logits, temperature: Double = 1, softcap: Double? = nil, zLoss: Double = 0
    ) {
        self.axis = axis
        self.reduction = reduction
        self.ignoreIndex = ignoreIndex
        self.classWeights = classWeights
        self.labelSmoothing = labelSmoothing
        self.lossWeight = lossWeight
        self.input = input
        self.temperature = temperature
        self.softcap = softcap
        self.zLoss = zLoss
    }

    /// True when a temperature or softcap changes the logits before the softmax.
    public var transformsLogits: Bool { temperature != 1 || softcap != nil }

    /// The temperature and softcap in the kernels' type `S`.
    package func logitTransform<S: KernelScalar>(_: S.Type) -> LogitTransform<S> {
        LogitTransform(temperature: S(temperature), softcap: softcap.map { S($0) })
    }

    /// The class axis for scores of `rank` dimensions.
    public func resolvedAxis(rank: Int) -> Int { axis ?? (rank == 1 ? 0 : 1) }

    /// Throws unless every option is in its domain (the class weights' count is checked
    /// against the scores by each call).
    ///
    /// - Throws: `SoftmaxError.invalidOption` naming the first option out of its domain.
    public func validate() throws { try validate(classes: classWeights?.count ?? 0) }

    /// Throws unless the numeric options are finite in the compute type `C` (`Float` for
    /// `Float` and `Float16` buffers): a weight finite in Double but not in Float would make the
    /// gradient scale infinite (and ∞·0 = NaN, even at ignored positions), and the kernels take
    /// `1/T` and `1/c`.
    package func validateLimits<C: BinaryFloatingPoint>(computingIn _: C.Type) throws {
        let computeName = C.self == Double.self ? "float64" : "float32"
        let largest = Double(C.greatestFiniteMagnitude)
        guard abs(lossWeight) <= largest else {
            throw SoftmaxError.invalidOption(
                name: "loss weight", value: "\(lossWeight)", reason: "it is not finite in \(computeName)")
        }
        if let weights = classWeights, let i = weights.firstIndex(where: { abs($0) > largest }) {
            throw SoftmaxError.invalidOption(
                name: "class weight", value: "\(weights[i]) at index \(i)", reason: "it is not finite in \(computeName)"
            )
        }
        for (name, value) in [("temperature", temperature), ("softcap", softcap ?? 1)]
        where value > largest || 1 / value > largest {
            throw SoftmaxError.invalidOption(
                name: name, value: "\(value)", reason: "it or its inverse is not finite in \(computeName)")
        }
        guard zLoss <= largest else {
            throw SoftmaxError.invalidOption(
                name: "z-loss", value: "\(zLoss)", reason: "it is not finite in \(computeName)")
        }
    }

    /// Throws unless every option is in its domain for `classes` classes.
    package func validate(classes: Int) throws {
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw SoftmaxError.invalidOption(
                name: "label smoothing", value: "\(labelSmoothing)", reason: "it must be in [0, 1]")
        }
        guard temperature > 0, temperature.isFinite else {
            throw SoftmaxError.invalidOption(
                name: "temperature", value: "\(temperature)", reason: "it must be positive and finite")
        }
        if let softcap {
            guard softcap > 0, softcap.isFinite else {
                throw SoftmaxError.invalidOption(
                    name: "softcap", value: "\(softcap)", reason: "it must be positive and finite")
            }
        }
        guard zLoss >= 0, zLoss.isFinite else {
            throw SoftmaxError.invalidOption(
                name: "z-loss", value: "\(zLoss)", reason: "it must be a finite number at least 0")
        }
        if input == .logProbabilities && (transformsLogits || zLoss != 0) {
            throw SoftmaxError.invalidOption(
                name: "input", value: input.rawValue,
                reason: "temperature, softcap and z-loss apply to logits, not log-probabilities")
        }
        guard lossWeight.isFinite else {
            throw SoftmaxError.invalidOption(name: "loss weight", value: "\(lossWeight)", reason: "it must be finite")
        }
        if let weights = classWeights {
            guard weights.count == classes else {
                throw SoftmaxError.invalidOption(
                    name: "class weights", value: "(\(weights.count) values)",
                    reason: "there must be one per class (\(classes))")
            }
            if let i = weights.firstIndex(where: { !$0.isFinite }) {
                throw SoftmaxError.invalidOption(
                    name: "class weight", value: "\(weights[i]) at index \(i)", reason: "weights must be finite")
            }
        }
    }
}

/// Caller-provided output buffers of a cross-entropy call; each is optional.
public struct CrossEntropyOutputs<Element: SoftmaxScalar> {
    /// Receives the gradient of the reduced loss (times the loss weight) with respect to the
    /// scores; shape of the scores.
    public var gradient: UnsafeMutableBufferPointer<Element>?
    /// Receives the per-position losses (before reduction, z terms included); shape of the
    /// scores without the class axis.
    public var losses: UnsafeMutableBufferPointer<Element>?
    /// Receives the softmax probabilities; shape of the scores.
    public var probabilities: UnsafeMutableBufferPointer<Element>?
    /// Receives the log-probabilities (ONNX's `log_prob`); shape of the scores.
    public var logProbabilities: UnsafeMutableBufferPointer<Element>?
    /// Receives the per-position z terms `λ·lse²` alone (0 where ignored, and everywhere
    /// without a z-loss); shape of the per-position losses.
    public var zLosses: UnsafeMutableBufferPointer<Element>?
    /// Receives the reduced z-loss alone (already included in the returned loss).
    public var zLoss: UnsafeMutablePointer<Double>?

    /// Outputs to fill; `nil` ones are not computed.
    public init(
        gradient: UnsafeMutableBufferPointer<Element>? = nil,
        losses: UnsafeMutableBufferPointer<Element>? = nil,
        probabilities: UnsafeMutableBufferPointer<Element>? = nil,
        logProbabilities: UnsafeMutableBufferPointer<Element>? = nil,
        zLosses: UnsafeMutableBufferPointer<Element>? = nil, zLoss: UnsafeMutablePointer<Double>? = nil
    ) {
        self.gradient = gradient
        self.losses = losses
        self.probabilities = probabilities
        self.logProbabilities = logProbabilities
        self.zLosses = zLosses
        self.zLoss = zLoss
    }
}
