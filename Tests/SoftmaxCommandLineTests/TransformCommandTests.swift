import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

// `softmax loss` and `softmax linear-loss` with `--temperature`, `--softcap`, `--z-loss` and
// `--z-loss-output`: the files they write against the float64 reference, the options out of
// their domains as one `error:` line from the real binary, and `loss`'s ignore index -100 by
// default.

@Suite("softmax loss and linear-loss with logit transforms")
struct TransformCommandTests {
    /// The lines of standard error.
    func errorLines(_ result: ProcessResult) -> [Substring] {
        result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    }

    /// One `error:` line on standard error, nothing on standard output, a non-zero exit.
    func expectOneErrorLine(_ result: ProcessResult, _ what: String) {
        let lines = errorLines(result)
        #expect(result.reason == .exit && result.status != 0, "\(what): exit status \(result.status)")
        #expect(lines.count == 1 && lines.first?.hasPrefix("error:") == true, "\(what): stderr \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(what): stdout \(result.stdout)")
    }

    /// Options out of their domains, as the command line spells them.
    static let badOptions: [[String]] = [
        ["--temperature", "0"], ["--temperature", "-1"], ["--temperature", "nan"], ["--temperature", "inf"],
        ["--softcap", "0"], ["--softcap", "-2"], ["--softcap", "nan"],
        ["--z-loss", "-1"], ["--z-loss", "nan"], ["--z-loss", "inf"],
    ]

    @Test func badOptionsAreOneErrorLine() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let scores = try tmp.write(
            try NPYArray(shape: [3, 4], scalars: randomDoubles(12, in: -2...2, seed: 1).map { Float($0) }), "x.npy")
        let labels = try tmp.write(try NPYArray(shape: [3], scalars: [Int64(0), 3, 1]), "t.npy")
        let hidden = try tmp.write(
            try NPYArray(shape: [3, 2], scalars: randomDoubles(6, in: -1...1, seed: 2).map { Float($0) }), "h.npy")
        let weight = try tmp.write(
            try NPYArray(shape: [4, 2], scalars: randomDoubles(8, in: -1...1, seed: 3).map { Float($0) }), "w.npy")
        let lossPath = tmp.path("l.npy")
        for option in Self.badOptions {
            let loss = try runSoftmax(["loss", scores, labels, "--loss-output", lossPath] + option)
            expectOneErrorLine(loss, "loss \(option)")
            let linear = try runSoftmax(["linear-loss", hidden, weight, labels, "--loss-output", lossPath] + option)
            expectOneErrorLine(linear, "linear-loss \(option)")
            #expect(!FileManager.default.fileExists(atPath: lossPath), "\(option): an output was written")
        }
        // Transforms of log-probabilities.
        for option in [["--temperature", "2"], ["--softcap", "5"], ["--z-loss", "0.1"]] {
            let result = try runSoftmax(["loss", scores, labels, "--input", "log-probabilities"] + option)
            expectOneErrorLine(result, "log-probabilities \(option)")
        }
        // The same values in range run.
        let fine = try runSoftmax(
            ["loss", scores, labels, "--temperature", "0.5", "--softcap", "2", "--z-loss", "0.001"])
        #expect(fine.status == 0 && fine.stderr.isEmpty, "\(fine.stderr)")
        let fineLinear = try runSoftmax(
            ["linear-loss", hidden, weight, labels, "--temperature", "0.5", "--softcap", "2", "--z-loss", "0"])
        #expect(fineLinear.status == 0 && fineLinear.stderr.isEmpty, "\(fineLinear.stderr)")
    }

    /// `--reduction none` writes per-position losses (z terms included) and z terms; the
    /// printed lines are the losses.  Strided scores (axis 1 of 3-D), an ignored label -100
    /// without `--ignore-index`, class weights and smoothing.
    @Test(arguments: [NPYDataType.float32, .float64])
    func perPositionLossAndZLossFiles(_ type: NPYDataType) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [3, 5, 4]
        let (input, x) = try floatArray(type, shape: shape, randomDoubles(60, in: -6...6, seed: 4))
        var labels = randomLabels(12, classes: 5, seed: 5)
        labels[2] = -100
        labels[7] = -100
        let w: [Double] = [0.5, 1, 2, 1.5, 1]
        let scores = try tmp.write(input, "x.npy")
        let targets = try tmp.write(try labelArray(.int64, shape: [3, 4], labels), "t.npy")
        let weights = try tmp.write(try NPYArray(shape: [5], scalars: w), "w.npy")
        let (lossPath, zPath, gradPath) = (tmp.path("l.npy"), tmp.path("z.npy"), tmp.path("g.npy"))
        let out = try runLoss([
            scores, targets, "--reduction", "none", "--weights", weights, "--label-smoothing", "0.1",
            "--temperature", "0.8", "--softcap", "3", "--z-loss", "0.1", "--z-loss-output", zPath, "--loss-output",
            lossPath, "--grad-output", gradPath,
        ])
        let options = CrossEntropyOptions(
            axis: 1, reduction: .none, ignoreIndex: -100, classWeights: w, labelSmoothing: 0.1, temperature: 0.8,
            softcap: 3, zLoss: 0.1)
        let want = Reference.transformedCrossEntropy(x, shape, .indices(labels), options)
        #expect(want.zLosses[2] == 0 && want.zLosses[0] > 0)
        let (rtol, atol) = tolerance(type)
        let l = try readDoubles(lossPath)
        let z = try readDoubles(zPath)
        #expect(l.type == type && l.shape == [3, 4] && z.type == type && z.shape == [3, 4])
        #expect(firstMismatch(l.values, want.losses, rtol: rtol, atol: atol) == nil, "losses")
        #expect(firstMismatch(z.values, want.zLosses, rtol: rtol, atol: atol) == nil, "z-losses")
        #expect(l.values[2] == 0 && z.values[2] == 0 && l.values[7] == 0 && z.values[7] == 0)
        // The losses include their z terms: each is above the z term alone.
        #expect(zip(l.values, z.values).allSatisfy { $0 >= $1 })
        #expect(allClose(printedNumbers(out).map { $0 ?? .nan }, want.losses, rtol: rtol, atol: atol), "\(out)")
        let g = try readDoubles(gradPath)
        #expect(g.shape == shape)
        let bad = g.values.indices.filter {
            abs(g.values[$0] - want.gradient[$0]) > rtol * (abs(want.gradient[$0]) + want.gradientMagnitudes[$0])
        }
        #expect(bad.isEmpty, "gradient elements \(bad.prefix(5))")
    }

    /// Reductions other than `none` write 0-d loss and z-loss files; `mean` divides the z
    /// terms by the positions not ignored.
    @Test(arguments: ["mean", "sum", "full", "batch-size"])
    func reducedLossAndZLossFiles(_ reduction: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [6, 40]
        let x = randomDoubles(240, in: -8...8, seed: 6)
        var labels = randomLabels(6, classes: 40, seed: 7)
        labels[4] = -100
        let w = (0..<40).map { Double($0 % 3) + 1 }
        let scores = try tmp.write(try NPYArray(shape: shape, scalars: x), "x.npy")
        let targets = try tmp.write(try labelArray(.int32, shape: [6], labels), "t.npy")
        let weights = try tmp.write(try NPYArray(shape: [40], scalars: w), "w.npy")
        let (lossPath, zPath) = (tmp.path("l.npy"), tmp.path("z.npy"))
        let out = try runLoss([
            scores, targets, "--reduction", reduction, "--weights", weights, "--temperature", "1.5", "--softcap",
            "4", "--z-loss", "0.1", "--z-loss-output", zPath, "--loss-output", lossPath,
        ])
        let options = CrossEntropyOptions(
            axis: 1, reduction: LossReduction(rawValue: reduction)!, ignoreIndex: -100, classWeights: w,
            temperature: 1.5, softcap: 4, zLoss: 0.1)
        let want = Reference.transformedCrossEntropy(x, shape, .indices(labels), options)
        let l = try readDoubles(lossPath)
        let z = try readDoubles(zPath)
        #expect(l.shape == [] && z.shape == [] && l.type == .float64 && z.type == .float64)
        #expect(
            abs(l.values[0] - want.loss) <= 1e-10 * abs(want.loss), "\(reduction): loss \(l.values) vs \(want.loss)")
        #expect(
            abs(z.values[0] - want.zLoss) <= 1e-10 * abs(want.zLoss), "\(reduction): z \(z.values) vs \(want.zLoss)")
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(abs(printed - want.loss) <= 1e-10 * abs(want.loss))
        if reduction == "mean" {
            #expect(abs(want.zLoss - want.zLosses.reduce(0, +) / 5) <= 1e-14 * want.zLoss)
        }
    }

    /// `loss` ignores label -100 without `--ignore-index` (PyTorch's default); any other label
    /// outside the classes is still an error, and an explicit `--ignore-index` replaces -100.
    @Test func ignoreIndexDefaultsToMinus100() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = randomDoubles(12, in: -2...2, seed: 8)
        let scores = try tmp.write(try NPYArray(shape: [4, 3], scalars: x), "x.npy")
        let withIgnored = try tmp.write(try labelArray(.int64, shape: [4], [2, -100, 0, 1]), "t.npy")
        let out = try runLoss([scores, withIgnored])
        let want = referenceCrossEntropy(x, shape: [4, 3], axis: 1, labels: [2, -100, 0, 1], ignoreIndex: -100).loss
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(abs(printed - want) <= 1e-10 * want)
        // Through the binary too: exit 0, the same number.
        let binary = try runSoftmax(["loss", scores, withIgnored])
        #expect(binary.status == 0 && binary.stdout == out)

        let minusOne = try tmp.write(try labelArray(.int64, shape: [4], [2, -1, 0, 1]), "m.npy")
        let bad = try runSoftmax(["loss", scores, minusOne])
        expectOneErrorLine(bad, "label -1")
        #expect(bad.stderr.contains("-1"), "\(bad.stderr)")
        let replaced = try runSoftmax(["loss", scores, withIgnored, "--ignore-index", "255"])
        expectOneErrorLine(replaced, "label -100 with --ignore-index 255")
        #expect(replaced.stderr.contains("-100"), "\(replaced.stderr)")
    }

    /// `linear-loss` writes its z-loss too: per position for `none`, 0-d for `mean`, against
    /// the reference on the logits formed in float64.
    @Test(arguments: ["none", "mean"])
    func linearLossZLossFile(_ reduction: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let (n, d, v) = (5, 3, 7)
        let h = randomDoubles(n * d, in: -2...2, seed: 9)
        let w = randomDoubles(v * d, in: -1...1, seed: 10)
        let labels = [3, -100, 0, 6, 2]
        let hidden = try tmp.write(try NPYArray(shape: [n, d], scalars: h), "h.npy")
        let weight = try tmp.write(try NPYArray(shape: [v, d], scalars: w), "w.npy")
        let targets = try tmp.write(try labelArray(.int64, shape: [n], labels), "t.npy")
        let (lossPath, zPath) = (tmp.path("l.npy"), tmp.path("z.npy"))
        let run = try runSoftmax([
            "linear-loss", hidden, weight, targets, "--reduction", reduction, "--temperature", "0.7", "--softcap", "2",
            "--z-loss", "0.05", "--loss-output", lossPath, "--z-loss-output", zPath,
        ])
        try #require(run.status == 0, "\(run.stderr)")
        var logits = [Double](repeating: 0, count: n * v)
        for r in 0..<n {
            for c in 0..<v { logits[r * v + c] = (0..<d).reduce(0) { $0 + h[r * d + $1] * w[c * d + $1] } }
        }
        let options = CrossEntropyOptions(
            axis: 1, reduction: LossReduction(rawValue: reduction)!, ignoreIndex: -100, temperature: 0.7, softcap: 2,
            zLoss: 0.05)
        let want = Reference.transformedCrossEntropy(logits, [n, v], .indices(labels), options)
        let l = try readDoubles(lossPath)
        let z = try readDoubles(zPath)
        if reduction == "none" {
            #expect(l.shape == [n] && z.shape == [n])
            #expect(firstMismatch(l.values, want.losses, rtol: 1e-10, atol: 1e-12) == nil)
            #expect(firstMismatch(z.values, want.zLosses, rtol: 1e-10, atol: 1e-12) == nil)
            #expect(z.values[1] == 0)
        } else {
            #expect(l.shape == [] && z.shape == [])
            #expect(abs(l.values[0] - want.loss) <= 1e-10 * want.loss, "\(l.values) vs \(want.loss)")
            #expect(abs(z.values[0] - want.zLoss) <= 1e-10 * want.zLoss, "\(z.values) vs \(want.zLoss)")
        }
    }
}
