import Foundation
import Softmax
import SoftmaxLayers
import Testing

@testable import SoftmaxTraining

/// Records every call and optionally scales the gradients by `factor`.
final class RecordingReducer: GradientReducer {
    let factor: Float?
    var calls = 0
    var first: [Float]?
    init(factor: Float? = nil) { self.factor = factor }
    func reduce(_ gradients: ParameterGradients) throws {
        calls += 1
        if first == nil { first = gradients.packed() }
        guard let factor else { return }
        try gradients.updatePacked { buffer in
            for i in buffer.indices { buffer[i] *= factor }
        }
    }
}

@Suite("Gradient reducer: the step between backward and the solver")
struct GradientReducerTests {
    let data = separableData(samples: 40, features: 3, classes: 3, seed: 17)
    let description = DataDescription(kind: "test", samples: 40)

    func train(_ settings: TrainingSettings, reducer: any GradientReducer = SingleProcessReducer()) throws
        -> SoftmaxModel
    {
        try Trainer(settings: settings, gradientReducer: reducer).train(
            data, samples: Array(0..<32), testSet: nil, testSamples: [], data: description
        ).model
    }

    /// The reducer runs once per mini-batch, and its first call sees the gradient of the mean
    /// cross-entropy of softmax regression at the initial weights, computed here in Double.
    @Test func calledOncePerStepWithTheBatchGradient() throws {
        var settings = TrainingSettings()
        settings.epochs = 3
        settings.batchSize = 32  // one batch holding every training sample: the gradient is order-free
        settings.seed = 4
        let reducer = RecordingReducer()
        _ = try train(settings, reducer: reducer)
        #expect(reducer.calls == 3)

        let train = Array(0..<32)
        let transform = InputTransform(fitting: data, samples: train, patchSize: settings.patchSize)
        let rows = transform.rows(of: data, samples: train)
        var generator = SplitMix64(seed: settings.seed)
        let initial = try Network(inputs: 3, classes: 3, hidden: nil, generator: &generator).dense[0]
        var dW = [Double](repeating: 0, count: 9)
        var db = [Double](repeating: 0, count: 3)
        for n in train {
            let x = (0..<3).map { Double(rows[n * 3 + $0]) }
            let z = (0..<3).map { o in
                (0..<3).reduce(Double(initial.bias.data[o])) { $0 + Double(initial.weights.data[o * 3 + $1]) * x[$1] }
            }
            let top = z.max()!
            let e = z.map { Foundation.exp($0 - top) }
            let total = e.reduce(0, +)
            for o in 0..<3 {
                let g = (e[o] / total - (Int(data.labels[n]) == o ? 1 : 0)) / 32
                db[o] += g
                for i in 0..<3 { dW[o * 3 + i] += g * x[i] }
            }
        }
        let got = try #require(reducer.first)
        #expect(got.count == 12)
        for (g, want) in zip(got, dW + db) {
            #expect(abs(Double(g) - want) <= 1e-5 * max(1, abs(want)), "\(g) vs \(want)")
        }
    }

    /// With no momentum and no weight decay, a reducer that zeroes the gradients leaves every
    /// parameter at its initial value.
    @Test func zeroGradientsLeaveTheParametersUnchanged() throws {
        var settings = TrainingSettings()
        settings.epochs = 2
        settings.batchSize = 8
        settings.momentum = 0
        settings.weightDecay = 0
        settings.hidden = 4
        settings.seed = 9
        let reducer = RecordingReducer(factor: 0)
        let model = try train(settings, reducer: reducer)
        #expect(reducer.calls == 2 * 4)
        var generator = SplitMix64(seed: 9)
        let initial = try Network(inputs: 3, classes: 3, hidden: 4, generator: &generator)
        #expect(model.layers.map(\.weights) == initial.dense.map(\.weights.data))
        #expect(model.layers.map(\.bias) == initial.dense.map(\.bias.data))
        #expect(try train(settings).layers != model.layers)  // without the reducer, training moves them
    }

    /// Doubling the gradients is training with twice the learning rate (momentum included,
    /// weight decay 0: decay is added after the reduction and would not double).
    @Test func doubledGradientsEqualADoubledLearningRate() throws {
        var settings = TrainingSettings()
        settings.epochs = 3
        settings.batchSize = 8
        settings.weightDecay = 0
        settings.hidden = 4
        settings.learningRate = 0.02
        let doubled = try train(settings, reducer: RecordingReducer(factor: 2))
        let base = try train(settings)
        settings.learningRate = 0.04
        let fast = try train(settings)
        func distance(_ a: SoftmaxModel, _ b: SoftmaxModel) -> Float {
            zip(a.layers, b.layers).flatMap { zip($0.weights + $0.bias, $1.weights + $1.bias) }.map { abs($0 - $1) }
                .max() ?? .infinity
        }
        #expect(distance(doubled, fast) <= 1e-6)
        #expect(distance(doubled, base) > 1e-3)
    }

    /// The default reducer and one that packs and unpacks without changing anything give the
    /// same bits: the round trip through one buffer is exact.
    @Test func packingRoundTripIsExact() throws {
        var settings = TrainingSettings()
        settings.epochs = 2
        settings.hidden = 5
        let identity = try train(settings, reducer: RecordingReducer(factor: 1))
        let plain = try train(settings)
        #expect(identity.layers == plain.layers)
    }

    /// A reducer written against the first protocol (only `reduce(_:)`) gets the one-process
    /// defaults: one process of rank 0, the share's loss returned as the batch's after one
    /// `reduce(_:)`, sums left as they are.
    @Test func requirementsAddedLaterDefaultToOneProcess() throws {
        let reducer = RecordingReducer(factor: 2)
        let blob = try Blob<Float>(shape: [2])
        blob.diff = [1, -3]
        #expect(reducer.processCount == 1 && reducer.processRank == 0)
        #expect(try reducer.reduce(ParameterGradients([blob]), loss: 0.75, denominator: 12) == 0.75)
        #expect(reducer.calls == 1 && blob.diff == [2, -6])
        #expect(try reducer.sum([1, 2.5, -4]) == [1, 2.5, -4])
    }

    /// The shares of data-parallel training tile a batch in rank order, their sizes differing
    /// by at most one (the larger ones first), and a rank beyond the batch gets none.
    @Test func processSharesTileTheBatchInRankOrder() {
        for count in 0...13 {
            for processes in 1...5 {
                let shares = (0..<processes).map { processShare(of: count, rank: $0, processes: processes) }
                #expect(shares.first?.lowerBound == 0 && shares.last?.upperBound == count)
                #expect(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                #expect(
                    zip(shares, shares.dropFirst()).allSatisfy { $0.count - $1.count == 0 || $0.count - $1.count == 1 })
                #expect(shares.allSatisfy { $0.count == count / processes || $0.count == count / processes + 1 })
            }
        }
        #expect(processShare(of: 2, rank: 2, processes: 3).isEmpty)
        #expect(processShare(of: 29, rank: 1, processes: 3) == 10..<20)
    }

    /// An evaluation's tally survives packing into values to add across processes, and two
    /// shares' packed values add up to the whole set's tally.
    @Test func evaluationTalliesAddUp() {
        var a = ConfusionMatrix(classes: 3)
        var b = ConfusionMatrix(classes: 3)
        var whole = ConfusionMatrix(classes: 3)
        for (t, p) in [(0, 0), (2, 1), (1, 1)] {
            a.add(truth: t, predicted: p)
            whole.add(truth: t, predicted: p)
        }
        b.add(truth: 2, predicted: 1, count: 4)
        whole.add(truth: 2, predicted: 1, count: 4)
        let first = EvaluationTally(lossSum: 1.5, valid: 3, confusion: a)
        let second = EvaluationTally(lossSum: 2.25, valid: 4, confusion: b)
        #expect(first.packed.count == EvaluationTally.packedCount(classes: 3))
        #expect(EvaluationTally(packed: first.packed[...], classes: 3) == first)
        let sums = zip(first.packed, second.packed).map { $0 + $1 }
        let total = EvaluationTally(packed: ([-1] + sums)[1...], classes: 3)
        #expect(total == EvaluationTally(lossSum: 3.75, valid: 7, confusion: whole))
        #expect(total.evaluation.loss == 3.75 / 7 && total.evaluation.confusion.correct == 2)
        #expect(EvaluationTally(lossSum: 0, valid: 0, confusion: ConfusionMatrix(classes: 2)).evaluation.loss == 0)
    }

    @Test func parameterGradientsPackInOrderAndRefuseTheWrongCount() throws {
        let a = try Blob<Float>(shape: [2, 2])
        let b = try Blob<Float>(shape: [3])
        a.diff = [1, 2, 3, 4]
        b.diff = [5, 6, 7]
        let gradients = ParameterGradients([a, b])
        #expect(gradients.count == 7 && gradients.packed() == [1, 2, 3, 4, 5, 6, 7])
        try gradients.unpack([10, 20, 30, 40, 50, 60, 70])
        #expect(a.diff == [10, 20, 30, 40] && b.diff == [50, 60, 70])
        #expect(throws: SoftmaxError.self) { try gradients.unpack([1, 2]) }
        #expect(throws: SoftmaxError.self) { try gradients.updatePacked { $0.append(1) } }
        #expect(a.diff == [10, 20, 30, 40] && b.diff == [50, 60, 70])
    }

    @Test func networkIsAListOfLayersWithItsParametersInOrder() throws {
        var generator = SplitMix64(seed: 1)
        let network = try Network(inputs: 3, classes: 2, hidden: 4, generator: &generator)
        #expect(network.layers.count == 3)
        #expect(network.layers[0] as? InnerProductLayer === network.dense[0])
        #expect(network.layers[1] is ReLULayer)
        #expect(network.layers[2] as? InnerProductLayer === network.dense[1])
        let expected = network.dense.flatMap { [$0.weights, $0.bias] }
        #expect(network.parameters.count == 4 && zip(network.parameters, expected).allSatisfy { $0 === $1 })
        #expect(zip(network.solverParameters.map(\.blob), expected).allSatisfy { $0 === $1 })
        let single = try Network(inputs: 3, classes: 2, hidden: nil, generator: &generator)
        #expect(single.layers.count == 1 && single.parameters.count == 2)
    }
}
