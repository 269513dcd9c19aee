import Foundation
import Softmax
import SoftmaxTraining
import Testing

/// Rows of `features` numbers and a label per line, for CSV files built in the tests.
func csvText(header: [String]?, rows: [[String]]) -> String {
    ((header.map { [$0] } ?? []) + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
}

/// Two well-separated classes in 3 features, labelled with words.
func flowerRows(count: Int, seed: UInt64) -> [[String]] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { n in
        let setosa = n % 2 == 0
        let centre: [Double] = setosa ? [1, 5, 2] : [4, 2, 6]
        return centre.map { String(format: "%.3f", $0 + 0.4 * rng.gaussian()) } + [setosa ? "setosa" : "virginica"]
    }
}

/// Probabilities of `model` for one row of raw features, in Double, written independently of
/// the library (standardise, dense layers with ReLU between, softmax).
func referenceProbabilities(_ model: SoftmaxModel, _ raw: [Double]) -> [Double] {
    var x = zip(raw, zip(model.inputMean, model.inputScale)).map { ($0 - Double($1.0)) * Double($1.1) }
    for (index, layer) in model.layers.enumerated() {
        var y = [Double](repeating: 0, count: layer.outputs)
        for o in 0..<layer.outputs {
            y[o] = Double(layer.bias[o])
            for i in 0..<layer.inputs { y[o] += Double(layer.weights[o * layer.inputs + i]) * x[i] }
            if index < model.layers.count - 1 { y[o] = max(y[o], 0) }
        }
        x = y
    }
    let m = x.max()!
    let e = x.map { exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

@Suite("softmax train / evaluate / predict")
struct TrainCommandTests {
    @Test func trainOnDigitsThenEvaluateAndPredict() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let model = dir.path("model.json")
        let train = try runSoftmax(["train", "--epochs", "6", "-o", model, "--plot", dir.path("curves.svg")])
        #expect(train.status == 0, "\(train.stderr)")
        let lines = train.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("epoch ") }.count == 6)
        #expect(lines[0].contains("1797 samples of 64 features, 10 classes; 1438 train, 359 test"))
        let final = try #require(lines.first { $0.hasPrefix("test accuracy ") })
        let accuracy = try #require(Double(final.split(separator: " ")[2].dropLast()))
        #expect(accuracy >= 95)
        #expect(train.stderr.isEmpty)  // no progress bar when standard error is not a terminal

        let saved = try SoftmaxModel(contentsOf: model)
        #expect(saved.classNames == (0...9).map(String.init) && saved.inputCount == 64 && saved.layers.count == 1)
        #expect(saved.training?.history.count == 6)
        let svg = try String(contentsOfFile: dir.path("curves.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))

        // evaluate without data: the same held-out digits, the same accuracy.
        let evaluate = try runSoftmax(["evaluate", model, "--plot", dir.path("confusion.svg")])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        #expect(evaluate.stdout.contains("accuracy \(String(format: "%.2f", accuracy))%"))
        #expect(evaluate.stdout.contains("confusion matrix"))
        #expect(FileManager.default.fileExists(atPath: dir.path("confusion.svg")))

        // predict: a CSV of 12 digits with their label column (dropped), probabilities against
        // a float64 reference computed from the model file.
        let digits = try DataLoader.digits()
        let rows = (0..<12).map { n in
            digits.values[(n * 64)..<((n + 1) * 64)].map { String(Int($0)) } + [digits.labelNames![n]]
        }
        let csv = dir.path("new.csv")
        try csvText(header: nil, rows: rows).write(toFile: csv, atomically: true, encoding: .utf8)
        let predict = try runSoftmax(["predict", model, csv, "--output", dir.path("p.npy")])
        #expect(predict.status == 0, "\(predict.stderr)")
        let (type, shape, values) = try readDoubles(dir.path("p.npy"))
        #expect(type == .float32 && shape == [12, 10])
        for n in 0..<12 {
            let want = referenceProbabilities(saved, digits.values[(n * 64)..<((n + 1) * 64)].map(Double.init))
            for k in 0..<10 { #expect(abs(values[n * 10 + k] - want[k]) <= 1e-5) }
        }
        let printed = try runSoftmax(["predict", model, csv])
        let predicted = printed.stdout.split(separator: "\n").map(String.init)
        #expect(predicted.count == 12)
        #expect(zip(predicted, digits.labelNames!.prefix(12)).filter { $0 == $1 }.count >= 10)
        let csvOut = try runSoftmax(["predict", model, csv, "--output", dir.path("p.csv")])
        #expect(csvOut.status == 0)
        let table = try String(contentsOfFile: dir.path("p.csv"), encoding: .utf8).split(separator: "\n")
        #expect(table.count == 13 && table[0] == "predicted,0,1,2,3,4,5,6,7,8,9")
        #expect(table[1].split(separator: ",").first.map(String.init) == predicted[0])
    }

    @Test func csvWithHeaderAndWordLabels() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let csv = dir.path("flowers.csv")
        try csvText(header: ["length", "width", "height", "species"], rows: flowerRows(count: 60, seed: 2))
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let model = dir.path("m.json")
        let train = try runSoftmax([
            "train", csv, "--label-column", "species", "--epochs", "10", "--hidden", "4", "--label-smoothing", "0.1",
            "--class-weights", "1,2", "-o", model,
        ])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("test accuracy 100.00%"))
        let saved = try SoftmaxModel(contentsOf: model)
        #expect(saved.classNames == ["setosa", "virginica"] && saved.layers.count == 2)
        #expect(saved.training?.settings.classWeights == [1, 2] && saved.training?.settings.labelSmoothing == 0.1)

        // An unknown label is an error that names it.
        let bad = dir.path("bad.csv")
        try csvText(
            header: ["length", "width", "height", "species"],
            rows: [["1", "5", "2", "setosa"], ["4", "2", "6", "rose"]]
        )
        .write(toFile: bad, atomically: true, encoding: .utf8)
        let evaluate = try runSoftmax(["evaluate", model, bad])
        #expect(evaluate.status == 1)
        #expect(evaluate.stderr.hasPrefix("error: ") && evaluate.stderr.contains("unknown label 'rose'"))
    }

    @Test func npyFeaturesAndSegmentationMasks() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        // Segmentation: pixel class = 1 where channel 0 is bright, 2 where channel 1 is, else 0;
        // some pixels ignored (255).
        var rng = SplitMix64(seed: 8)
        let (n, c, h, w) = (10, 2, 8, 8)
        var images = [Float](repeating: 0, count: n * c * h * w)
        var masks = [UInt8](repeating: 0, count: n * h * w)
        for i in 0..<n {
            for p in 0..<(h * w) {
                let k = Int(rng.next() % 3)
                masks[i * h * w + p] = p % 17 == 0 ? 255 : UInt8(k)
                images[(i * c) * h * w + p] = Float((k == 1 ? 2.0 : 0) + 0.2 * rng.gaussian())
                images[(i * c + 1) * h * w + p] = Float((k == 2 ? 2.0 : 0) + 0.2 * rng.gaussian())
            }
        }
        let imagesPath = try dir.write(try NPYArray(shape: [n, c, h, w], scalars: images), "images.npy")
        let masksPath = try dir.write(try NPYArray(shape: [n, h, w], scalars: masks), "masks.npy")
        let model = dir.path("seg.json")
        let train = try runSoftmax([
            "train", "--task", "segmentation", imagesPath, "--labels", masksPath, "--ignore-index", "255", "--patch",
            "1",
            "--epochs", "15", "--test-split", "0.3", "--mask-output", dir.path("panel.png"), "-o", model,
        ])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("10 images of 8x8, 2 channels, 3 classes; 7 train, 3 test"))
        let final = try #require(train.stdout.split(separator: "\n").first { $0.hasPrefix("test pixel accuracy") })
        #expect(final.contains("mean IoU"))
        let png = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path("panel.png"))))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let evaluate = try runSoftmax(["evaluate", model])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        #expect(evaluate.stdout.contains("pixel accuracy 100.00%"))
        #expect(evaluate.stdout.contains("IoU"))

        let predict = try runSoftmax([
            "predict", model, imagesPath, "--output", dir.path("probs.npy"), "--mask-output", dir.path("m.png"),
        ])
        #expect(predict.status == 0, "\(predict.stderr)")
        let (_, shape, probabilities) = try readDoubles(dir.path("probs.npy"))
        #expect(shape == [n, 3, h, w])
        // NCHW: the three class planes of each pixel sum to 1.
        for p in 0..<(h * w) {
            let sum = (0..<3).map { probabilities[$0 * h * w + p] }.reduce(0, +)
            #expect(abs(sum - 1) < 1e-5)
        }

        // Classification from .npy features and labels.
        var features: [Float] = []
        for i in 0..<40 {
            let side: Float = i % 2 == 0 ? -2 : 2
            features += [side + Float(i % 5) * 0.1, Float(i % 3)]
        }
        let labels = (0..<40).map { Int64($0 % 2) }
        let fx = try dir.write(try NPYArray(shape: [40, 2], scalars: features), "x.npy")
        let fy = try dir.write(try NPYArray(shape: [40], scalars: labels), "y.npy")
        let classifier = try runSoftmax([
            "train", fx, "--labels", fy, "--epochs", "10", "--batch-size", "4", "-o", dir.path("c.json"),
        ])
        #expect(classifier.status == 0, "\(classifier.stderr)")
        #expect(classifier.stdout.contains("test accuracy 100.00%"))
    }

    @Test func idxFiles() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        // 30 images of 2×2 uint8 pixels: class 1 when the top row is bright.
        var imageBytes: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 30, 0, 0, 0, 2, 0, 0, 0, 2]
        var labelBytes: [UInt8] = [0, 0, 0x08, 1, 0, 0, 0, 30]
        for i in 0..<30 {
            let bright = i % 2 == 1
            imageBytes += bright ? [200, 220, UInt8(i), 10] : [10, UInt8(i), 210, 190]
            labelBytes.append(bright ? 1 : 0)
        }
        let images = try dir.writeBytes(imageBytes, "train-images-idx3-ubyte")
        let labels = try dir.writeBytes(labelBytes, "train-labels-idx1-ubyte")
        let result = try runSoftmax(["train", images, "--labels", labels, "--epochs", "5", "-o", dir.path("m.json")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("30 samples of 4 features, 2 classes"))
        #expect(result.stdout.contains("test accuracy 100.00%"))
    }

    @Test func sameSeedSameModelFile() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        for name in ["a.json", "b.json"] {
            let result = try runSoftmax([
                "train", "--epochs", "2", "--hidden", "8", "--seed", "3", "-o", dir.path(name),
            ])
            #expect(result.status == 0)
        }
        var a = try SoftmaxModel(contentsOf: dir.path("a.json"))
        var b = try SoftmaxModel(contentsOf: dir.path("b.json"))
        #expect(a.layers == b.layers)
        // Only the timings may differ.
        a.training?.history = []
        b.training?.history = []
        #expect(a == b)
    }

    /// `--threads` caps the kernels' threads per process; the model does not depend on it.
    @Test func threadsDoNotChangeTheModel() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        for (name, threads) in [("one.json", "1"), ("all.json", "0")] {
            let result = try runSoftmax([
                "train", "--epochs", "2", "--hidden", "8", "--seed", "4", "--threads", threads, "-o", dir.path(name),
            ])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let one = try SoftmaxModel(contentsOf: dir.path("one.json"))
        let all = try SoftmaxModel(contentsOf: dir.path("all.json"))
        #expect(one.layers == all.layers)
    }

    @Test(arguments: [
        (["train", "--threads", "5000"], "--threads 5000: must be 0 (all cores) or 1...1024"),
        (["train", "missing.csv"], "cannot read 'missing.csv'"),
        (["train", "--epochs", "0"], "--epochs 0"),
        (["train", "--lr", "-1"], "--lr -1"),
        (["train", "--label-smoothing", "1.5"], "--label-smoothing 1.5"),
        (["train", "--class-weights", "1,x"], "'x' is not a number"),
        (["train", "--class-weights", "1,2"], "2 values for 10 classes"),
        (["train", "--patch", "4", "--task", "segmentation"], "--patch 4"),
        (["train", "--mask-output", "m.png"], "--mask-output is for --task segmentation"),
        (["train", "--header", "maybe"], "--header 'maybe'"),
        (["evaluate", "missing-model.json"], "cannot read 'missing-model.json': no such file or directory"),
    ])
    func badArgumentsGiveOneErrorLine(arguments: [String], message: String) throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let result = try runSoftmax(arguments + (arguments[0] == "train" ? ["-o", dir.path("m.json")] : []))
        #expect(result.status != 0 && result.reason == .exit)
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.path("m.json")))
    }

    @Test func badFilesGiveErrors() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let csv = dir.path("bad.csv")
        try "1,2,a\n3,x,b\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let train = try runSoftmax(["train", csv, "-o", dir.path("m.json")])
        #expect(
            train.status == 1 && train.stderr.contains("line 2, column 2") && train.stderr.contains("'x'"),
            "\(train.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("m.json")))

        let notModel = dir.path("not-model.json")
        try "{\"format\": \"something\"}".write(toFile: notModel, atomically: true, encoding: .utf8)
        let evaluate = try runSoftmax(["evaluate", notModel])
        #expect(
            evaluate.status == 1 && evaluate.stderr.hasPrefix("error: ")
                && evaluate.stderr.contains("not a swift-softmax model"))

        // A model for 64 features given 3.
        let model = dir.path("m.json")
        #expect(try runSoftmax(["train", "--epochs", "1", "-o", model]).status == 0)
        let small = dir.path("small.csv")
        try "1,2,3\n4,5,6\n".write(toFile: small, atomically: true, encoding: .utf8)
        let predict = try runSoftmax(["predict", model, small])
        #expect(predict.status == 1 && predict.stderr.contains("the model takes 64"), "\(predict.stderr)")
        let overwrite = try runSoftmax(["predict", model, small, "--output", small])
        #expect(overwrite.status == 1 && overwrite.stderr.contains("would overwrite the input"))
        let segmentationFromCSV = try runSoftmax(["train", "--task", "segmentation", small, "-o", dir.path("s.json")])
        #expect(segmentationFromCSV.status == 1 && segmentationFromCSV.stderr.contains("not CSV"))
    }
}
