import Softmax
import SoftmaxDistributed
import SoftmaxTraining
import Testing

/// Data-parallel training on ranks of a local group against the one-process trainer: the same
/// seed and global batch size must train the same model up to the order of summation — loss
/// curves within rounding, the same accuracies — and a group of one the same bits.
@Suite("Data-parallel training")
struct DataParallelTrainingTests {
    /// What one run returns: the model and the final evaluations.
    typealias Run = (model: SoftmaxModel, train: Evaluation, test: Evaluation?)

    /// The embedded digits with the default split (1437 train, 360 test samples).
    static let digits = try! PreparedData(DataRequest(), test: nil, settings: TrainingSettings(), classNames: nil)

    /// Trains in one process with the default reducer.
    func trainAlone(
        _ settings: TrainingSettings, _ dataset: Dataset, samples: [Int], testSet: Dataset?, testSamples: [Int]
    ) throws -> Run {
        try Trainer(settings: settings).train(
            dataset, samples: samples, testSet: testSet, testSamples: testSamples,
            data: DataDescription(kind: "test", samples: dataset.samples))
    }

    /// Trains on `processes` ranks of a local group; returns every rank's result, rank 0 first.
    func trainTogether(
        _ processes: Int, _ settings: TrainingSettings, _ dataset: Dataset, samples: [Int], testSet: Dataset?,
        testSamples: [Int]
    ) throws -> [Run] {
        try LocalCommunicatorGroup.run(size: processes) { communicator in
            try Trainer(settings: settings, gradientReducer: CommunicatorGradientReducer(communicator)).train(
                dataset, samples: samples, testSet: testSet, testSamples: testSamples,
                data: DataDescription(kind: "test", samples: dataset.samples))
        }
    }

    /// The largest difference between two models' parameters over the largest parameter.
    func relativeDistance(_ a: SoftmaxModel, _ b: SoftmaxModel) -> Float {
        let pairs = zip(a.layers, b.layers).flatMap { zip($0.weights + $0.bias, $1.weights + $1.bias) }
        let scale = pairs.map { abs($0.0) }.max() ?? 1
        return (pairs.map { abs($0 - $1) }.max() ?? .infinity) / scale
    }

    /// Checks the ranks against the one-process run: every rank holds the same model and
    /// figures; each epoch's training loss is within `lossTolerance` (relative), the final
    /// parameters within `parameterTolerance` of the largest, the accuracies equal; and the
    /// evaluations the ranks summed from their shares are those of one process evaluating
    /// the ranks' model (counts exactly, the loss to 1e-12).
    func expectSameTraining(
        _ ranks: [Run], _ alone: Run, evaluating dataset: Dataset, samples: [Int], testSet: Dataset?,
        testSamples: [Int], ignoreIndex: Int?, lossTolerance: Double = 1e-5, parameterTolerance: Float = 1e-5
    ) throws {
        let first = ranks[0]
        for (rank, run) in ranks.enumerated().dropFirst() {
            #expect(run.model.layers == first.model.layers, "rank \(rank) holds another model")
            #expect(run.train.confusion == first.train.confusion && run.train.loss == first.train.loss)
            #expect(run.test?.confusion == first.test?.confusion && run.test?.loss == first.test?.loss)
            #expect(
                run.model.training!.history.map(\.trainLoss) == first.model.training!.history.map(\.trainLoss))
        }
        let together = first.model.training!.history
        let oneProcess = alone.model.training!.history
        #expect(together.count == oneProcess.count)
        for (a, b) in zip(together, oneProcess) {
            #expect(
                abs(a.trainLoss - b.trainLoss) <= lossTolerance * abs(b.trainLoss),
                "epoch \(a.epoch): loss \(a.trainLoss) vs \(b.trainLoss) in one process")
            #expect(a.trainAccuracy == b.trainAccuracy, "epoch \(a.epoch)")
            #expect(a.testAccuracy == b.testAccuracy, "epoch \(a.epoch)")
            if let x = a.testLoss, let y = b.testLoss { #expect(abs(x - y) <= lossTolerance * abs(y)) }
        }
        let distance = relativeDistance(first.model, alone.model)
        #expect(distance <= parameterTolerance, "parameters differ by \(distance) of the largest")
        #expect(first.train.confusion == alone.train.confusion)
        #expect(first.test?.confusion == alone.test?.confusion)

        let predictor = try Predictor(model: first.model)
        let train = try predictor.evaluate(dataset, samples: samples, ignoreIndex: ignoreIndex)
        #expect(first.train.confusion == train.confusion)
        #expect(abs(first.train.loss - train.loss) <= 1e-12 * abs(train.loss))
        if let testSet, !testSamples.isEmpty {
            let test = try predictor.evaluate(testSet, samples: testSamples, ignoreIndex: ignoreIndex)
            #expect(first.test?.confusion == test.confusion)
            #expect(abs(first.test!.loss - test.loss) <= 1e-12 * abs(test.loss))
        }
    }

    /// Two and three ranks train the digits as one process does: a hidden layer, batches of
    /// 32 (the last batch of 29 does not split evenly), three epochs.
    @Test(arguments: [2, 3])
    func digitsOnSeveralRanksMatchOneProcess(processes: Int) throws {
        var settings = TrainingSettings()
        settings.epochs = 3
        settings.hidden = 16
        settings.seed = 7
        let data = Self.digits
        let alone = try trainAlone(
            settings, data.dataset, samples: data.trainSamples, testSet: data.testSet, testSamples: data.testSamples)
        let ranks = try trainTogether(
            processes, settings, data.dataset, samples: data.trainSamples, testSet: data.testSet,
            testSamples: data.testSamples)
        #expect(alone.test!.accuracy > 0.9)
        try expectSameTraining(
            ranks, alone, evaluating: data.dataset, samples: data.trainSamples, testSet: data.testSet,
            testSamples: data.testSamples, ignoreIndex: nil)
    }

    /// A group of one — `SingleProcessCommunicator` or a local group of one rank — trains the
    /// same bits as the default reducer: the trainer takes its one-process path.
    @Test func groupOfOneIsBitIdentical() throws {
        var settings = TrainingSettings()
        settings.epochs = 2
        settings.hidden = 8
        settings.seed = 3
        let data = Self.digits
        let alone = try trainAlone(
            settings, data.dataset, samples: data.trainSamples, testSet: data.testSet, testSamples: data.testSamples)
        let single = try Trainer(
            settings: settings, gradientReducer: CommunicatorGradientReducer(SingleProcessCommunicator())
        ).train(
            data.dataset, samples: data.trainSamples, testSet: data.testSet, testSamples: data.testSamples,
            data: DataDescription(kind: "test", samples: data.dataset.samples))
        let local = try trainTogether(
            1, settings, data.dataset, samples: data.trainSamples, testSet: data.testSet,
            testSamples: data.testSamples)[0]
        for run in [single, local] {
            #expect(run.model.layers == alone.model.layers)
            let losses = run.model.training!.history.map {
                [$0.trainLoss, $0.trainAccuracy, $0.testLoss!, $0.testAccuracy!]
            }
            #expect(
                losses
                    == alone.model.training!.history.map {
                        [$0.trainLoss, $0.trainAccuracy, $0.testLoss!, $0.testAccuracy!]
                    })
            #expect(run.train.loss == alone.train.loss && run.train.confusion == alone.train.confusion)
            #expect(run.test!.loss == alone.test!.loss && run.test!.confusion == alone.test!.confusion)
        }
    }

    /// Batches of 2 on 3 ranks: rank 2's share is always empty (it contributes zeros), and
    /// the last batch of one sample leaves rank 1's empty too.
    @Test func batchesSmallerThanTheRanks() throws {
        var settings = TrainingSettings()
        settings.epochs = 2
        settings.batchSize = 2
        settings.seed = 11
        let data = Self.digits
        let samples = Array(data.trainSamples.prefix(121))
        let testSamples = Array(data.testSamples.prefix(50))
        let alone = try trainAlone(
            settings, data.dataset, samples: samples, testSet: data.testSet, testSamples: testSamples)
        let ranks = try trainTogether(
            3, settings, data.dataset, samples: samples, testSet: data.testSet, testSamples: testSamples)
        try expectSameTraining(
            ranks, alone, evaluating: data.dataset, samples: samples, testSet: data.testSet,
            testSamples: testSamples, ignoreIndex: nil)
    }

    /// Class weights, label smoothing and ignored labels: each rank's mean divides by its own
    /// share's weight sum, so the shares must be weighted by it.  A third of the training
    /// labels are ignored: batches of 4 on 3 ranks give shares whose labels are all ignored
    /// (denominator 0) and whole batches with nothing to learn (the batch's loss 0).
    @Test(arguments: [2, 3])
    func classWeightsAndIgnoredLabelsWeightTheShares(processes: Int) throws {
        let data = Self.digits
        var dataset = data.dataset
        let ignored: Int32 = 255
        for (i, n) in data.trainSamples.enumerated() where i % 3 == 1 { dataset.labels[n] = ignored }
        for (i, n) in data.testSamples.enumerated() where i % 5 == 2 { dataset.labels[n] = ignored }
        let samples = Array(data.trainSamples.prefix(600))
        var settings = TrainingSettings()
        settings.epochs = 2
        settings.batchSize = 4
        settings.seed = 5
        settings.ignoreIndex = Int(ignored)
        settings.classWeights = [0.5, 1, 2, 3, 0.25, 1.5, 1, 4, 0.75, 2.5]
        settings.labelSmoothing = 0.1
        let alone = try trainAlone(
            settings, dataset, samples: samples, testSet: dataset, testSamples: data.testSamples)
        let ranks = try trainTogether(
            processes, settings, dataset, samples: samples, testSet: dataset, testSamples: data.testSamples)
        try expectSameTraining(
            ranks, alone, evaluating: dataset, samples: samples, testSet: dataset, testSamples: data.testSamples,
            ignoreIndex: Int(ignored))
    }

    /// Every label of the training set ignored: each batch's loss is 0 and only weight decay
    /// moves the weights, on any number of ranks as in one process.
    @Test func everyLabelIgnored() throws {
        let data = Self.digits
        var dataset = data.dataset
        for n in data.trainSamples { dataset.labels[n] = 255 }
        let samples = Array(data.trainSamples.prefix(40))
        var settings = TrainingSettings()
        settings.epochs = 2
        settings.batchSize = 8
        settings.ignoreIndex = 255
        let alone = try trainAlone(settings, dataset, samples: samples, testSet: nil, testSamples: [])
        let ranks = try trainTogether(3, settings, dataset, samples: samples, testSet: nil, testSamples: [])
        #expect(ranks[0].model.training!.history.map(\.trainLoss) == [0, 0])
        #expect(ranks[0].test == nil && ranks[0].train.confusion.total == 0)
        try expectSameTraining(
            ranks, alone, evaluating: dataset, samples: samples, testSet: nil, testSamples: [], ignoreIndex: 255)
    }

    /// Segmentation of the generated shapes (ignored boundary pixels): three ranks share
    /// batches of 4 images (2, 1 and 1 of them).
    @Test func segmentationOnThreeRanks() throws {
        let shapes = GeneratedShapes.make(count: 14, side: 16, seed: 4)
        let (samples, testSamples) = shapes.split(testFraction: 0.25, seed: 4)
        var settings = TrainingSettings()
        settings.epochs = 2
        settings.batchSize = 4
        settings.hidden = 6
        settings.ignoreIndex = Int(GeneratedShapes.boundaryLabel)
        settings.seed = 2
        let alone = try trainAlone(settings, shapes, samples: samples, testSet: shapes, testSamples: testSamples)
        let ranks = try trainTogether(
            3, settings, shapes, samples: samples, testSet: shapes, testSamples: testSamples)
        try expectSameTraining(
            ranks, alone, evaluating: shapes, samples: samples, testSet: shapes, testSamples: testSamples,
            ignoreIndex: settings.ignoreIndex)
    }
}
