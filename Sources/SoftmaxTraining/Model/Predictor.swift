import Softmax

/// Runs a trained model: probabilities, predicted classes and masks, evaluations.
public struct Predictor {
    /// The model.
    public let model: SoftmaxModel
    private let scorer: Scorer

    /// A predictor for `model`.
    ///
    /// - Throws: `DataError` when the model is inconsistent.
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

    /// Class probabilities of every sample: `samples × classes` rows for classification,
    /// `samples × classes × height × width` (NCHW) for segmentation.
    public func probabilities(_ dataset: Dataset) throws -> [Float] {
        let classes = model.classNames.count
        let positions = dataset.positionsPerSample
        let count = ResourceLimits.bytes(
            count: dataset.samples, size: ResourceLimits.bytes(count: positions, size: classes))
        try ResourceLimits.check(
            ResourceLimits.bytes(count: count, size: 8), for: "the probabilities of \(dataset.samples) samples")
        var out = [Float](repeating: 0, count: count)
        var rows = [Float](repeating: 0, count: 0)
        try scorer.forEachChunk(of: dataset, samples: Array(0..<dataset.samples)) { first, count, scores in
            let rowCount = count * positions
            rows = [Float](repeating: 0, count: rowCount * classes)
            try scores.withUnsafeBufferPointer { x in
                try rows.withUnsafeMutableBufferPointer {
                    try softmax(x, shape: [rowCount, classes], axis: 1, into: $0)
                }
            }
            let base = first * positions * classes
            if positions == 1 {
                out.replaceSubrange(base..<(base + rowCount * classes), with: rows)
            } else {
                var planes = [Float](repeating: 0, count: rowCount * classes)
                transposeMatrices(rows, into: &planes, count: count, rows: positions, columns: classes)
                out.replaceSubrange(base..<(base + planes.count), with: planes)
            }
        }
        return out
    }

    /// The most probable class of every position (sample, or pixel in image order).
    public func predictedClasses(_ dataset: Dataset) throws -> [Int32] {
        let classes = model.classNames.count
        var out: [Int32] = []
        out.reserveCapacity(dataset.samples * dataset.positionsPerSample)
        try scorer.forEachChunk(of: dataset, samples: Array(0..<dataset.samples)) { _, count, scores in
            for r in 0..<(count * dataset.positionsPerSample) {
                out.append(Int32(argmax(scores, row: r, classes: classes)))
            }
        }
        return out
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
