import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// `SoftmaxLayer.forward` against float64 references (Caffe's `TestForward`, made stricter,
/// and extended to other axes, in-place blobs, extreme inputs and half precision).
@Suite struct SoftmaxLayerForwardTests {
    static let axes = [1, 0, 2, 3, -1, -3]

    /// Caffe's `TestForward`: every position sums to 1 and every value is
    /// `exp(x) / Σ exp(x)`, here for every axis of the 2×10×2×3 bottom.
    func checkForward<T: SoftmaxScalar>(_: T.Type, axis: Int, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let x: [T] = gaussianFill(softmaxShape.reduce(1, *), using: &rng)
        let bottom = try Blob<T>(shape: softmaxShape, data: x)
        let top = try Blob<T>(shape: [3, 7])
        try SoftmaxLayer(axis: axis).forward(bottom: [bottom], top: [top])

        #expect(top.shape == softmaxShape)
        #expect(bottom.data == x, "forward must not change the bottom")
        let tolerance = Tolerance.of(T.self)
        let want = Reference.softmax(x.doubles, softmaxShape, axis)
        let bad = mismatches(top.data, want, tolerance)
        #expect(bad.isEmpty, "axis \(axis): \(bad)")

        let g = Geometry(shape: softmaxShape, axis: axis)
        var positions = 0
        g.forEachPosition { p, offsets in
            positions += 1
            let sum = offsets.reduce(0.0) { $0 + Double(top.data[$1]) }
            #expect(abs(sum - 1) <= Double(g.classes) * tolerance.rtol, "axis \(axis), position \(p) sums to \(sum)")
            #expect(offsets.allSatisfy { top.data[$0] > 0 && top.data[$0] < 1 }, "axis \(axis), position \(p)")
        }
        #expect(positions == g.positions && positions > 0)
    }

    @Test(arguments: axes) func forwardDouble(axis: Int) throws {
        try checkForward(Double.self, axis: axis, seed: 1701)
    }

    @Test(arguments: axes) func forwardFloat(axis: Int) throws {
        try checkForward(Float.self, axis: axis, seed: 1701)
    }

    @Test func negativeAxisIsTheSameAxis() throws {
        var rng = SplitMix64(seed: 7)
        let x: [Float] = gaussianFill(120, using: &rng)
        #expect(try softmaxForward(x, shape: softmaxShape, axis: -1) == softmaxForward(x, shape: softmaxShape, axis: 3))
        #expect(try softmaxForward(x, shape: softmaxShape, axis: -3) == softmaxForward(x, shape: softmaxShape, axis: 1))
    }

    /// Bottom and top the same blob: the result replaces the input.
    @Test(arguments: [1, 3, -1]) func inPlace(axis: Int) throws {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<2 {
            let x: [Double] = gaussianFill(120, using: &rng)
            let got = try softmaxForwardInPlace(x, shape: softmaxShape, axis: axis)
            let bad = mismatches(got, Reference.softmax(x, softmaxShape, axis), .of(Double.self))
            #expect(bad.isEmpty, "axis \(axis): \(bad)")
        }
        let xf: [Float] = gaussianFill(120, using: &rng)
        let got = try softmaxForwardInPlace(xf, shape: softmaxShape, axis: axis)
        #expect(got == (try softmaxForward(xf, shape: softmaxShape, axis: axis)), "in place differs from out of place")
    }

    /// Caffe's own forward subtracts the maximum; large scores must neither overflow nor give NaN.
    @Test func largeScores() throws {
        let shape = [2, 4, 3]
        var rng = SplitMix64(seed: 3)
        let x: [Float] = gaussianFill(24, std: 1000, using: &rng)
        let got = try softmaxForward(x, shape: shape, axis: 1)
        #expect(got.allSatisfy { $0.isFinite })
        let bad = mismatches(got, Reference.softmax(x.doubles, shape, 1), .of(Float.self))
        #expect(bad.isEmpty, "\(bad)")

        // Adding a constant to every score of a position changes nothing.
        let shifted = x.map { $0 + 500 }
        let again = try softmaxForward(shifted, shape: shape, axis: 1)
        let bad2 = mismatches(again, Reference.softmax(shifted.doubles, shape, 1), .of(Float.self))
        #expect(bad2.isEmpty, "\(bad2)")
    }

    /// A second forward with a different shape reshapes the top again.
    @Test func reshapesTopOnEveryForward() throws {
        let layer = SoftmaxLayer()
        let top = try Blob<Double>(shape: [1])
        var rng = SplitMix64(seed: 11)
        for shape in [[2, 10, 2, 3], [4, 3], [1, 5, 7]] {
            let x: [Double] = gaussianFill(shape.reduce(1, *), using: &rng)
            try layer.forward(bottom: [Blob(shape: shape, data: x)], top: [top])
            #expect(top.shape == shape)
            let bad = mismatches(top.data, Reference.softmax(x, shape, 1), .of(Double.self))
            #expect(bad.isEmpty, "\(shape): \(bad)")
        }
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        @Test func forwardFloat16() throws {
            var rng = SplitMix64(seed: 16)
            let x: [Float16] = gaussianFill(120, using: &rng)
            let got = try softmaxForward(x, shape: softmaxShape, axis: 1)
            let bad = mismatches(got, Reference.softmax(x.doubles, softmaxShape, 1), .of(Float16.self))
            #expect(bad.isEmpty, "\(bad)")
        }
    #endif
}
