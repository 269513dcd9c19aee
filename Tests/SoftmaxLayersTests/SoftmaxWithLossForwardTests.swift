import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// `SoftmaxWithLossLayer.forward`: the loss value against a float64 log-sum-exp reference for
/// every normalization (Caffe only ever checked it indirectly), Caffe's
/// `TestForwardIgnoreLabel`, ignore labels outside `0..<C`, all-ignored batches, other axes.
@Suite struct SoftmaxWithLossForwardTests {
    static let ignoreLabels: [Int?] = [nil, 0, 3]

    func checkLoss<T: SoftmaxScalar>(_: T.Type, mode: Mode, ignoreLabel: Int?) throws {
        let f = try LossFixture<T>(labelsShape: lossLabelsShape, seed: 1701)
        let layer = try SoftmaxWithLossLayer<T>(ignoreLabel: ignoreLabel, normalization: mode.layerValue())
        let returned = try layer.forward(bottom: f.bottom, top: f.top)
        let want = f.reference(ignoreLabel: ignoreLabel, mode: mode)
        let tolerance = Tolerance.of(T.self)
        if ignoreLabel != nil { #expect(want.valid < 60 && want.valid > 0, "test bug: the ignore label never occurs") }
        #expect(
            tolerance.accepts(returned, want.loss),
            "\(mode), ignore \(String(describing: ignoreLabel)): \(returned) vs \(want.loss)")
        #expect(f.loss.shape == [])
        #expect(tolerance.accepts(Double(f.loss.data[0]), want.loss))
        #expect(f.loss.diff == [1], "forward sets top[0].diff to the loss weight")
    }

    @Test(arguments: Mode.allCases, ignoreLabels) func lossDouble(mode: Mode, ignoreLabel: Int?) throws {
        try checkLoss(Double.self, mode: mode, ignoreLabel: ignoreLabel)
    }

    @Test(arguments: Mode.allCases, ignoreLabels) func lossFloat(mode: Mode, ignoreLabel: Int?) throws {
        try checkLoss(Float.self, mode: mode, ignoreLabel: ignoreLabel)
    }

    /// The default is VALID, as in Caffe.
    @Test func defaultNormalizationIsValid() throws {
        let f = try LossFixture<Double>(seed: 4)
        let loss = try SoftmaxWithLossLayer<Double>(ignoreLabel: 2).forward(bottom: f.bottom, top: f.top)
        let want = f.reference(ignoreLabel: 2, mode: .valid)
        #expect(want.valid < 60)
        #expect(Tolerance.of(Double.self).accepts(loss, want.loss))
    }

    /// Caffe's legacy `normalize`: true is VALID, false is BATCH_SIZE, and it overrides
    /// `normalization` when given.
    @Test(arguments: [true, false], [Mode.full, .none, .valid])
    func legacyNormalize(normalize: Bool, ignored: Mode) throws {
        let f = try LossFixture<Float>(labelsShape: lossLabelsShape, seed: 12)
        let layer = try SoftmaxWithLossLayer<Float>(
            ignoreLabel: 1, normalization: ignored.layerValue(), normalize: normalize)
        #expect(layer.normalization == (normalize ? .valid : .batchSize))
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        let want = f.reference(ignoreLabel: 1, mode: normalize ? .valid : .batchSize)
        #expect(Tolerance.of(Float.self).accepts(loss, want.loss), "\(loss) vs \(want.loss)")
    }

    /// Caffe's `TestForwardIgnoreLabel`: ignoring each label in turn, every position is counted
    /// in all but one of the partial losses, so they add up to (C − 1) × the full loss, and the
    /// parts the ignored labels take away add up to the full loss.
    func checkIgnoreEachLabel<T: SoftmaxScalar>(_: T.Type, mode: Mode) throws {
        let f = try LossFixture<T>(labelsShape: lossLabelsShape, seed: 1701)
        let full = try SoftmaxWithLossLayer<T>(normalization: mode.layerValue()).forward(bottom: f.bottom, top: f.top)
        let tolerance = Tolerance.of(T.self)
        #expect(tolerance.accepts(full, f.reference(mode: mode).loss))
        var partials: [Double] = []
        for label in 0..<5 {
            let layer = try SoftmaxWithLossLayer<T>(ignoreLabel: label, normalization: mode.layerValue())
            let partial = try layer.forward(bottom: f.bottom, top: f.top)
            #expect(tolerance.accepts(partial, f.reference(ignoreLabel: label, mode: mode).loss), "ignoring \(label)")
            #expect(partial < full, "ignoring \(label) removes a positive part")
            partials.append(partial)
        }
        let sum = partials.reduce(0, +)
        #expect(abs(sum - 4 * full) <= 5 * tolerance.rtol * full, "\(sum) vs 4 × \(full)")
        let removed = partials.reduce(0) { $0 + (full - $1) }
        #expect(abs(removed - full) <= 5 * tolerance.rtol * full, "\(removed) vs \(full)")
    }

    @Test(arguments: [Mode.none, .batchSize, .full]) func ignoreEachLabelDouble(mode: Mode) throws {
        try checkIgnoreEachLabel(Double.self, mode: mode)
    }

    @Test(arguments: [Mode.none, .batchSize, .full]) func ignoreEachLabelFloat(mode: Mode) throws {
        try checkIgnoreEachLabel(Float.self, mode: mode)
    }

    /// An ignore label outside `0..<C` (segmentation's 255, PyTorch's −1, C itself) is
    /// skipped, not an error; probabilities are still written at the ignored positions.
    @Test(arguments: [255, -1, 5], Mode.allCases) func ignoreLabelOutsideClasses(ignore: Int, mode: Mode) throws {
        let f = try LossFixture<Float>(labelsShape: lossLabelsShape, seed: 77, twoTops: true)
        for p in stride(from: 0, to: 60, by: 4) { f.labels.data[p] = Float(ignore) }
        let layer = try SoftmaxWithLossLayer<Float>(ignoreLabel: ignore, normalization: mode.layerValue())
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        let want = f.reference(ignoreLabel: ignore, mode: mode)
        #expect(want.valid == 45)
        #expect(Tolerance.of(Float.self).accepts(loss, want.loss), "\(loss) vs \(want.loss)")
        let probabilities = try #require(f.probabilities)
        let bad = mismatches(
            probabilities.data, Reference.softmax(f.scores.data.doubles, lossScoresShape, 1),
            .of(Float.self))
        #expect(bad.isEmpty, "\(bad)")

        try layer.backward(top: f.top, bottom: f.bottom)
        let g = Geometry(shape: lossScoresShape, axis: 1)
        g.forEachPosition { p, offsets in
            if p % 4 == 0 { #expect(offsets.allSatisfy { f.scores.diff[$0] == 0 }, "ignored position \(p)") }
        }
        let badGradient = mismatches(f.scores.diff, want.gradient, .of(Float.self))
        #expect(badGradient.isEmpty, "\(badGradient)")
    }

    /// Every label ignored: the loss and the gradient are 0 under every normalization — under
    /// VALID that is 0/0, which must not become NaN (Caffe clamps the normaliser to 1).
    @Test(arguments: Mode.allCases, [0, 255]) func allLabelsIgnored(mode: Mode, ignore: Int) throws {
        let f = try LossFixture<Float>(labelsShape: lossLabelsShape, seed: 5)
        f.labels.data = [Float](repeating: Float(ignore), count: 60)
        let layer = try SoftmaxWithLossLayer<Float>(
            ignoreLabel: ignore, normalization: mode.layerValue(), lossWeights: [3])
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        #expect(loss == 0)
        #expect(f.loss.data == [0])
        f.scores.diff = [Float](repeating: .nan, count: 300)
        try layer.backward(top: f.top, bottom: f.bottom)
        #expect(f.scores.diff.allSatisfy { $0 == 0 }, "first: \(f.scores.diff.prefix(5))")
    }

    /// Scores whose class axis is not 1: the label count is the product of the other
    /// dimensions, and BATCH_SIZE divides by the product of the dimensions before the axis.
    static let axisCases: [([Int], Int)] = [
        ([2, 3, 4], 2), ([2, 3, 4], -1), ([2, 3, 4, 5], 2), ([6, 5], 0), ([3, 4, 2], -3),
    ]

    @Test(arguments: axisCases, Mode.allCases) func otherAxes(shapeAndAxis: ([Int], Int), mode: Mode) throws {
        let (shape, axis) = shapeAndAxis
        let f = try LossFixture<Double>(scoresShape: shape, axis: axis, seed: 31, twoTops: true)
        f.labels.data[1] = 1  // so that ignoring label 1 ignores something
        let layer = try SoftmaxWithLossLayer<Double>(axis: axis, ignoreLabel: 1, normalization: mode.layerValue())
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        let want = f.reference(axis: axis, ignoreLabel: 1, mode: mode)
        #expect(Tolerance.of(Double.self).accepts(loss, want.loss), "\(shape) axis \(axis): \(loss) vs \(want.loss)")
        let probabilities = try #require(f.probabilities)
        #expect(probabilities.shape == shape)
        let badP = mismatches(
            probabilities.data, Reference.softmax(f.scores.data, shape, axis), .of(Double.self))
        #expect(badP.isEmpty, "\(badP)")
        try layer.backward(top: f.top, bottom: f.bottom)
        let badG = mismatches(f.scores.diff, want.gradient, .of(Double.self))
        #expect(badG.isEmpty, "\(badG)")
    }

    /// Caffe's `−log(max(p, FLT_MIN))` sticks at 87.3365 once `p` underflows; log-sum-exp
    /// gives the true loss.
    @Test func noFLTMINClamp() throws {
        let scores = try Blob<Float>(shape: [2, 2], data: [0, -200, 50, -1000])
        let labels = try Blob<Float>(shape: [2], data: [1, 1])
        let top = try Blob<Float>(shape: [1])
        let loss = try SoftmaxWithLossLayer<Float>(normalization: .none).forward(bottom: [scores, labels], top: [top])
        let want = Reference.loss(scores: scores.data.doubles, labels: [1, 1], shape: [2, 2], mode: .none)
        #expect(want.loss > 1200)
        #expect(Tolerance.of(Float.self).accepts(loss, want.loss), "\(loss) vs \(want.loss)")
    }

    @Test func hugeScoresStayFinite() throws {
        let f = try LossFixture<Float>(seed: 9)
        var rng = SplitMix64(seed: 10)
        f.scores.data = gaussianFill(300, std: 1e4, using: &rng)
        let layer = try SoftmaxWithLossLayer<Float>()
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        let want = f.reference(mode: .valid)
        #expect(Tolerance.of(Float.self).accepts(loss, want.loss), "\(loss) vs \(want.loss)")
        try layer.backward(top: f.top, bottom: f.bottom)
        #expect(f.scores.diff.allSatisfy { $0.isFinite })
        let bad = mismatches(f.scores.diff, want.gradient, .of(Float.self))
        #expect(bad.isEmpty, "\(bad)")
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        @Test func lossFloat16() throws {
            let f = try LossFixture<Float16>(seed: 16)
            var rng = SplitMix64(seed: 17)
            f.scores.data = gaussianFill(300, std: 2, using: &rng)
            let loss = try SoftmaxWithLossLayer<Float16>(ignoreLabel: 0).forward(bottom: f.bottom, top: f.top)
            let want = f.reference(ignoreLabel: 0, mode: .valid)
            #expect(Tolerance.of(Float16.self).accepts(loss, want.loss), "\(loss) vs \(want.loss)")
        }
    #endif
}
