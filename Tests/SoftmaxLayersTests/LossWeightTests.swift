import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// The loss weight λ: forward returns λ·loss, keeps the unweighted loss in top[0] and sets
/// top[0].diff to λ (as Caffe's `Net` does); backward scales the gradient by top[0].diff,
/// whatever the caller put there.
@Suite struct LossWeightTests {
    @Test(arguments: [1, 3, 0.5, 0, -2] as [Double]) func forwardSetsTopDiffToTheWeight(lambda: Double) throws {
        let f = try LossFixture<Double>(seed: 100)
        let layer = try SoftmaxWithLossLayer<Double>(lossWeights: [lambda])
        #expect(layer.lossWeight == lambda)
        f.loss.diff = [123]
        let returned = try layer.forward(bottom: f.bottom, top: f.top)
        let want = f.reference(mode: .valid)
        #expect(f.loss.diff == [lambda])
        #expect(Tolerance.of(Double.self).accepts(f.loss.data[0], want.loss))
        #expect(
            Tolerance.of(Double.self).accepts(returned, lambda * want.loss), "\(returned) vs \(lambda) × \(want.loss)")
        try layer.backward(top: f.top, bottom: f.bottom)
        let bad = mismatches(f.scores.diff, want.gradient.map { lambda * $0 }, .of(Double.self))
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test func defaultWeightIsOne() throws {
        let layer = try SoftmaxWithLossLayer<Float>()
        #expect(layer.lossWeight == 1)
        let f = try LossFixture<Float>(seed: 101)
        try layer.forward(bottom: f.bottom, top: f.top)
        #expect(f.loss.diff == [1])
    }

    /// Overriding top[0].diff between forward and backward rescales the gradient.
    func checkOverride<T: SoftmaxScalar>(_: T.Type) throws {
        let f = try LossFixture<T>(labelsShape: lossLabelsShape, seed: 102)
        let layer = try SoftmaxWithLossLayer<T>(ignoreLabel: 0, normalization: .batchSize, lossWeights: [3])
        try layer.forward(bottom: f.bottom, top: f.top)
        let unit = f.reference(ignoreLabel: 0, mode: .batchSize).gradient
        for scale in [0.25, 7, -1, 3] as [Double] {
            f.loss.diff[0] = T(scale)
            try layer.backward(top: f.top, bottom: f.bottom)
            let bad = mismatches(f.scores.diff, unit.map { scale * $0 }, .of(T.self))
            #expect(bad.isEmpty, "top diff \(scale): \(bad)")
        }
        f.loss.diff[0] = 0
        try layer.backward(top: f.top, bottom: f.bottom)
        #expect(f.scores.diff.allSatisfy { $0 == 0 })
    }

    @Test func overrideTopDiffDouble() throws { try checkOverride(Double.self) }
    @Test func overrideTopDiffFloat() throws { try checkOverride(Float.self) }

    /// Backward does not consume the forward: it can be repeated, and gives the same bits.
    @Test func backwardIsRepeatable() throws {
        let f = try LossFixture<Float>(seed: 103)
        let layer = try SoftmaxWithLossLayer<Float>(lossWeights: [3])
        try layer.forward(bottom: f.bottom, top: f.top)
        try layer.backward(top: f.top, bottom: f.bottom)
        let first = f.scores.diff
        f.scores.diff = [Float](repeating: 0, count: 300)
        try layer.backward(top: f.top, bottom: f.bottom)
        #expect(f.scores.diff == first)
    }

    /// `propagate_down[0] = false` leaves the score diff alone.
    @Test func propagateDownFalse() throws {
        let f = try LossFixture<Float>(seed: 104)
        let layer = try SoftmaxWithLossLayer<Float>()
        try layer.forward(bottom: f.bottom, top: f.top)
        f.scores.diff = [Float](repeating: 42, count: 300)
        try layer.backward(top: f.top, propagateDown: [false, false], bottom: f.bottom)
        #expect(f.scores.diff.allSatisfy { $0 == 42 })
        try layer.backward(top: f.top, propagateDown: [false], bottom: f.bottom)
        #expect(f.scores.diff.allSatisfy { $0 == 42 })
    }
}
