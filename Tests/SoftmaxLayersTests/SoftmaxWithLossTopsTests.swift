import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// Two tops, loss and probabilities (BVLC/caffe#2968: Caffe asks for a loss weight per top
/// and then mishandles the second), and the validation of `lossWeights`.
@Suite struct SoftmaxWithLossTopsTests {
    /// `lossWeights: [1, 0]`: top[1] is softmax(scores) along the class axis, top[0] is the
    /// loss, and backward is the loss gradient alone.
    func checkTwoTops<T: SoftmaxScalar>(_: T.Type, lossWeights: [Double]) throws {
        let f = try LossFixture<T>(labelsShape: lossLabelsShape, seed: 2968, twoTops: true)
        let probabilities = try #require(f.probabilities)
        try probabilities.reshape(lossScoresShape)
        probabilities.data = [T](repeating: .nan, count: 300)  // every element must be written
        let layer = try SoftmaxWithLossLayer<T>(ignoreLabel: 4, lossWeights: lossWeights)
        let lambda = lossWeights.first ?? 1
        let returned = try layer.forward(bottom: f.bottom, top: f.top)

        let want = f.reference(ignoreLabel: 4, mode: .valid)
        let tolerance = Tolerance.of(T.self)
        #expect(tolerance.accepts(returned, lambda * want.loss), "\(returned) vs \(lambda) × \(want.loss)")
        #expect(tolerance.accepts(Double(f.loss.data[0]), want.loss))
        #expect(probabilities.shape == lossScoresShape)
        let bad = mismatches(
            probabilities.data, Reference.softmax(f.scores.data.doubles, lossScoresShape, 1), tolerance)
        #expect(bad.isEmpty, "top[1]: \(bad)")

        probabilities.diff = [T](repeating: 1000, count: 300)  // not a loss: its diff must not leak in
        try layer.backward(top: f.top, bottom: f.bottom)
        let badGradient = mismatches(f.scores.diff, want.gradient.map { lambda * $0 }, tolerance)
        #expect(badGradient.isEmpty, "\(badGradient)")
    }

    @Test(arguments: [[1, 0], [3, 0], [], [2]] as [[Double]]) func twoTopsDouble(lossWeights: [Double]) throws {
        try checkTwoTops(Double.self, lossWeights: lossWeights)
    }

    @Test(arguments: [[1, 0], [3, 0], [], [2]] as [[Double]]) func twoTopsFloat(lossWeights: [Double]) throws {
        try checkTwoTops(Float.self, lossWeights: lossWeights)
    }

    /// The gradient check of `TestGradient`, run with the probabilities top present.
    @Test func twoTopsGradientCheck() throws {
        let f = try LossFixture<Double>(seed: 1701, twoTops: true)
        let layer = try SoftmaxWithLossLayer<Double>(lossWeights: [3, 0])
        let report = try GradientChecker.softmaxWithLoss.checkLossLayer(layer, f)
        #expect(report.checked == 300)
        #expect(report.failures.isEmpty, "\(report.summary)")
    }

    /// One top or two give the same loss and gradient.
    @Test func secondTopChangesNothingElse() throws {
        let one = try LossFixture<Float>(seed: 6)
        let two = try LossFixture<Float>(seed: 6, twoTops: true)
        let layer = try SoftmaxWithLossLayer<Float>(ignoreLabel: 1)
        let a = try layer.forward(bottom: one.bottom, top: one.top)
        try layer.backward(top: one.top, bottom: one.bottom)
        let b = try layer.forward(bottom: two.bottom, top: two.top)
        try layer.backward(top: two.top, bottom: two.bottom)
        #expect(a == b)
        #expect(one.scores.diff == two.scores.diff)
    }

    /// A non-zero weight on the probabilities is refused: they are an output, not a loss.
    @Test(arguments: [[1, 2], [1, -1], [0, 0.5]] as [[Double]]) func nonZeroProbabilityWeight(weights: [Double]) throws
    {
        let error = #expect(throws: LayerError.self) { try SoftmaxWithLossLayer<Float>(lossWeights: weights) }
        guard case .invalidLossWeights(let reported, _) = error else {
            Issue.record("expected invalidLossWeights, got \(String(describing: error))")
            return
        }
        #expect(reported == weights)
    }

    @Test(arguments: [[1, 0, 0], [.nan], [.infinity, 0], [1, .nan]] as [[Double]])
    func otherInvalidWeights(weights: [Double]) throws {
        let error = #expect(throws: LayerError.self) { try SoftmaxWithLossLayer<Double>(lossWeights: weights) }
        guard case .invalidLossWeights = error else {
            Issue.record("expected invalidLossWeights, got \(String(describing: error))")
            return
        }
    }

    /// Two weights need two tops.
    @Test func moreWeightsThanTops() throws {
        let f = try LossFixture<Float>(seed: 1)
        let layer = try SoftmaxWithLossLayer<Float>(lossWeights: [1, 0])
        let error = #expect(throws: LayerError.self) { try layer.forward(bottom: f.bottom, top: f.top) }
        guard case .invalidLossWeights([1, 0], _) = error else {
            Issue.record("expected invalidLossWeights, got \(String(describing: error))")
            return
        }
    }
}
