import Softmax
import SoftmaxLayers

/// What `Trainer.train` reports while it runs.
public enum TrainingEvent: Sendable {
    /// `done` of `total` mini-batches of epoch `epoch` are finished.
    case batch(epoch: Int, done: Int, total: Int)
    /// An epoch ended.
    case epoch(EpochRecord)
}

/// Mini-batch SGD on the package's layers: inner product (→ ReLU → inner product) →
/// `SoftmaxWithLossLayer`, with Caffe's solver.
///
/// Classification feeds the loss `[batch, classes]` scores (class axis 1).  Segmentation
/// computes the scores of every pixel as rows, lays them out as `[batch, classes, height,
/// width]` and runs `SoftmaxWithLossLayer` with `axis: 1` over the images — the per-pixel
/// loss of a segmentation network, averaged over the non-ignored pixels — then takes the
/// gradient back to rows.
public struct Trainer {
    /// The hyper-parameters.
    public var settings: TrainingSettings

    /// A trainer.
    public init(settings: TrainingSettings) { self.settings = settings }

    /// Trains on `trainIndices` of `dataset`, evaluating on `testIndices` of `testSet` after
    /// every epoch.
    ///
    /// - Returns: the trained model (with its training record) and the final evaluations.
    /// - Throws: `DataError` for bad settings or labels; `TrainingDiverged` when a batch's loss
    ///   or the final parameters are not finite (no model is returned); `SoftmaxError` from
    ///   the kernels.
    public func train(
        _ dataset: Dataset, samples trainIndices: [Int], testSet: Dataset?, testSamples testIndices: [Int],
        data: DataDescription, progress: (TrainingEvent) -> Void = { _ in }
    ) throws -> (model: SoftmaxModel, train: Evaluation, test: Evaluation?) {
        try settings.validate()
        let classes = dataset.classNames.count
        guard classes >= 2 else { throw DataError("the training data has \(classes) class; at least 2 are needed") }
        guard !trainIndices.isEmpty else { throw DataError("no training samples") }
        if let weights = settings.classWeights, weights.count != classes {
            throw DataError("--class-weights has \(weights.count) values for \(classes) classes")
        }
        var generator = SplitMix64(seed: settings.seed)
        let transform = InputTransform(fitting: dataset, samples: trainIndices, patchSize: settings.patchSize)
        try checkMemory(dataset, transform: transform, classes: classes)
        let network = try Network(
            inputs: transform.rowFeatures, classes: classes, hidden: settings.hidden, generator: &generator)
        let batchesPerEpoch = (trainIndices.count + settings.batchSize - 1) / settings.batchSize
        let policy: SGDSolver.LearningRatePolicy =
            settings.learningRateStepEpochs.map {
                .step(stepSize: $0 * batchesPerEpoch, gamma: settings.learningRateGamma)
            } ?? .fixed
        let solver = try SGDSolver(
            parameters: network.solverParameters, learningRate: settings.learningRate, momentum: settings.momentum,
            weightDecay: settings.weightDecay, policy: policy)
        let segmentation = dataset.task == .segmentation
        let lossLayer = try SoftmaxWithLossLayer<Float>(
            axis: 1, ignoreLabel: settings.ignoreIndex, normalization: .valid, classWeights: settings.classWeights,
            labelSmoothing: settings.labelSmoothing)
        let scoresNCHW = try Blob<Float>(shape: [0])
        let labels = try Blob<Float>(shape: [0])
        let lossTop = try Blob<Float>(shape: [])
        let scorer = Scorer(network: network, transform: transform)
        let perSample = dataset.positionsPerSample
        var history: [EpochRecord] = []
        var order = trainIndices
        var last: (train: Evaluation, test: Evaluation?)?
        let clock = ContinuousClock()

        for epoch in 1...settings.epochs {
            let started = clock.now
            fisherYatesShuffle(&order, &generator)
            var lossSum = 0.0
            for batch in 0..<batchesPerEpoch {
                let members = order[
                    (batch * settings.batchSize)..<Swift.min((batch + 1) * settings.batchSize, order.count)]
                let rows = transform.rows(of: dataset, samples: members)
                let scores = try network.forward(rows[...], rows: members.count * perSample)
                try labels.reshape(segmentation ? [members.count, dataset.height, dataset.width] : [members.count])
                var position = 0
                for n in members {
                    for p in 0..<perSample {
                        labels.data[position] = Float(dataset.labels[n * perSample + p])
                        position += 1
                    }
                }
                let lossInput: Blob<Float>
                if segmentation {
                    try scoresNCHW.reshape([members.count, classes, dataset.height, dataset.width])
                    transposeMatrices(
                        scores.data, into: &scoresNCHW.data, count: members.count, rows: perSample, columns: classes)
                    lossInput = scoresNCHW
                } else {
                    lossInput = scores
                }
                let batchLoss = try lossLayer.forward(bottom: [lossInput, labels], top: [lossTop])
                // A NaN or infinite loss only spreads: stop at once rather than train on it
                // for the remaining epochs and fail to write the model.
                guard batchLoss.isFinite else {
                    throw TrainingDiverged(epoch: epoch, loss: batchLoss, learningRate: settings.learningRate)
                }
                lossSum += batchLoss
                try lossLayer.backward(top: [lossTop], bottom: [lossInput, labels])
                if segmentation {
                    transposeMatrices(
                        scoresNCHW.diff, into: &scores.diff, count: members.count, rows: classes, columns: perSample)
                }
                try network.backward()
                solver.step()
                progress(.batch(epoch: epoch, done: batch + 1, total: batchesPerEpoch))
            }
            let trainEvaluation = try scorer.evaluate(dataset, samples: trainIndices, ignoreIndex: settings.ignoreIndex)
            let testEvaluation = try testSet.flatMap { set in
                testIndices.isEmpty
                    ? nil : try scorer.evaluate(set, samples: testIndices, ignoreIndex: settings.ignoreIndex)
            }
            let elapsed = clock.now - started
            let record = EpochRecord(
                epoch: epoch, trainLoss: lossSum / Double(batchesPerEpoch), trainAccuracy: trainEvaluation.accuracy,
                testLoss: testEvaluation?.loss, testAccuracy: testEvaluation?.accuracy,
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            history.append(record)
            progress(.epoch(record))
            last = (trainEvaluation, testEvaluation)
        }
        let layers = SoftmaxModel.layers(of: network)
        if !layers.allSatisfy({ $0.weights.allSatisfy(\.isFinite) && $0.bias.allSatisfy(\.isFinite) }) {
            throw TrainingDiverged(
                epoch: settings.epochs, loss: history.last?.trainLoss ?? .nan, learningRate: settings.learningRate)
        }
        let model = SoftmaxModel(
            task: dataset.task, classNames: dataset.classNames, inputCount: dataset.inputCount,
            inputMean: transform.mean,
            inputScale: transform.scale, patchSize: transform.patchSize, layers: layers,
            training: TrainingRecord(settings: settings, data: data, history: history))
        return (model, last!.train, last!.test)
    }
}

extension Trainer {
    /// Throws `SoftmaxError.tooLarge` when the parameters (data, diff, momentum) or one
    /// mini-batch's rows, scores and gradients would not fit `ResourceLimits.maximumBytes`.
    func checkMemory(_ dataset: Dataset, transform: InputTransform, classes: Int) throws {
        let features = transform.rowFeatures
        let widths = [features] + (settings.hidden.map { [$0] } ?? []) + [classes]
        var parameters = 0
        for (a, b) in zip(widths, widths.dropFirst()) {
            parameters = ResourceLimits.bytes(adding: parameters, ResourceLimits.bytes(count: a + 1, size: b))
        }
        let rows = ResourceLimits.bytes(
            count: Swift.min(settings.batchSize, dataset.samples), size: dataset.positionsPerSample)
        // Per row: the features (and the layer's copy), activations and scores with their gradients.
        let perRow = 2 * features + 2 * (settings.hidden ?? 0) + 4 * classes
        let total = ResourceLimits.bytes(
            adding: ResourceLimits.bytes(count: parameters, size: 12),
            ResourceLimits.bytes(count: rows, size: 4 * perRow))
        try ResourceLimits.check(total, for: "training (\(features) features per row, batch \(settings.batchSize))")
    }
}

/// Transposes each of `count` consecutive `rows × columns` matrices of `source` into
/// `columns × rows` in `destination`: `[images, positions, classes]` (a row of scores per pixel)
/// to `[images, classes, positions]` (NCHW) with `rows: positions, columns: classes`, and back
/// with the two swapped.
func transposeMatrices(_ source: [Float], into destination: inout [Float], count: Int, rows: Int, columns: Int) {
    source.withUnsafeBufferPointer { src in
        destination.withUnsafeMutableBufferPointer { dst in
            for n in 0..<count {
                let base = n * rows * columns
                for r in 0..<rows { for c in 0..<columns { dst[base + c * rows + r] = src[base + r * columns + c] } }
            }
        }
    }
}
