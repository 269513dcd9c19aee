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

    /// Throws a `DataError` naming the first setting out of range.
    public func validate() throws {
        guard epochs >= 1, epochs <= 100_000 else { throw DataError("--epochs \(epochs): must be 1...100000") }
        guard batchSize >= 1 else { throw DataError("--batch-size \(batchSize): must be at least 1") }
        guard learningRate.isFinite, learningRate > 0 else { throw DataError("--lr \(learningRate): must be positive") }
        guard momentum.isFinite, momentum >= 0, momentum < 1 else {
            throw DataError("--momentum \(momentum): must be in [0, 1)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw DataError("--weight-decay \(weightDecay): must be 0 or more")
        }
        guard labelSmoothing.isFinite, labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw DataError("--label-smoothing \(labelSmoothing): must be in [0, 1]")
        }
        if let step = learningRateStepEpochs {
            guard step >= 1 else { throw DataError("--lr-step \(step): must be at least 1") }
        }
        guard learningRateGamma.isFinite, learningRateGamma > 0 else {
            throw DataError("--lr-gamma \(learningRateGamma): must be positive")
        }
        if let hidden {
            guard hidden >= 1, hidden <= 65536 else { throw DataError("--hidden \(hidden): must be 1...65536") }
        }
        guard patchSize >= 1, patchSize <= 15, patchSize % 2 == 1 else {
            throw DataError("--patch \(patchSize): must be odd, 1...15")
        }
        guard testSplit.isFinite, testSplit >= 0, testSplit < 1 else {
            throw DataError("--test-split \(testSplit): must be in [0, 1)")
        }
        if let weights = classWeights, let bad = weights.first(where: { !$0.isFinite || $0 < 0 }) {
            throw DataError("--class-weights: \(bad) is not a finite non-negative weight")
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
