import Foundation
import Softmax
import SoftmaxTestSupport
import SoftmaxTraining
import Testing

/// `softmax train`'s optimiser and data flags, each shown to take effect: recorded in the model
/// file's training record, and the trained weights equal to what Caffe's SGD definition
/// (`v ← m·v + lr·(∇ + wd·w)`, `w ← w − v`, `lr = base·γ^⌊epoch / step⌋`) says they are
/// relative to other runs — with one batch per epoch, so each epoch is one step — or the result
/// moving the expected way.  Tiny data, a few epochs.
@Suite("softmax train: optimiser, test-set and patch flags")
struct TrainFlagsTests {
    /// Three overlapping classes in four features (the gradient stays far from 0), as .npy.
    func writeBlobs(_ dir: TempDir, samples: Int = 30, seed: UInt64 = 5, name: String = "train") throws -> (
        features: String, labels: String, rows: [[Double]], classes: [Int]
    ) {
        var rng = SeededGenerator(seed: seed)
        let classes = (0..<samples).map { $0 % 3 }
        let rows = classes.map { k in (0..<4).map { f in Double(f == k ? 1 : 0) + rng.gaussian(std: 0.8) } }
        let x = try dir.write(
            try NPYArray(shape: [samples, 4], scalars: rows.joined().map { Float($0) }), "\(name)-x.npy")
        let y = try dir.write(try NPYArray(shape: [samples], scalars: classes.map { Int64($0) }), "\(name)-y.npy")
        return (x, y, rows, classes)
    }

    /// Trains with `flags` on top of one full batch per epoch and no held-out samples, and
    /// returns the model file.
    func train(_ dir: TempDir, _ data: (features: String, labels: String), _ name: String, _ flags: [String])
        throws -> SoftmaxModel
    {
        let path = dir.path("\(name).json")
        let run = try runSoftmax(
            [
                "train", data.features, "--labels", data.labels, "--batch-size", "1000", "--test-split", "0", "--seed",
                "3",
            ]
                + flags + ["-o", path])
        #expect(run.status == 0, "\(name): \(run.stderr)")
        return try SoftmaxModel(contentsOf: path)
    }

    /// Weights and biases of every layer, flattened, as doubles.
    func parameters(_ model: SoftmaxModel) -> (weights: [Double], bias: [Double]) {
        (model.layers.flatMap(\.weights).map(Double.init), model.layers.flatMap(\.bias).map(Double.init))
    }

    /// `got ≈ want` element by element, within 1e-3 of the largest `|want|` (Float weights,
    /// summed in a shuffled order) — far below the effects checked, which are that large.
    func expectClose(_ got: [Double], _ want: [Double], _ what: String) {
        let scale = want.map(abs).max() ?? 0
        #expect(scale > 1e-4, "\(what): test bug, nothing to compare")
        let bad = zip(got, want).enumerated().first { abs($1.0 - $1.1) > 1e-3 * scale }
        #expect(got.count == want.count && bad == nil, "\(what): \(String(describing: bad))")
    }

    @Test func momentumWeightDecayAndLearningRateSteps() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let blobs = try writeBlobs(dir)
        let data = (blobs.features, blobs.labels)
        let plain = ["--lr", "0.5", "--momentum", "0", "--weight-decay", "0"]
        // The initial weights: one step with a vanishing rate.
        let w0 = parameters(try train(dir, data, "w0", ["--epochs", "1", "--lr", "1e-30"]))
        let w1 = parameters(try train(dir, data, "w1", ["--epochs", "1"] + plain))
        let w2 = parameters(try train(dir, data, "w2", ["--epochs", "2"] + plain))
        let step1 = zip(w1.weights, w0.weights).map { $0 - $1 }
        let step2 = zip(w2.weights, w1.weights).map { $0 - $1 }

        // --weight-decay d: the first step also takes lr·d·w0 off the weights, not the biases.
        let decayed = try train(
            dir, data, "decay", ["--epochs", "1", "--lr", "0.5", "--momentum", "0", "--weight-decay", "0.1"])
        #expect(decayed.training?.settings.weightDecay == 0.1)
        let wd = parameters(decayed)
        expectClose(zip(wd.weights, w1.weights).map { $0 - $1 }, w0.weights.map { -0.05 * $0 }, "weight decay")
        expectClose(wd.bias, w1.bias, "weight decay leaves the biases")

        // --momentum m: the second step adds m times the first.
        let withMomentum = try train(
            dir, data, "momentum", ["--epochs", "2", "--lr", "0.5", "--momentum", "0.6", "--weight-decay", "0"])
        #expect(withMomentum.training?.settings.momentum == 0.6)
        let wm = parameters(withMomentum)
        expectClose(zip(wm.weights, w2.weights).map { $0 - $1 }, step1.map { 0.6 * $0 }, "momentum")

        // --lr-step 1 --lr-gamma γ: the second epoch's step is γ times the plain one.
        let stepped = try train(dir, data, "step", ["--epochs", "2", "--lr-step", "1", "--lr-gamma", "0.25"] + plain)
        #expect(stepped.training?.settings.learningRateStepEpochs == 1)
        #expect(stepped.training?.settings.learningRateGamma == 0.25)
        let ws = parameters(stepped)
        expectClose(zip(ws.weights, w1.weights).map { $0 - $1 }, step2.map { 0.25 * $0 }, "learning-rate step")
        // --lr-step 2 over two epochs never steps: the plain run's weights.
        let late = parameters(
            try train(dir, data, "late", ["--epochs", "2", "--lr-step", "2", "--lr-gamma", "0.25"] + plain))
        expectClose(late.weights, w2.weights, "a step after the last epoch")
    }

    /// The model's accuracy on `rows` against `classes`, from the model file in float64
    /// (`referenceProbabilities`).
    func accuracy(_ model: SoftmaxModel, _ rows: [[Double]], _ classes: [Int]) -> Double {
        let right = zip(rows, classes).filter { row, k in
            let p = referenceProbabilities(model, row)
            return p.indices.max { p[$0] < p[$1] } == k
        }
        return Double(right.count) / Double(rows.count)
    }

    @Test func separateTestSet() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let training = try writeBlobs(dir, samples: 30, seed: 5)
        // A test set of other samples, a third of them mislabelled: its accuracy is not the
        // training set's and not 100 %.
        var test = try writeBlobs(dir, samples: 24, seed: 6, name: "test")
        for k in stride(from: 0, to: 24, by: 3) { test.classes[k] = (test.classes[k] + 1) % 3 }
        let testLabels = try dir.write(
            try NPYArray(shape: [24], scalars: test.classes.map { Int64($0) }), "test-y-flipped.npy")
        let path = dir.path("m.json")
        let run = try runSoftmax([
            "train", training.features, "--labels", training.labels, "--test-data", test.features, "--test-labels",
            testLabels, "--epochs", "5", "--seed", "3", "-o", path,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        // Every training sample trains (no split), the 24 given ones test.
        #expect(run.stdout.contains("30 train, 24 test"), "\(run.stdout)")
        let model = try SoftmaxModel(contentsOf: path)
        #expect(model.training?.data.testPath == test.features)
        #expect(model.training?.data.testLabelsPath == testLabels)
        let want = accuracy(model, test.rows, test.classes)
        #expect(want < 0.9 && want != accuracy(model, training.rows, training.classes), "test bug: \(want)")
        let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("test accuracy ") })
        #expect(line.hasPrefix("test accuracy \(String(format: "%.2f", 100 * want))%"), "\(line)")
        let last = try #require(model.training?.history.last?.testAccuracy)
        #expect(abs(last - want) < 1e-12 || abs(last - 100 * want) < 1e-9, "history: \(last), expected \(want)")
    }

    @Test func patchSeesTheNeighbours() throws {
        // One channel of random 0/1 pixels; a pixel's class is its right neighbour's value
        // (the last column ignored).  A pixel alone says nothing about its class, its 3×3
        // neighbourhood says everything.
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let (n, h, w) = (16, 6, 6)
        var rng = SeededGenerator(seed: 9)
        let bits = (0..<(n * h * w)).map { _ in Int(rng.next() % 2) }
        let images = bits.map { Float(Double($0) + 0.1 * rng.gaussian()) }
        let masks = (0..<(n * h * w)).map { k in k % w == w - 1 ? UInt8(255) : UInt8(bits[k + 1]) }
        let x = try dir.write(try NPYArray(shape: [n, 1, h, w], scalars: images), "images.npy")
        let y = try dir.write(try NPYArray(shape: [n, h, w], scalars: masks), "masks.npy")
        func pixelAccuracy(patch: Int) throws -> (Double, SoftmaxModel) {
            let path = dir.path("patch\(patch).json")
            let run = try runSoftmax([
                "train", "--task", "segmentation", x, "--labels", y, "--ignore-index", "255", "--patch", "\(patch)",
                "--epochs", "20", "--test-split", "0.25", "--seed", "1", "-o", path,
            ])
            #expect(run.status == 0, "patch \(patch): \(run.stderr)")
            let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("test pixel accuracy ") })
            let value = try #require(Double(line.split(separator: " ")[3].prefix { $0 != "%" }))
            return (value, try SoftmaxModel(contentsOf: path))
        }
        let (alone, one) = try pixelAccuracy(patch: 1)
        let (neighbourhood, three) = try pixelAccuracy(patch: 3)
        #expect(one.patchSize == 1 && one.layers[0].inputs == 1)
        #expect(three.patchSize == 3 && three.layers[0].inputs == 9 && three.training?.settings.patchSize == 3)
        #expect(alone < 70, "patch 1: \(alone)% from a pixel that says nothing")
        #expect(neighbourhood > 95, "patch 3: \(neighbourhood)%")
    }
}
