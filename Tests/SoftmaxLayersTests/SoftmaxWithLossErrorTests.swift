import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// What Caffe answers with a crash (`CHECK` / `LOG(FATAL)`, or nothing at all in release
/// builds for bad labels) must be a thrown error naming the problem.
@Suite struct SoftmaxWithLossErrorTests {
    @Test(arguments: [[true, true], [false, true]]) func backpropagateToLabels(propagateDown: [Bool]) throws {
        let f = try LossFixture<Float>(seed: 1)
        let layer = try SoftmaxWithLossLayer<Float>()
        try layer.forward(bottom: f.bottom, top: f.top)
        f.scores.diff = [Float](repeating: 42, count: 300)
        #expect(throws: LayerError.cannotBackpropagateToLabels) {
            try layer.backward(top: f.top, propagateDown: propagateDown, bottom: f.bottom)
        }
        #expect(f.scores.diff.allSatisfy { $0 == 42 }, "nothing written on error")
    }

    /// Label 7 with 5 classes at n = 3, h = 1, w = 2: the position is the scores' index
    /// without the class axis, (3, 1, 2).
    @Test func labelOutOfRange() throws {
        let f = try LossFixture<Float>(labelsShape: lossLabelsShape, seed: 2)
        let g = Geometry(shape: lossScoresShape, axis: 1)
        f.labels.data[3 * g.inner + 1 * 3 + 2] = 7
        f.labels.data[8 * g.inner + 1 * 3 + 2] = 9  // a later bad label is not the one reported
        let layer = try SoftmaxWithLossLayer<Float>()
        #expect(throws: SoftmaxError.labelOutOfRange(label: "7", position: [3, 1, 2], classes: 5)) {
            try layer.forward(bottom: f.bottom, top: f.top)
        }
        // Ignoring 7 leaves the 9.
        let ignoring7 = try SoftmaxWithLossLayer<Float>(ignoreLabel: 7)
        #expect(throws: SoftmaxError.labelOutOfRange(label: "9", position: [8, 1, 2], classes: 5)) {
            try ignoring7.forward(bottom: f.bottom, top: f.top)
        }
    }

    @Test(arguments: [-1, 5, 255]) func labelJustOutside(label: Int) throws {
        let f = try LossFixture<Double>(seed: 3)
        f.labels.data[0] = Double(label)
        #expect(throws: SoftmaxError.labelOutOfRange(label: "\(label)", position: [0, 0, 0], classes: 5)) {
            try SoftmaxWithLossLayer<Double>().forward(bottom: f.bottom, top: f.top)
        }
    }

    @Test func fractionalLabel() throws {
        let f = try LossFixture<Float>(labelsShape: lossLabelsShape, seed: 4)
        f.labels.data[1 * 6 + 0 * 3 + 1] = 1.5
        #expect(throws: SoftmaxError.labelNotWhole(value: 1.5, position: [1, 0, 1])) {
            try SoftmaxWithLossLayer<Float>(ignoreLabel: 1).forward(bottom: f.bottom, top: f.top)
        }
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity, 0.5]) func labelNotWhole(value: Float) throws {
        let f = try LossFixture<Float>(seed: 5)
        f.labels.data[59] = value
        let error = #expect(throws: SoftmaxError.self) {
            try SoftmaxWithLossLayer<Float>().forward(bottom: f.bottom, top: f.top)
        }
        guard case .labelNotWhole(let reported, let position) = error else {
            Issue.record("expected labelNotWhole, got \(String(describing: error))")
            return
        }
        #expect(position == [9, 1, 2])
        #expect(reported.isNaN ? value.isNaN : reported == Double(value))
    }

    @Test(arguments: [0, 1, 3]) func wrongBottomCount(count: Int) throws {
        let f = try LossFixture<Float>(seed: 6)
        let layer = try SoftmaxWithLossLayer<Float>()
        let bottom = Array([f.scores, f.labels, f.labels].prefix(count))
        for call in ["forward", "backward"] {
            let error = #expect(throws: LayerError.self) {
                if call == "forward" {
                    try layer.forward(bottom: bottom, top: f.top)
                } else {
                    try layer.backward(top: f.top, bottom: bottom)
                }
            }
            guard case .blobCount(let name, let role, _, let actual) = error else {
                Issue.record("\(call): expected blobCount, got \(String(describing: error))")
                continue
            }
            #expect(name == "SoftmaxWithLoss" && role == "bottom" && actual == count, "\(call)")
        }
    }

    @Test(arguments: [0, 3]) func wrongTopCount(count: Int) throws {
        let f = try LossFixture<Float>(seed: 7)
        let layer = try SoftmaxWithLossLayer<Float>()
        let top = try (0..<count).map { _ in try Blob<Float>(shape: [1]) }
        for call in ["forward", "backward"] {
            let error = #expect(throws: LayerError.self) {
                if call == "forward" {
                    try layer.forward(bottom: f.bottom, top: top)
                } else {
                    try layer.backward(top: top, bottom: f.bottom)
                }
            }
            guard case .blobCount(let name, let role, _, let actual) = error else {
                Issue.record("\(call): expected blobCount, got \(String(describing: error))")
                continue
            }
            #expect(name == "SoftmaxWithLoss" && role == "top" && actual == count, "\(call)")
        }
    }

    /// One label per position: 10·2·3 = 60 for the 10×5×2×3 scores.
    @Test(arguments: [59, 61, 300, 0]) func wrongLabelCount(count: Int) throws {
        let f = try LossFixture<Float>(seed: 8)
        try f.labels.reshape([count])
        let error = #expect(throws: SoftmaxError.self) {
            try SoftmaxWithLossLayer<Float>().forward(bottom: f.bottom, top: f.top)
        }
        guard case .countMismatch(_, 60, count) = error else {
            Issue.record("expected countMismatch(60, \(count)), got \(String(describing: error))")
            return
        }
    }

    @Test(arguments: [4, -5, 10]) func axisOutOfRange(axis: Int) throws {
        let f = try LossFixture<Float>(seed: 9)
        #expect(throws: SoftmaxError.axisOutOfRange(axis: axis, rank: 4)) {
            try SoftmaxWithLossLayer<Float>(axis: axis).forward(bottom: f.bottom, top: f.top)
        }
    }

    @Test func backwardBeforeForward() throws {
        let f = try LossFixture<Float>(seed: 10)
        f.loss.diff = [1]
        #expect(throws: LayerError.backwardBeforeForward(layer: "SoftmaxWithLoss")) {
            try SoftmaxWithLossLayer<Float>().backward(top: f.top, bottom: f.bottom)
        }
    }

    /// Backward for bottoms of another size than the last forward's cannot use that forward.
    @Test func backwardWithOtherBottoms() throws {
        let f = try LossFixture<Float>(seed: 11)
        let layer = try SoftmaxWithLossLayer<Float>()
        try layer.forward(bottom: f.bottom, top: f.top)
        let other = try LossFixture<Float>(scoresShape: [2, 5], seed: 12)
        #expect(throws: LayerError.backwardBeforeForward(layer: "SoftmaxWithLoss")) {
            try layer.backward(top: f.top, bottom: other.bottom)
        }
    }

    /// A refused forward leaves the layer usable.
    @Test func recoversAfterAnError() throws {
        let f = try LossFixture<Double>(seed: 13)
        let layer = try SoftmaxWithLossLayer<Double>()
        let good = f.labels.data
        f.labels.data[17] = 11
        #expect(throws: SoftmaxError.self) { try layer.forward(bottom: f.bottom, top: f.top) }
        f.labels.data = good
        let loss = try layer.forward(bottom: f.bottom, top: f.top)
        try layer.backward(top: f.top, bottom: f.bottom)
        let want = f.reference(mode: .valid)
        #expect(Tolerance.of(Double.self).accepts(loss, want.loss))
        #expect(mismatches(f.scores.diff, want.gradient, .of(Double.self)).isEmpty)
    }

    /// After a refused forward, backward must not hand out the gradient of an earlier forward
    /// for scores the blobs no longer hold.
    @Test func noStaleGradientAfterAFailedForward() throws {
        let f = try LossFixture<Double>(seed: 14)
        let layer = try SoftmaxWithLossLayer<Double>()
        try layer.forward(bottom: f.bottom, top: f.top)
        var rng = SplitMix64(seed: 15)
        f.scores.data = gaussianFill(300, std: 10, using: &rng)
        f.labels.data[0] = 1.5
        #expect(throws: SoftmaxError.self) { try layer.forward(bottom: f.bottom, top: f.top) }
        #expect(throws: LayerError.backwardBeforeForward(layer: "SoftmaxWithLoss")) {
            try layer.backward(top: f.top, bottom: f.bottom)
        }
    }
}
