import SoftmaxLayers

/// The hyper-parameters of a training run (the `softmax train` options), stored in the model.
public struct TrainingSettings: Codable, Sendable, Equatable {
    /// Passes over the training set.
    public var epochs: Int = 30
    /// Samples (images, for segmentation) per mini-batch.
    public var batchSize: Int = 32
    /// Caffe's `base_lr`.
    public var learningRate: Double = 0.05
    /// Caffe's `momentum`.
    public var momentum: Double = 0.9
    /// Caffe's `weight_decay` (L2, weights only).
    public var weightDecay: Double = 1e-3
    /// Multiply the learning rate by `learningRateGamma` every this many epochs (Caffe's
    /// `step` policy, counted in epochs); `nil` for a fixed rate.
    public var learningRateStepEpochs: Int?
    /// The step policy's factor.
    public var learningRateGamma: Double = 0.1
    /// Label smoothing ε in [0, 1].
    public var labelSmoothing: Double = 0
    /// One weight per class, or `nil`.
    public var classWeights: [Double]?
    /// Labels equal to this are ignored (segmentation: 255 by default).
    public var ignoreIndex: Int?
    /// The hidden layer's width, or `nil` for softmax regression.
    public var hidden: Int?
    /// Segmentation: the neighbourhood side gathered per pixel.
    public var patchSize: Int = 3
    /// The fraction of samples held out for testing when no test set is given.
    public var testSplit: Double = 0.2
    /// Seeds the split, the initial weights and the shuffles.
    public var seed: UInt64 = 0

    /// The defaults.
    public init() {}

    /// The settings `validate()` checks, named as the properties (what `TrainingSettingError`
    /// names; a front end maps them to its own spelling).
    public enum Setting: String, Sendable, CaseIterable {
        /// `epochs`.
        case epochs
        /// `batchSize`.
        case batchSize
        /// `learningRate`.
        case learningRate
        /// `momentum`.
        case momentum
        /// `weightDecay`.
        case weightDecay
        /// `learningRateStepEpochs`.
        case learningRateStepEpochs
        /// `learningRateGamma`.
        case learningRateGamma
        /// `labelSmoothing`.
        case labelSmoothing
        /// `classWeights` (also their count against the classes, checked by `Trainer`).
        case classWeights
        /// `hidden`.
        case hidden
        /// `patchSize`.
        case patchSize
        /// `testSplit`.
        case testSplit
    }

    /// Throws for the first setting out of range.  The solver's own settings (learning rate,
    /// momentum, weight decay, the step policy's gamma) are checked by `SGDSolver.Setting`'s
    /// rules — the ones `SGDSolver.init` applies — so that a bad value is reported here, before
    /// any data is read, and the two checks cannot disagree.
    ///
    /// - Throws: `TrainingSettingError` naming the setting.
    /// - Complexity: O(classes) for the class weights, O(1) otherwise.
    public func validate() throws {
        func check(_ isValid: Bool, _ setting: Setting, _ value: Any, _ requirement: String) throws {
            guard isValid else {
                throw TrainingSettingError(setting, .outOfRange(value: "\(value)", requirement: requirement))
            }
        }
        func checkSolver(_ rule: SGDSolver.Setting, _ setting: Setting, _ value: Double) throws {
            if let requirement = rule.requirement(violatedBy: value) {
                throw TrainingSettingError(setting, .outOfRange(value: "\(value)", requirement: requirement))
            }
        }
        try check(epochs >= 1 && epochs <= 100_000, .epochs, epochs, "must be 1...100000")
        try check(batchSize >= 1, .batchSize, batchSize, "must be at least 1")
        try checkSolver(.learningRate, .learningRate, learningRate)
        try checkSolver(.momentum, .momentum, momentum)
        try checkSolver(.weightDecay, .weightDecay, weightDecay)
        try check(
            labelSmoothing.isFinite && labelSmoothing >= 0 && labelSmoothing <= 1, .labelSmoothing, labelSmoothing,
            "must be in [0, 1]")
        if let step = learningRateStepEpochs {
            try check(step >= 1, .learningRateStepEpochs, step, "must be at least 1")
        }
        try checkSolver(.stepGamma, .learningRateGamma, learningRateGamma)
        if let hidden {
            try check(hidden >= 1 && hidden <= 65536, .hidden, hidden, "must be 1...65536")
        }
        try check(patchSize >= 1 && patchSize <= 15 && patchSize % 2 == 1, .patchSize, patchSize, "must be odd, 1...15")
        try check(testSplit.isFinite && testSplit >= 0 && testSplit < 1, .testSplit, testSplit, "must be in [0, 1)")
        if let weights = classWeights, let bad = weights.first(where: { !$0.isFinite || $0 < 0 }) {
            throw TrainingSettingError(
                .classWeights, .badElement(value: "\(bad)", problem: "is not a finite non-negative weight"))
        }
    }
}

/// Where a model's training data came from, so `softmax evaluate MODEL` can rebuild its test set.
public struct DataDescription: Codable, Sendable, Equatable {
    /// `digits` (embedded), `shapes` (generated segmentation images), `csv`, `npy` or `idx`.
    public var kind: String
    /// The data file, when there is one (as given on the command line).
    public var path: String?
    /// The labels file (`.npy`, IDX), when separate.
    public var labelsPath: String?
    /// CSV: the label column as given (`last`, a number or a name).
    public var labelColumn: String?
    /// CSV: `auto`, `yes` or `no`.
    public var header: String?
    /// Samples (images) in the whole set.
    public var samples: Int
    /// Generated images: their side.
    public var generatedSide: Int?
    /// A separate test set's data file (then `testSplit` was not used).
    public var testPath: String?
    /// A separate test set's labels file.
    public var testLabelsPath: String?

    /// A description.
    public init(
        kind: String, path: String? = nil, labelsPath: String? = nil, labelColumn: String? = nil, header: String? = nil,
        samples: Int, generatedSide: Int? = nil
    ) {
        self.kind = kind
        self.path = path
        self.labelsPath = labelsPath
        self.labelColumn = labelColumn
        self.header = header
        self.samples = samples
        self.generatedSide = generatedSide
    }
}

/// How a model was trained: settings, data, per-epoch history and the final figures.
public struct TrainingRecord: Codable, Sendable, Equatable {
    /// The hyper-parameters.
    public var settings: TrainingSettings
    /// The training data.
    public var data: DataDescription
    /// One record per epoch.
    public var history: [EpochRecord]
}
