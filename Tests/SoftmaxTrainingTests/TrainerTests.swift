import Foundation
import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

@testable import SoftmaxTraining

/// Two Gaussian blobs per class around well-separated centres: linearly separable.
func separableData(samples: Int, features: Int, classes: Int, seed: UInt64) -> Dataset {
    var rng = SplitMix64(seed: seed)
    let centres = (0..<classes).map { _ in (0..<features).map { _ in 4 * rng.gaussian() } }
    var values: [Float] = []
    var labels: [Int32] = []
    for n in 0..<samples {
        let k = n % classes
        labels.append(Int32(k))
        for f in 0..<features { values.append(Float(centres[k][f] + 0.3 * rng.gaussian())) }
    }
    return Dataset(
        task: .classification, samples: samples, inputCount: features, values: values, labels: labels,
        classNames: (0..<classes).map { "c\($0)" })
}

@Suite("Trainer")
struct TrainerTests {
    @Test func lossDecreasesOnASeparableProblem() throws {
        let data = separableData(samples: 300, features: 5, classes: 3, seed: 11)
        var settings = TrainingSettings()
        settings.epochs = 8
        let (train, test) = data.split(testFraction: 0.2, seed: 0)
        let result = try Trainer(settings: settings).train(
            data, samples: train, testSet: data, testSamples: test, data: DataDescription(kind: "test", samples: 300))
        let history = result.model.training!.history
        #expect(history.count == 8)
        #expect(history.last!.trainLoss < history.first!.trainLoss / 4)
        #expect(result.train.accuracy == 1)
        #expect(result.test!.accuracy == 1)
        #expect(result.test!.confusion.total == test.count)
    }

    @Test func sameSeedSameModelDifferentSeedDifferentModel() throws {
        let data = separableData(samples: 120, features: 4, classes: 2, seed: 5)
        var settings = TrainingSettings()
        settings.epochs = 3
        settings.hidden = 6
        func train(_ seed: UInt64) throws -> SoftmaxModel {
            settings.seed = seed
            let (a, b) = data.split(testFraction: 0.25, seed: seed)
            return try Trainer(settings: settings).train(
                data, samples: a, testSet: data, testSamples: b, data: DataDescription(kind: "test", samples: 120)
            ).model
        }
        let first = try train(1)
        let again = try train(1)
        let other = try train(2)
        #expect(first.layers == again.layers)
        #expect(first.layers != other.layers)
    }

    /// The gradient the trainer back-propagates (loss layer → transpose → ReLU network) equals
    /// the finite difference of the loss, for classification and for segmentation (NCHW, axis 1,
    /// with ignored pixels, class weights and label smoothing).  The differences are taken of
    /// the same loss re-implemented in float64 (dense layers, ReLU, transpose, and the shared
    /// cross-entropy reference), central with step 1e-5: accurate to about 1e-9, so the Float
    /// gradient must agree to 1e-4 relative, and a gradient off by 0.1 % fails.
    @Test(arguments: [SoftmaxModel.Task.classification, .segmentation])
    func networkGradientMatchesFiniteDifferences(task: SoftmaxModel.Task) throws {
        var rng = SplitMix64(seed: 21)
        let classes = 3
        let (images, height, width, channels) = (2, 3, 4, 2)
        let positions = task == .segmentation ? height * width : 1
        let samples = task == .segmentation ? images : 5
        let inputs = task == .segmentation ? channels : 4
        let rowCount = samples * positions
        let network = try Network(inputs: inputs, classes: classes, hidden: 5, generator: &rng)
        for layer in network.dense { layer.bias.data = layer.bias.data.map { _ in Float(rng.gaussian() * 0.1) } }
        let rows = (0..<(rowCount * inputs)).map { _ in Float(rng.gaussian()) }
        var labelValues = (0..<rowCount).map { _ in Float(rng.next() % UInt64(classes)) }
        labelValues[1] = 255
        let (classWeights, smoothing) = ([1.0, 2, 0.5], 0.1)
        let loss = try SoftmaxWithLossLayer<Float>(
            axis: 1, ignoreLabel: 255, classWeights: classWeights, labelSmoothing: smoothing)
        let labelShape = task == .segmentation ? [images, height, width] : [samples]
        let labels = try Blob<Float>(shape: labelShape, data: labelValues)
        let nchw = try Blob<Float>(shape: [0])
        let top = try Blob<Float>(shape: [])

        // The network's loss and gradient, in Float.
        let scores = try network.forward(rows[...], rows: rowCount)
        let input: Blob<Float>
        if task == .segmentation {
            try nchw.reshape([images, classes, height, width])
            transposeMatrices(scores.data, into: &nchw.data, count: images, rows: positions, columns: classes)
            input = nchw
        } else {
            input = scores
        }
        let networkLoss = try loss.forward(bottom: [input, labels], top: [top])
        try loss.backward(top: [top], bottom: [input, labels])
        if task == .segmentation {
            transposeMatrices(nchw.diff, into: &scores.diff, count: images, rows: classes, columns: positions)
        }
        try network.backward()

        // The same loss in float64, of the parameters (weights, bias per layer) as doubles.
        let scoreShape = task == .segmentation ? [images, classes, height, width] : [samples, classes]
        let options = CrossEntropyOptions(
            axis: 1, ignoreIndex: 255, classWeights: classWeights, labelSmoothing: smoothing)
        let targets = Reference.Targets.indices(labelValues.map { Int($0) })
        let x = rows.map(Double.init)
        func objective(_ parameters: [[Double]]) -> Double {
            var activations = x
            var width = inputs
            for (l, layer) in network.dense.enumerated() {
                let (w, b) = (parameters[2 * l], parameters[2 * l + 1])
                var next = [Double](repeating: 0, count: rowCount * layer.outputs)
                for r in 0..<rowCount {
                    for o in 0..<layer.outputs {
                        var sum = b[o]
                        for i in 0..<width { sum += w[o * width + i] * activations[r * width + i] }
                        next[r * layer.outputs + o] = l < network.dense.count - 1 ? max(sum, 0) : sum
                    }
                }
                (activations, width) = (next, layer.outputs)
            }
            var laidOut = activations
            if task == .segmentation {
                for n in 0..<images {
                    for p in 0..<positions {
                        for c in 0..<classes {
                            laidOut[(n * classes + c) * positions + p] = activations[(n * positions + p) * classes + c]
                        }
                    }
                }
            }
            return Reference.crossEntropy(laidOut, scoreShape, targets, options).loss
        }
        let blobs = network.dense.flatMap(\.parameters)
        var parameters = blobs.map { $0.data.map(Double.init) }
        let reference = objective(parameters)
        #expect(abs(networkLoss - reference) <= 1e-5 * abs(reference), "loss \(networkLoss), float64 \(reference)")

        let step = 1e-5
        var estimates: [[Double]] = []
        for (b, blob) in blobs.enumerated() {
            estimates.append(
                (0..<blob.count).map { i in
                    let original = parameters[b][i]
                    parameters[b][i] = original + step
                    let plus = objective(parameters)
                    parameters[b][i] = original - step
                    let minus = objective(parameters)
                    parameters[b][i] = original
                    return (plus - minus) / (2 * step)
                })
        }
        // 1e-4 of each element, and 1e-6 of the largest for elements that cancel to near 0
        // (the Float sums' rounding).
        let largest = estimates.joined().map(abs).max() ?? 0
        var checked = 0
        for (blob, estimate) in zip(blobs, estimates) {
            for i in 0..<blob.count {
                let computed = Double(blob.diff[i])
                #expect(
                    abs(computed - estimate[i]) <= 1e-4 * abs(estimate[i]) + 1e-6 * largest,
                    "element \(i) of a [\(blob.shape)] blob: \(computed), float64 \(estimate[i])")
                checked += 1
            }
        }
        #expect(checked == (inputs * 5 + 5) + (5 * classes + classes))
    }

    @Test func stratifiedSplitKeepsClassProportions() {
        // 100 of class 0, 50 of class 1, 10 of class 2.
        let labels =
            [Int32](repeating: 0, count: 100) + [Int32](repeating: 1, count: 50) + [Int32](repeating: 2, count: 10)
        let data = Dataset(
            task: .classification, samples: 160, inputCount: 1, values: [Float](repeating: 0, count: 160),
            labels: labels,
            classNames: ["a", "b", "c"])
        let (train, test) = data.split(testFraction: 0.2, seed: 4)
        #expect(Set(train).isDisjoint(with: test) && train.count + test.count == 160)
        let counts = (0..<3).map { k in test.filter { labels[$0] == k }.count }
        #expect(counts == [20, 10, 2])
        #expect(data.split(testFraction: 0.2, seed: 4).test == test)
        #expect(data.split(testFraction: 0.2, seed: 5).test != test)
    }

    @Test func confusionMatrixFigures() {
        var m = ConfusionMatrix(classes: 3)
        for (t, p) in [(0, 0), (0, 0), (0, 1), (1, 1), (2, 1), (2, 2)] { m.add(truth: t, predicted: p) }
        #expect(m.total == 6 && m.correct == 4)
        #expect(abs(m.accuracy - 4.0 / 6) < 1e-15)
        #expect(m.precision(1) == 1.0 / 3 && m.recall(0) == 2.0 / 3 && m.recall(2) == 0.5)
        #expect(m.intersectionOverUnion(0) == 2.0 / 3)  // TP 2, FP 0, FN 1
        #expect(m.intersectionOverUnion(1) == 1.0 / 3)  // TP 1, FP 2, FN 0
        #expect(m.intersectionOverUnion(2) == 0.5)  // TP 1, FP 0, FN 1
        #expect(abs(m.meanIntersectionOverUnion - (2.0 / 3 + 1.0 / 3 + 0.5) / 3) < 1e-15)
        #expect(ConfusionMatrix(classes: 2).precision(0) == nil)
    }

    @Test func digitsReachTheTargetAccuracy() throws {
        let loaded = try DataLoader.digits()
        let settings = TrainingSettings()
        let prepared = try PreparedData(DataRequest(), test: nil, settings: settings, classNames: nil)
        #expect(loaded.samples == 1797 && prepared.dataset.classNames == (0...9).map(String.init))
        let result = try Trainer(settings: settings).train(
            prepared.dataset, samples: prepared.trainSamples, testSet: prepared.testSet,
            testSamples: prepared.testSamples, data: prepared.description)
        #expect(result.test!.accuracy >= 0.965)
    }

    @Test func badSettingsAreRejected() throws {
        let data = separableData(samples: 20, features: 2, classes: 2, seed: 1)
        for change in [
            { (s: inout TrainingSettings) in s.epochs = 0 }, { $0.batchSize = 0 }, { $0.learningRate = -1 },
            { $0.momentum = 1 }, { $0.labelSmoothing = 2 }, { $0.patchSize = 2 }, { $0.testSplit = 1 },
            { $0.classWeights = [1, 2, 3] },
        ] {
            var settings = TrainingSettings()
            change(&settings)
            #expect(throws: TrainingSettingError.self) {
                try Trainer(settings: settings).train(
                    data, samples: Array(0..<20), testSet: nil, testSamples: [],
                    data: DataDescription(kind: "t", samples: 20))
            }
        }
    }
}
