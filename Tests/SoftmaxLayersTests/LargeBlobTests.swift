import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// Blobs large enough that the library cuts them into tiles and runs them on several threads
/// (above 128 Ki elements), with and without inner positions, in place, against float64.
@Suite struct LargeBlobTests {
    static let shapes: [([Int], Int)] = [([4, 100, 400], 1), ([200, 1000], 1), ([3, 5, 20000], 2)]

    @Test(arguments: shapes) func softmaxInPlace(shapeAndAxis: ([Int], Int)) throws {
        let (shape, axis) = shapeAndAxis
        var rng = SplitMix64(seed: 42)
        let x: [Float] = gaussianFill(shape.reduce(1, *), std: 3, using: &rng)
        let want = Reference.softmax(x.doubles, shape, axis)
        let separate = try softmaxForward(x, shape: shape, axis: axis)
        let bad = mismatches(separate, want, .of(Float.self))
        #expect(bad.isEmpty, "\(bad)")
        let inPlace = try softmaxForwardInPlace(x, shape: shape, axis: axis)
        #expect(inPlace == separate)
    }

    @Test(arguments: shapes) func lossWithProbabilities(shapeAndAxis: ([Int], Int)) throws {
        let (shape, axis) = shapeAndAxis
        let f = try LossFixture<Float>(scoresShape: shape, axis: axis, seed: 43, twoTops: true)
        let layer = try SoftmaxWithLossLayer<Float>(axis: axis, ignoreLabel: 0, lossWeights: [2, 0])
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        try layer.backward(top: f.top, bottom: f.bottom)
        let want = f.reference(axis: axis, ignoreLabel: 0, mode: .valid)
        #expect(Tolerance.of(Float.self).accepts(loss, 2 * want.loss), "\(loss) vs 2 × \(want.loss)")
        let probabilities = try #require(f.probabilities)
        let badP = mismatches(
            probabilities.data, Reference.softmax(f.scores.data.doubles, shape, axis), .of(Float.self))
        #expect(badP.isEmpty, "\(badP)")
        let badG = mismatches(f.scores.diff, want.gradient.map { 2 * $0 }, .of(Float.self))
        #expect(badG.isEmpty, "\(badG)")
    }
}
