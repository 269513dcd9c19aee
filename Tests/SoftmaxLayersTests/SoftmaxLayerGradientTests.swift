import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// `SoftmaxLayer.backward`: Caffe's `TestGradient` (exhaustive gradient check, step 1e-2,
/// threshold 1e-3) in float64 and float32, and what Caffe never checked: other axes, in place,
/// the analytic Jacobian, and a float64 check at a much tighter threshold.
@Suite struct SoftmaxLayerGradientTests {
    static let axes = [1, 0, 3, -1]

    func exhaustive<T: SoftmaxScalar>(
        _: T.Type, axis: Int, inPlace: Bool = false, checker: GradientChecker = .softmax, seed: UInt64 = 1701
    ) throws -> GradientChecker.Report {
        var rng = SplitMix64(seed: seed)
        let x: [T] = gaussianFill(softmaxShape.reduce(1, *), using: &rng)
        return try checker.checkExhaustive(
            x,
            forward: {
                inPlace
                    ? try softmaxForwardInPlace($0, shape: softmaxShape, axis: axis)
                    : try softmaxForward($0, shape: softmaxShape, axis: axis)
            },
            backward: {
                inPlace
                    ? try softmaxBackwardInPlace($0, $1, shape: softmaxShape, axis: axis)
                    : try softmaxBackward($0, $1, shape: softmaxShape, axis: axis)
            })
    }

    @Test(arguments: axes) func gradientDouble(axis: Int) throws {
        let report = try exhaustive(Double.self, axis: axis)
        #expect(report.checked == 120 * 120)
        #expect(report.failures.isEmpty, "\(report.summary)")
    }

    @Test(arguments: axes) func gradientFloat(axis: Int) throws {
        let report = try exhaustive(Float.self, axis: axis)
        #expect(report.checked == 120 * 120)
        #expect(report.failures.isEmpty, "\(report.summary)")
    }

    /// Float64 allows a far smaller step and threshold than Caffe's float-sized ones.
    @Test(arguments: [1, 3]) func gradientDoubleTight(axis: Int) throws {
        let report = try exhaustive(Double.self, axis: axis, checker: GradientChecker(stepsize: 1e-5, threshold: 1e-7))
        #expect(report.checked == 120 * 120)
        #expect(report.failures.isEmpty, "\(report.summary)")
    }

    @Test(arguments: [1, -1]) func gradientInPlace(axis: Int) throws {
        let double = try exhaustive(Double.self, axis: axis, inPlace: true)
        #expect(double.checked == 120 * 120)
        #expect(double.failures.isEmpty, "\(double.summary)")
        let float = try exhaustive(Float.self, axis: axis, inPlace: true)
        #expect(float.failures.isEmpty, "\(float.summary)")
    }

    /// With one-hot top diffs, backward gives the rows of the Jacobian `y_j(δ_ij − y_i)`.
    @Test(arguments: [1, 2]) func jacobianRows(axis: Int) throws {
        var rng = SplitMix64(seed: 5)
        let x: [Double] = gaussianFill(120, using: &rng)
        let jacobian = Reference.softmaxJacobian(
            y: Reference.softmax(x, softmaxShape, axis), shape: softmaxShape, axis: axis)
        var bad: [String] = []
        for j in 0..<120 {
            var dy = [Double](repeating: 0, count: 120)
            dy[j] = 1
            let dx = try softmaxBackward(x, dy, shape: softmaxShape, axis: axis)
            bad += mismatches(dx, (0..<120).map { jacobian(j, $0) }, .of(Double.self)).map { "row \(j) \($0)" }
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    /// Random top diffs against `y ⊙ (dy − Σ dy·y)` computed in float64, separate and in place.
    func checkBackward<T: SoftmaxScalar>(_: T.Type, axis: Int) throws {
        var rng = SplitMix64(seed: 21)
        let x: [T] = gaussianFill(120, using: &rng)
        let dy: [T] = gaussianFill(120, using: &rng)
        let y = Reference.softmax(x.doubles, softmaxShape, axis)
        let want = Reference.softmaxBackward(y: y, dy: dy.doubles, shape: softmaxShape, axis: axis)
        let separate = try softmaxBackward(x, dy, shape: softmaxShape, axis: axis)
        let bad = mismatches(separate, want, .of(T.self))
        #expect(bad.isEmpty, "\(bad)")
        let inPlace = try softmaxBackwardInPlace(x, dy, shape: softmaxShape, axis: axis)
        let badInPlace = mismatches(inPlace, want, .of(T.self))
        #expect(badInPlace.isEmpty, "in place: \(badInPlace)")
    }

    @Test(arguments: [1, 3]) func backwardDouble(axis: Int) throws { try checkBackward(Double.self, axis: axis) }
    @Test(arguments: [1, 3]) func backwardFloat(axis: Int) throws { try checkBackward(Float.self, axis: axis) }

    /// `propagate_down = false` skips the work, as in Caffe: the bottom diff is untouched.
    @Test func propagateDownFalseLeavesBottomDiff() throws {
        let bottom = try Blob<Double>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let top = try Blob<Double>(shape: [2, 3])
        let layer = SoftmaxLayer()
        try layer.forward(bottom: [bottom], top: [top])
        top.diff = [1, 0, 0, 0, 1, 0]
        bottom.diff = [Double](repeating: 42, count: 6)
        try layer.backward(top: [top], propagateDown: [false], bottom: [bottom])
        #expect(bottom.diff == [Double](repeating: 42, count: 6))
        try layer.backward(top: [top], propagateDown: [true], bottom: [bottom])
        #expect(bottom.diff != [Double](repeating: 42, count: 6))
    }

    /// The checker itself must catch a wrong backward (else every test above is vacuous).
    @Test func checkerRejectsAWrongGradient() throws {
        var rng = SplitMix64(seed: 8)
        let x: [Double] = gaussianFill(120, using: &rng)
        let report = try GradientChecker.softmax.checkExhaustive(
            x, forward: { try softmaxForward($0, shape: softmaxShape, axis: 1) },
            backward: { x, dy in
                // Every seventh bottom diff 50% too large.
                try softmaxBackward(x, dy, shape: softmaxShape, axis: 1).enumerated().map {
                    $1 * ($0 % 7 == 0 ? 1.5 : 1)
                }
            })
        #expect(!report.failures.isEmpty)
        #expect(report.checked == 120 * 120)
    }
}
