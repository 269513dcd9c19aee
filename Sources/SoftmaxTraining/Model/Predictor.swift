import Softmax

/// Runs a trained model: probabilities, predicted classes and masks, evaluations.
public struct Predictor {
    /// The model.
    public let model: SoftmaxModel
    private let scorer: Scorer

    /// A predictor for `model`.
    ///
    /// - Throws: `ModelError` when the model is inconsistent.
    public init(model: SoftmaxModel) throws {
        try model.validate()
        self.model = model
        scorer = Scorer(
            network: try model.network(),
            transform: InputTransform(mean: model.inputMean, scale: model.inputScale, patchSize: model.patchSize))
    }

    /// Throws unless `dataset` has the model's task and input size.
    public func check(_ dataset: Dataset, source: String) throws {
        guard dataset.task == model.task else {
            throw DataError("\(source): the model is for \(model.task.rawValue), the data for \(dataset.task.rawValue)")
        }
        guard dataset.inputCount == model.inputCount else {
            let unit = model.task == .segmentation ? "channels" : "features"
            throw DataError("\(source): \(dataset.inputCount) \(unit) per sample; the model takes \(model.inputCount)")
        }
    }

    /// The most probable class of every position (sample, or pixel in image order) and, when
    /// `withProbabilities`, the class probabilities of every sample — `samples × classes` rows
    /// for classification, `samples × classes × height × width` (NCHW) for segmentation — from
    /// one pass of the network.
    public func predictions(_ dataset: Dataset, withProbabilities: Bool) throws -> (
        classes: [Int32], probabilities: [Float]?
    ) {
        let classes = model.classNames.count
        let positions = dataset.positionsPerSample
        var predicted: [Int32] = []
        predicted.reserveCapacity(dataset.samples * positions)
        var out: [Float]?
        if withProbabilities {
            let count = ResourceLimits.bytes(
                count: dataset.samples, size: ResourceLimits.bytes(count: positions, size: classes))
            try ResourceLimits.check(
                ResourceLimits.bytes(count: count, size: 8), for: "the probabilities of \(dataset.samples) samples")
            out = [Float](repeating: 0, count: count)
        }
        try scorer.forEachChunk(of: dataset, samples: Array(0..<dataset.samples)) { first, count, scores in
            let rowCount = count * positions
            for r in 0..<rowCount { predicted.append(Int32(argmax(scores, row: r, classes: classes))) }
            guard out != nil else { return }
            var rows = [Float](repeating: 0, count: rowCount * classes)
            try scores.withUnsafeBufferPointer { x in
                try rows.withUnsafeMutableBufferPointer {
                    try softmax(x, shape: [rowCount, classes], axis: 1, into: $0)
                }
            }
            if positions > 1 {
                var planes = [Float](repeating: 0, count: rows.count)
                transposeMatrices(rows, into: &planes, count: count, rows: positions, columns: classes)
                rows = planes
            }
            let base = first * positions * classes
            out!.replaceSubrange(base..<(base + rows.count), with: rows)
        }
        return (predicted, out)
    }

    /// Class probabilities of every sample (see `predictions(_:withProbabilities:)`).
    public func probabilities(_ dataset: Dataset) throws -> [Float] {
        try predictions(dataset, withProbabilities: true).probabilities ?? []
    }

    /// The most probable class of every position (sample, or pixel in image order).
    public func predictedClasses(_ dataset: Dataset) throws -> [Int32] {
        try predictions(dataset, withProbabilities: false).classes
    }

    /// The predicted mask of one image, row-major `height × width`.
    public func predictedMask(_ dataset: Dataset, sample: Int) throws -> [Int32] {
        try predictedClasses(dataset.subset([sample]))
    }

    /// Loss and confusion matrix on the samples at `indices`.
    public func evaluate(_ dataset: Dataset, samples indices: [Int], ignoreIndex: Int?) throws -> Evaluation {
        try scorer.evaluate(dataset, samples: indices, ignoreIndex: ignoreIndex)
    }
}
