import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// `SoftmaxWithLossLayer.backward` against finite differences of the returned (weighted) loss
/// — Caffe's `TestGradient`, `TestGradientIgnoreLabel` and `TestGradientUnnormalized` with
/// loss weight 3, step 1e-2 and threshold 1e-2 — plus every normalization and other axes, and
/// the analytic gradient `λ·(p − onehot)/norm` computed in float64.
@Suite struct SoftmaxWithLossGradientTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var shape = lossScoresShape
        var axis = 1
        var ignoreLabel: Int? = nil
        var mode = Mode.valid
        var normalize: Bool? = nil

        /// The mode the reference uses: the legacy flag wins when given (the layer's rule; Caffe
        /// reads it only when `normalization` is unset, which a defaulted argument cannot tell).
        var effectiveMode: Mode { normalize.map { $0 ? .valid : .batchSize } ?? mode }
        var testDescription: String { name }

        func layer<T: SoftmaxScalar>(_: T.Type, lossWeight: Double = 3) throws -> SoftmaxWithLossLayer<T> {
            try SoftmaxWithLossLayer<T>(
                axis: axis, ignoreLabel: ignoreLabel, normalization: mode.layerValue(), normalize: normalize,
                lossWeights: [lossWeight])
        }
    }

    static let cases: [Case] = [
        Case(name: "TestGradient"),
        Case(name: "TestGradientIgnoreLabel", ignoreLabel: 0),
        Case(name: "TestGradientUnnormalized", normalize: false),
        Case(name: "valid, ignore 2", ignoreLabel: 2, mode: .valid),
        Case(name: "full, ignore 2", ignoreLabel: 2, mode: .full),
        Case(name: "batch size, ignore 2", ignoreLabel: 2, mode: .batchSize),
        Case(name: "none, ignore 2", ignoreLabel: 2, mode: .none),
        Case(name: "2×3×4 axis 2", shape: [2, 3, 4], axis: 2, mode: .batchSize),
        Case(name: "2×3×4×5 axis -2", shape: [2, 3, 4, 5], axis: -2, ignoreLabel: 0, mode: .valid),
        Case(name: "5×4 axis 0", shape: [5, 4], axis: 0, mode: .full),
    ]

    func finiteDifferences<T: SoftmaxScalar>(_: T.Type, _ c: Case) throws -> GradientChecker.Report {
        let f = try LossFixture<T>(scoresShape: c.shape, axis: c.axis, seed: 1701)
        let layer = try c.layer(T.self)
        return try GradientChecker.softmaxWithLoss.checkLossLayer(layer, f)
    }

    @Test(arguments: cases) func gradientDouble(_ c: Case) throws {
        let report = try finiteDifferences(Double.self, c)
        #expect(report.checked == c.shape.reduce(1, *))
        #expect(report.failures.isEmpty, "\(report.summary)")
    }

    @Test(arguments: cases) func gradientFloat(_ c: Case) throws {
        let report = try finiteDifferences(Float.self, c)
        #expect(report.checked == c.shape.reduce(1, *))
        #expect(report.failures.isEmpty, "\(report.summary)")
    }

    /// Float64 with a much tighter step and threshold than Caffe's.
    @Test(arguments: cases.prefix(3)) func gradientDoubleTight(_ c: Case) throws {
        let f = try LossFixture<Double>(scoresShape: c.shape, axis: c.axis, seed: 1701)
        let layer = try c.layer(Double.self)
        let report = try GradientChecker(stepsize: 1e-5, threshold: 1e-7).checkLossLayer(layer, f)
        #expect(report.failures.isEmpty, "\(report.summary)")
    }

    /// The analytic gradient: `3 · (p − onehot) / normalizer`, 0 at ignored positions.
    func checkAnalytic<T: SoftmaxScalar>(_: T.Type, _ c: Case) throws {
        let f = try LossFixture<T>(scoresShape: c.shape, axis: c.axis, seed: 404)
        let layer = try c.layer(T.self)
        let returned = try layer.forward(bottom: f.bottom, top: f.top)
        let want = f.reference(axis: c.axis, ignoreLabel: c.ignoreLabel, mode: c.effectiveMode)
        #expect(Tolerance.of(T.self).accepts(returned, 3 * want.loss), "returned \(returned), 3 × \(want.loss)")
        #expect(Tolerance.of(T.self).accepts(Double(f.loss.data[0]), want.loss), "top[0] holds the unweighted loss")
        try layer.backward(top: f.top, bottom: f.bottom)
        let bad = mismatches(f.scores.diff, want.gradient.map { 3 * $0 }, .of(T.self))
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test(arguments: cases) func analyticDouble(_ c: Case) throws { try checkAnalytic(Double.self, c) }
    @Test(arguments: cases) func analyticFloat(_ c: Case) throws { try checkAnalytic(Float.self, c) }

    /// The checker must catch a wrong loss gradient (e.g. one missing the normaliser).
    @Test func checkerRejectsAWrongGradient() throws {
        let f = try LossFixture<Double>(seed: 1701)
        let layer = try SoftmaxWithLossLayer<Double>(lossWeights: [3])
        // As if the normalizer were 1.
        let report = try GradientChecker.softmaxWithLoss.checkLossLayer(layer, f, alter: { $0.map { $0 * 60 } })
        #expect(!report.failures.isEmpty)
    }
}
