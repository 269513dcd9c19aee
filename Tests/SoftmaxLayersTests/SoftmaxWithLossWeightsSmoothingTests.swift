import Foundation
import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// `SoftmaxWithLossLayer`'s class weights and label smoothing (not in Caffe): the loss in
/// `top[0]`, the returned weighted loss and the back-propagated diff against the float64
/// cross-entropy reference, with and without an ignore label, under every normalization, in
/// Float and Double.
@Suite("SoftmaxWithLoss: class weights and label smoothing")
struct SoftmaxWithLossWeightsSmoothingTests {
    /// Class weights only, smoothing only, both.
    static let settings: [(weights: [Double]?, smoothing: Double)] = [
        ([0.5, 2, 1, 0.25, 3], 0), (nil, 0.2), ([0.5, 2, 1, 0.25, 3], 0.1),
    ]

    static let ignoreLabels: [Int?] = [nil, 2]

    func check<T: SoftmaxScalar>(
        _: T.Type, mode: Mode, ignoreLabel: Int?, weights: [Double]?, smoothing: Double
    ) throws {
        let f = try LossFixture<T>(scoresShape: [4, 5, 3], seed: 1507)
        let lossWeight = 3.0
        let layer = try SoftmaxWithLossLayer<T>(
            axis: 1, ignoreLabel: ignoreLabel, normalization: mode.layerValue(), lossWeights: [lossWeight],
            classWeights: weights, labelSmoothing: smoothing)
        let returned = try layer.forward(bottom: f.bottom, top: f.top)
        try layer.backward(top: f.top, bottom: f.bottom)

        let labels = f.labels.data.map { Int(Double($0)) }
        let options = CrossEntropyOptions(
            axis: 1, reduction: mode.reduction, ignoreIndex: ignoreLabel, classWeights: weights,
            labelSmoothing: smoothing)
        let want = Reference.crossEntropy(f.scores.data.doubles, f.scores.shape, .indices(labels), options)
        // Not vacuous: the options change the gradient, and the ignore label occurs.
        let plain = Reference.crossEntropy(
            f.scores.data.doubles, f.scores.shape, .indices(labels),
            CrossEntropyOptions(axis: 1, reduction: mode.reduction, ignoreIndex: ignoreLabel))
        let change = zip(plain.gradient, want.gradient).map { abs($0 - $1) }.max() ?? 0
        #expect(change > 1e-2 * (want.gradient.map(abs).max() ?? 0), "test bug: the options change nothing")
        if let ignoreLabel { #expect(labels.contains(ignoreLabel), "test bug: nothing ignored") }

        let tolerance = Tolerance.of(T.self)
        let label = "\(T.self) \(mode) ignore \(String(describing: ignoreLabel)) weights \(weights != nil)"
        #expect(tolerance.accepts(Double(f.loss.data[0]), want.loss), "\(label): top[0] \(f.loss.data[0])")
        #expect(tolerance.accepts(returned, lossWeight * want.loss), "\(label): returned \(returned)")
        let bad = mismatches(f.scores.diff, want.gradient.map { lossWeight * $0 }, tolerance)
        #expect(bad.isEmpty, "\(label): diff \(bad)")
    }

    @Test(arguments: Mode.allCases, ignoreLabels)
    func float(mode: Mode, ignoreLabel: Int?) throws {
        for s in Self.settings {
            try check(Float.self, mode: mode, ignoreLabel: ignoreLabel, weights: s.weights, smoothing: s.smoothing)
        }
    }

    @Test(arguments: Mode.allCases, ignoreLabels)
    func double(mode: Mode, ignoreLabel: Int?) throws {
        for s in Self.settings {
            try check(Double.self, mode: mode, ignoreLabel: ignoreLabel, weights: s.weights, smoothing: s.smoothing)
        }
    }

    @Test func diffFollowsTopDiff() throws {
        // Backward scales by top[0].diff as set by the caller (a net's loss weight), here 0.5
        // instead of the layer's 3.
        let f = try LossFixture<Double>(scoresShape: [4, 5, 3], seed: 1508)
        let weights = [0.5, 2, 1, 0.25, 3]
        let layer = try SoftmaxWithLossLayer<Double>(
            axis: 1, ignoreLabel: 0, lossWeights: [3], classWeights: weights, labelSmoothing: 0.3)
        try layer.forward(bottom: f.bottom, top: f.top)
        f.loss.diff[0] = 0.5
        try layer.backward(top: f.top, bottom: f.bottom)
        let options = CrossEntropyOptions(axis: 1, ignoreIndex: 0, classWeights: weights, labelSmoothing: 0.3)
        let want = Reference.crossEntropy(
            f.scores.data, f.scores.shape, .indices(f.labels.data.map { Int($0) }), options)
        #expect(mismatches(f.scores.diff, want.gradient.map { 0.5 * $0 }, .of(Double.self)).isEmpty)
    }
}
