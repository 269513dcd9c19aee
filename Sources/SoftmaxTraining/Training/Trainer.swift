import Softmax
import SoftmaxLayers

/// What `Trainer.train` reports while it runs.
public enum TrainingEvent: Sendable {
    /// `done` of `total` mini-batches of epoch `epoch` are finished.
    case batch(epoch: Int, done: Int, total: Int)
    /// An epoch ended.
    case epoch(EpochRecord)
}

/// Mini-batch SGD on the package's layers: `Network` (inner product → ReLU → inner product)
/// under a `LossHead` (`SoftmaxWithLossLayer`), with Caffe's solver.
///
/// Each step is forward → backward → reduce gradients → solver step; the reduce step is
/// `gradientReducer`, which does nothing in one process (see `GradientReducer`).
///
/// Data-parallel training: when `gradientReducer.processCount` is K > 1, K processes (each
/// with the same data, settings and seed, hence the same initial weights and shuffles) train
/// one model.  Each takes its contiguous share of every global batch (`batchSize` samples
/// split as evenly as possible, rank 0 first), computes the mean loss and its gradient over
/// its share, and `reduce(_:loss:denominator:)` turns them into the whole batch's in every
/// process (one allreduce), so every process takes the same solver step.  The results equal
/// the one-process run's up to the order of summation; with K = 1 the trainer runs the
/// one-process path itself, bit for bit.  After each epoch each process evaluates its share
/// of the samples and the figures are added with `sum(_:)`.
public struct Trainer {
    /// The hyper-parameters.
    public var settings: TrainingSettings
    /// Combines each step's gradients before the solver's update (the data-parallel seam).
    public var gradientReducer: any GradientReducer

    /// A trainer.
    ///
    /// - Parameters:
    ///   - settings: The hyper-parameters.
    ///   - gradientReducer: Called once per mini-batch with every parameter's gradient;
    ///     `SingleProcessReducer()` (the default) leaves them as they are.
    public init(settings: TrainingSettings, gradientReducer: any GradientReducer = SingleProcessReducer()) {
        self.settings = settings
        self.gradientReducer = gradientReducer
    }

    /// Trains on `trainIndices` of `dataset`, evaluating on `testIndices` of `testSet` after
    /// every epoch.
    ///
    /// Data-parallel (`gradientReducer.processCount > 1`), every process calls this with the
    /// same arguments and settings; each returns the same model and evaluations, and calls
    /// `progress` with the same events.
    ///
    /// - Parameters:
    ///   - dataset: The training set.
    ///   - trainIndices: The samples to train on.
    ///   - testSet: The set to evaluate on after each epoch, or `nil`.
    ///   - testIndices: Its samples to evaluate (none: no test figures).
    ///   - data: Where the data came from, stored in the model's training record.
    ///   - progress: Called after every mini-batch and every epoch.
    /// - Returns: the trained model (with its training record) and the final evaluations.
    /// - Throws: `TrainingSettingError` for bad settings (also class weights that are not one
    ///   per class); `DataError` for fewer than 2 classes or no samples; `TrainingDiverged`
    ///   when a batch's loss or the final parameters are not finite (no model is returned);
    ///   `SoftmaxError` from the kernels (a label outside the classes, a size too large);
    ///   what `gradientReducer` throws.  Data-parallel, a batch whose loss is not finite
    ///   throws in every process alike; a label outside the classes throws in the process
    ///   whose share holds it (the others then wait in the next collective, or throw what
    ///   the transport throws).
    /// - Complexity: O(epochs · samples · positions · Σ inputs · outputs of the layers), over
    ///   K processes each about 1/K of it, plus one allreduce of the parameters per batch.
    public func train(
        _ dataset: Dataset, samples trainIndices: [Int], testSet: Dataset?, testSamples testIndices: [Int],
        data: DataDescription, progress: (TrainingEvent) -> Void = { _ in }
    ) throws -> (model: SoftmaxModel, train: Evaluation, test: Evaluation?) {
        try settings.validate()
        let classes = dataset.classNames.count
        guard classes >= 2 else { throw DataError("the training data has \(classes) class; at least 2 are needed") }
        guard !trainIndices.isEmpty else { throw DataError("no training samples") }
        if let weights = settings.classWeights, weights.count != classes {
            throw TrainingSettingError(
                .classWeights, .wrongCount(count: weights.count, expected: classes, unit: "classes"))
        }
        let processCount = gradientReducer.processCount
        precondition(
            processCount >= 1 && (0..<processCount).contains(gradientReducer.processRank),
            "the gradient reducer's rank \(gradientReducer.processRank) of \(processCount)")
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
        let gradients = ParameterGradients(network.parameters)
        let loss = try LossHead(dataset: dataset, settings: settings)
        let scorer = Scorer(network: network, transform: transform)
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
                // Forward and backward over the batch (data-parallel: over this process's
                // share, with one allreduce giving every process the whole batch's gradient and
                // loss); the gradient reducer is a no-op in one process.
                let batchLoss =
                    processCount > 1
                    ? try dataParallelStep(
                        members, of: dataset, transform: transform, network: network, loss: loss,
                        gradients: gradients)
                    : try singleProcessStep(
                        members, of: dataset, transform: transform, network: network, loss: loss,
                        gradients: gradients)
                // A NaN or infinite loss only spreads: stop at once rather than train on it
                // for the remaining epochs and fail to write the model.
                guard batchLoss.isFinite else {
                    throw TrainingDiverged(epoch: epoch, loss: batchLoss, learningRate: settings.learningRate)
                }
                lossSum += batchLoss
                solver.step()
                progress(.batch(epoch: epoch, done: batch + 1, total: batchesPerEpoch))
            }
            let (trainEvaluation, testEvaluation) =
                processCount > 1
                ? try evaluateShares(
                    scorer, dataset, samples: trainIndices, testSet: testSet, testSamples: testIndices)
                : (
                    try scorer.evaluate(dataset, samples: trainIndices, ignoreIndex: settings.ignoreIndex),
                    try testSet.flatMap { set in
                        testIndices.isEmpty
                            ? nil : try scorer.evaluate(set, samples: testIndices, ignoreIndex: settings.ignoreIndex)
                    }
                )
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
    /// One step of one process up to the solver's update: forward and backward over the whole
    /// batch, then `gradientReducer.reduce(_:)` (a no-op for `SingleProcessReducer`).
    ///
    /// - Returns: The batch's mean loss (not checked for being finite).
    /// - Throws: `SoftmaxError` from the kernels; what `gradientReducer` throws.
    /// - Complexity: O(batch rows · Σ inputs · outputs of the layers).
    func singleProcessStep(
        _ members: ArraySlice<Int>, of dataset: Dataset, transform: InputTransform, network: Network,
        loss: LossHead, gradients: ParameterGradients
    ) throws -> Double {
        let rows = transform.rows(of: dataset, samples: members)
        let scores = try network.forward(rows[...], rows: members.count * dataset.positionsPerSample)
        let batchLoss = try loss.forward(scores: scores, samples: members)
        try loss.backward(scores: scores, samples: members.count)
        try network.backward()
        try gradientReducer.reduce(gradients)
        return batchLoss
    }

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
