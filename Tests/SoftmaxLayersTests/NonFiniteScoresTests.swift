import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// SPEC's rules for non-finite inputs, through the layers (Caffe never checked these): a NaN
/// poisons only its own position, a position of all `-inf` gives zeros, a `-inf` score is a
/// class with probability 0.
@Suite struct NonFiniteScoresTests {
    /// Element offsets of position `p` (o, i) of the 2×10×2×3 blob along axis 1.
    static func offsets(ofPosition p: Int, shape: [Int] = softmaxShape) -> [Int] {
        var result: [Int] = []
        Geometry(shape: shape, axis: 1).forEachPosition { q, offsets in if q == p { result = offsets } }
        return result
    }

    @Test func nanPoisonsOnlyItsPosition() throws {
        var rng = SplitMix64(seed: 60)
        var x: [Float] = gaussianFill(120, using: &rng)
        let poisoned = Self.offsets(ofPosition: 7)
        x[poisoned[4]] = .nan
        let y = try softmaxForward(x, shape: softmaxShape, axis: 1)
        #expect(poisoned.allSatisfy { y[$0].isNaN })
        var clean = x
        for k in poisoned { clean[k] = 0 }
        let want = Reference.softmax(clean.doubles, softmaxShape, 1)
        let others = (0..<120).filter { !poisoned.contains($0) }
        let bad = mismatches(others.map { y[$0] }, others.map { want[$0] }, .of(Float.self))
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test func allNegativeInfinityGivesZeros() throws {
        var rng = SplitMix64(seed: 61)
        var x: [Double] = gaussianFill(120, using: &rng)
        let dead = Self.offsets(ofPosition: 3)
        for k in dead { x[k] = -.infinity }
        let y = try softmaxForward(x, shape: softmaxShape, axis: 1)
        #expect(dead.allSatisfy { y[$0] == 0 }, "\(dead.map { y[$0] })")
        let live = (0..<120).filter { !dead.contains($0) }
        // The reference cannot take a position of all -inf; the live positions do not depend on it.
        let want = Reference.softmax(x.enumerated().map { dead.contains($0) ? 0 : $1 }, softmaxShape, 1)
        let bad = mismatches(live.map { y[$0] }, live.map { want[$0] }, .of(Double.self))
        #expect(bad.isEmpty, "\(bad)")
    }

    /// A `-inf` score for a class that is not the label: probability 0, finite loss.
    @Test func negativeInfinityScoreIsProbabilityZero() throws {
        let f = try LossFixture<Float>(seed: 62, twoTops: true)
        let g = Geometry(shape: lossScoresShape, axis: 1)
        var hit = 0
        g.forEachPosition { p, offsets in
            let label = Int(f.labels.data[p])
            f.scores.data[offsets[(label + 1) % 5]] = -.infinity
            hit += 1
        }
        let layer = try SoftmaxWithLossLayer<Float>()
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        let want = f.reference(mode: .valid)
        #expect(hit == 60 && want.loss.isFinite)
        #expect(Tolerance.of(Float.self).accepts(loss, want.loss), "\(loss) vs \(want.loss)")
        try layer.backward(top: f.top, bottom: f.bottom)
        let bad = mismatches(f.scores.diff, want.gradient, .of(Float.self))
        #expect(bad.isEmpty, "\(bad)")
        let probabilities = try #require(f.probabilities)
        #expect(probabilities.data.allSatisfy { $0.isFinite && $0 >= 0 })
    }

    /// A NaN score makes the loss NaN, but the gradient of every other position stays right.
    @Test func nanScoreInTheLoss() throws {
        let f = try LossFixture<Double>(seed: 63)
        let poisoned = Self.offsets(ofPosition: 11, shape: lossScoresShape)
        let want = f.reference(mode: .none)  // before the poison: other positions are unchanged
        f.scores.data[poisoned[2]] = .nan
        let layer = try SoftmaxWithLossLayer<Double>(normalization: .none)
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        #expect(loss.isNaN)
        try layer.backward(top: f.top, bottom: f.bottom)
        #expect(poisoned.allSatisfy { f.scores.diff[$0].isNaN })
        let others = (0..<300).filter { !poisoned.contains($0) }
        let bad = mismatches(others.map { f.scores.diff[$0] }, others.map { want.gradient[$0] }, .of(Double.self))
        #expect(bad.isEmpty, "\(bad)")
    }
}
