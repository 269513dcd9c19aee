import Foundation
import Softmax
import Testing

@testable import SoftmaxCommandLine

// `softmax loss SCORES TARGETS [options]` in-process (Loss.execute() returns what goes to
// standard output), against the float64 reference in TestSupport.swift.

/// Runs `loss` with `args` and returns its standard output.
func runLoss(_ args: [String]) throws -> String {
    try Loss.parse(args).execute().text
}

/// The numbers printed on standard output, one per line.
func printedNumbers(_ stdout: String) -> [Double?] {
    stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { Double(String($0)) }
}

/// Random class labels in `0..<classes`.
func randomLabels(_ count: Int, classes: Int, seed: UInt64) -> [Int] {
    var g = SplitMix64(seed: seed)
    return (0..<count).map { _ in Int.random(in: 0..<classes, using: &g) }
}

/// `labels` stored as the integer type `type`.
func labelArray(_ type: NPYDataType, shape: [Int], _ labels: [Int]) throws -> NPYArray {
    switch type {
    case .int8: try NPYArray(shape: shape, scalars: labels.map { Int8($0) })
    case .int16: try NPYArray(shape: shape, scalars: labels.map { Int16($0) })
    case .int32: try NPYArray(shape: shape, scalars: labels.map { Int32($0) })
    case .int64: try NPYArray(shape: shape, scalars: labels.map { Int64($0) })
    case .uint8: try NPYArray(shape: shape, scalars: labels.map { UInt8($0) })
    case .uint16: try NPYArray(shape: shape, scalars: labels.map { UInt16($0) })
    case .uint32: try NPYArray(shape: shape, scalars: labels.map { UInt32($0) })
    case .uint64: try NPYArray(shape: shape, scalars: labels.map { UInt64($0) })
    case .float32: try NPYArray(shape: shape, scalars: labels.map { Float($0) })
    case .float64: try NPYArray(shape: shape, scalars: labels.map { Double($0) })
    case .float16: try floatArray(.float16, shape: shape, labels.map(Double.init)).0
    }
}

let integerTypes: [NPYDataType] = [.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64]

@Suite("softmax loss")
struct LossCommandTests {
    @Test("the default class axis is 1")
    func defaultAxis() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [2, 3, 4]
        let x = randomDoubles(24, in: -3...3, seed: 1)
        let labels = randomLabels(8, classes: 3, seed: 2)
        let scores = try tmp.write(try NPYArray(shape: shape, scalars: x), "x.npy")
        let targets = try tmp.write(try labelArray(.int64, shape: [2, 4], labels), "t.npy")
        let out = try runLoss([scores, targets])
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(printedNumbers(out).count == 1)
        let want = referenceCrossEntropy(x, shape: shape, axis: 1, labels: labels).loss
        #expect(abs(printed - want) <= 1e-10 * abs(want))
        #expect(try runLoss([scores, targets, "--axis", "1"]) == out)
    }

    @Test("1-D scores default to class axis 0")
    func oneDScores() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x: [Double] = [0.5, -1, 2, 0, 1.25]
        let scores = try tmp.write(try NPYArray(shape: [5], scalars: x), "x.npy")
        let target = try tmp.write(try NPYArray(shape: [], scalars: [Int64(3)]), "t.npy")
        let lossPath = tmp.path("loss.npy")
        let out = try runLoss([scores, target, "--loss-output", lossPath])
        let lse = log(x.map(exp).reduce(0, +))
        let want = lse - x[3]
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(abs(printed - want) <= 1e-12)
        let file = try readDoubles(lossPath)
        #expect(file.shape == [] && file.type == .float64)
        #expect(abs(file.values[0] - want) <= 1e-12)
    }

    @Test("a negative --axis counts from the end")
    func negativeAxis() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [2, 3, 4]
        let x = randomDoubles(24, in: -3...3, seed: 3)
        let labels = randomLabels(6, classes: 4, seed: 4)
        let scores = try tmp.write(try NPYArray(shape: shape, scalars: x), "x.npy")
        let targets = try tmp.write(try labelArray(.int32, shape: [2, 3], labels), "t.npy")
        let out = try runLoss([scores, targets, "--axis", "-1", "--reduction", "sum"])
        let want = referenceCrossEntropy(x, shape: shape, axis: 2, labels: labels, reduction: "sum").loss
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(abs(printed - want) <= 1e-10 * abs(want))
    }

    @Test("--reduction none prints one loss per line and writes per-position losses", arguments: floatTypes)
    func reductionNone(_ type: NPYDataType) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [3, 4, 2]
        let (input, x) = try floatArray(type, shape: shape, randomDoubles(24, in: -4...4, seed: 7))
        var labels = randomLabels(6, classes: 4, seed: 8)
        labels[4] = -100
        let scores = try tmp.write(input, "x.npy")
        let targets = try tmp.write(try labelArray(.int64, shape: [3, 2], labels), "t.npy")
        let lossPath = tmp.path("losses.npy")
        let out = try runLoss([
            scores, targets, "--reduction", "none", "--ignore-index", "-100", "--loss-output", lossPath,
        ])
        let want = referenceCrossEntropy(x, shape: shape, axis: 1, labels: labels, reduction: "none", ignoreIndex: -100)
            .losses
        #expect(want[4] == 0)
        let printed = printedNumbers(out)
        #expect(out.hasSuffix("\n"))
        #expect(printed.count == 6)
        let (rtol, atol) = tolerance(type)
        #expect(allClose(printed.map { $0 ?? .nan }, want, rtol: rtol, atol: atol), "\(out)")
        let file = try readDoubles(lossPath)
        #expect(file.type == type)
        #expect(file.shape == [3, 2])
        #expect(firstMismatch(file.values, want, rtol: rtol, atol: atol) == nil)
        #expect(file.values[4] == 0)
    }

    @Test("sum, mean, full and batch-size write a 0-d loss", arguments: ["sum", "mean", "full", "batch-size"])
    func reductions(_ reduction: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [4, 3, 2]
        let x = randomDoubles(24, in: -5...5, seed: 9)
        var labels = randomLabels(8, classes: 3, seed: 10)
        labels[1] = 255
        labels[6] = 255
        let w: [Double] = [0.5, 2, 1.25]
        let scores = try tmp.write(try NPYArray(shape: shape, scalars: x), "x.npy")
        let targets = try tmp.write(try labelArray(.uint8, shape: [4, 2], labels), "t.npy")
        let weights = try tmp.write(try NPYArray(shape: [3], scalars: w), "w.npy")
        let lossPath = tmp.path("loss.npy")
        let out = try runLoss([
            scores, targets, "--reduction", reduction, "--ignore-index", "255", "--weights", weights,
            "--loss-output", lossPath,
        ])
        let want = referenceCrossEntropy(
            x, shape: shape, axis: 1, labels: labels, reduction: reduction, weights: w, ignoreIndex: 255
        ).loss
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(printedNumbers(out).count == 1)
        #expect(abs(printed - want) <= 1e-10 * abs(want), "\(reduction): printed \(printed), want \(want)")
        let file = try readDoubles(lossPath)
        #expect(file.shape == [])
        #expect(file.type == .float64)
        #expect(abs(file.values[0] - want) <= 1e-10 * abs(want))
    }

    @Test("probability targets with the scores' shape", arguments: [NPYDataType.float32, .float64])
    func probabilityTargets(_ type: NPYDataType) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [4, 5]
        let (input, x) = try floatArray(type, shape: shape, randomDoubles(20, in: -3...3, seed: 12))
        let raw = randomDoubles(20, in: 0.01...1, seed: 13)
        var q = raw
        for r in 0..<4 {
            let s = raw[(r * 5)..<(r * 5 + 5)].reduce(0, +)
            for c in 0..<5 { q[r * 5 + c] = raw[r * 5 + c] / s }
        }
        let (qArray, qRounded) = try floatArray(type, shape: shape, q)
        let scores = try tmp.write(input, "x.npy")
        let targets = try tmp.write(qArray, "q.npy")
        let gradPath = tmp.path("g.npy")
        let lossesPath = tmp.path("l.npy")
        let (rtol, atol) = tolerance(type)

        // Reference: ℓ_r = −Σ_c q_c log p_c, mean over rows; gradient (p − q·Σq)/rows.
        let logp = referenceApply("log-softmax", x, shape: shape, axis: 1)
        let losses: [Double] = (0..<4).map { r in
            var s = 0.0
            for c in 0..<5 { s -= qRounded[r * 5 + c] * logp[r * 5 + c] }
            return s
        }
        var grad = [Double](repeating: 0, count: 20)
        for r in 0..<4 {
            let qs = (0..<5).map { qRounded[r * 5 + $0] }.reduce(0, +)
            for c in 0..<5 { grad[r * 5 + c] = (exp(logp[r * 5 + c]) * qs - qRounded[r * 5 + c]) / 4 }
        }

        let mean = try runLoss([scores, targets, "--grad-output", gradPath])
        let printed = try #require(printedNumbers(mean).first ?? nil)
        #expect(allClose([printed], [losses.reduce(0, +) / 4], rtol: rtol, atol: atol))
        let g = try readDoubles(gradPath)
        #expect(g.type == type && g.shape == shape)
        #expect(firstMismatch(g.values, grad, rtol: rtol, atol: atol) == nil)

        let none = try runLoss([scores, targets, "--reduction", "none", "--loss-output", lossesPath])
        #expect(allClose(printedNumbers(none).map { $0 ?? .nan }, losses, rtol: rtol, atol: atol))
        let l = try readDoubles(lossesPath)
        #expect(l.shape == [4])
        #expect(firstMismatch(l.values, losses, rtol: rtol, atol: atol) == nil)
    }

    @Test("probability targets with class weights and label smoothing", arguments: ["mean", "sum", "none"])
    func smoothedWeightedProbabilities(_ reduction: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let (rows, classes, eps) = (3, 4, 0.2)
        let x = randomDoubles(rows * classes, in: -3...3, seed: 23)
        let q: [Double] = [0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0.25, 0.25, 0.5, 0]
        let w: [Double] = [2, 1, 0.5, 3]
        let scores = try tmp.write(try NPYArray(shape: [rows, classes], scalars: x), "x.npy")
        let targets = try tmp.write(try NPYArray(shape: [rows, classes], scalars: q), "q.npy")
        let weights = try tmp.write(try NPYArray(shape: [classes], scalars: w), "w.npy")
        let (gradPath, lossPath) = (tmp.path("g.npy"), tmp.path("l.npy"))
        _ = try runLoss([
            scores, targets, "--weights", weights, "--label-smoothing", "\(eps)", "--reduction", reduction,
            "--grad-output", gradPath, "--loss-output", lossPath,
        ])
        // q' = (1−ε)q + ε/C; ℓ = −Σ w_c q'_c log p_c; mean divides by the number of rows.
        let logp = referenceApply("log-softmax", x, shape: [rows, classes], axis: 1)
        let denominator = reduction == "mean" ? Double(rows) : 1
        var losses = [Double](repeating: 0, count: rows)
        var grad = [Double](repeating: 0, count: rows * classes)
        for r in 0..<rows {
            var coefSum = 0.0
            var coef = [Double](repeating: 0, count: classes)
            for c in 0..<classes {
                coef[c] = w[c] * ((1 - eps) * q[r * classes + c] + eps / Double(classes))
                coefSum += coef[c]
                losses[r] -= coef[c] * logp[r * classes + c]
            }
            for c in 0..<classes {
                grad[r * classes + c] = (exp(logp[r * classes + c]) * coefSum - coef[c]) / denominator
            }
        }
        let wantLoss = reduction == "none" ? losses : [losses.reduce(0, +) / denominator]
        let loss = try readDoubles(lossPath)
        #expect(loss.shape == (reduction == "none" ? [rows] : []))
        #expect(firstMismatch(loss.values, wantLoss, rtol: 1e-10, atol: 1e-12) == nil)
        #expect(firstMismatch(try readDoubles(gradPath).values, grad, rtol: 1e-10, atol: 1e-12) == nil)
    }

    @Test("a float label equal to the ignore index is ignored")
    func floatIgnoreIndex() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = randomDoubles(9, in: -2...2, seed: 24)
        let scores = try tmp.write(try NPYArray(shape: [3, 3], scalars: x), "x.npy")
        let targets = try tmp.write(try NPYArray(shape: [3], scalars: [Float(2), -100, 0]), "t.npy")
        let out = try runLoss([scores, targets, "--ignore-index", "-100"])
        let want = referenceCrossEntropy(x, shape: [3, 3], axis: 1, labels: [2, -100, 0], ignoreIndex: -100).loss
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(abs(printed - want) <= 1e-10 * want)
    }

    @Test("one-hot probability targets give the class-index loss")
    func oneHotTargets() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = randomDoubles(12, in: -2...2, seed: 14)
        let labels = [2, 0, 3]
        var onehot = [Double](repeating: 0, count: 12)
        for (r, t) in labels.enumerated() { onehot[r * 4 + t] = 1 }
        let scores = try tmp.write(try NPYArray(shape: [3, 4], scalars: x), "x.npy")
        let soft = try tmp.write(try NPYArray(shape: [3, 4], scalars: onehot), "q.npy")
        let hard = try tmp.write(try labelArray(.int64, shape: [3], labels), "t.npy")
        let a = try #require(printedNumbers(try runLoss([scores, soft])).first ?? nil)
        let b = try #require(printedNumbers(try runLoss([scores, hard])).first ?? nil)
        let want = referenceCrossEntropy(x, shape: [3, 4], axis: 1, labels: labels).loss
        #expect(abs(a - want) <= 1e-10 * want)
        #expect(abs(b - want) <= 1e-10 * want)
    }

    @Test("float labels holding whole numbers work like integer labels", arguments: floatTypes)
    func floatLabels(_ type: NPYDataType) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [5, 3]
        let x = randomDoubles(15, in: -2...2, seed: 15)
        let labels = [0, 2, 1, 2, 0]
        let scores = try tmp.write(try NPYArray(shape: shape, scalars: x.map { Float($0) }), "x.npy")
        let floatTargets = try tmp.write(try labelArray(type, shape: [5], labels), "tf.npy")
        let intTargets = try tmp.write(try labelArray(.int64, shape: [5], labels), "ti.npy")
        let gf = tmp.path("gf.npy")
        let gi = tmp.path("gi.npy")
        let a = try runLoss([scores, floatTargets, "--grad-output", gf])
        let b = try runLoss([scores, intTargets, "--grad-output", gi])
        #expect(a == b)
        #expect(try NPYArray(contentsOf: gf) == NPYArray(contentsOf: gi))
        let printed = try #require(printedNumbers(a).first ?? nil)
        let want = referenceCrossEntropy(x.map { Double(Float($0)) }, shape: shape, axis: 1, labels: labels).loss
        #expect(abs(printed - want) <= 2e-5 * want)
    }

    @Test("every integer label type gives the same result", arguments: integerTypes)
    func integerLabelTypes(_ type: NPYDataType) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [6, 4]
        let x = randomDoubles(24, in: -3...3, seed: 16)
        let labels = [3, 0, 1, 2, 3, 1]
        let scores = try tmp.write(try NPYArray(shape: shape, scalars: x), "x.npy")
        let typed = try tmp.write(try labelArray(type, shape: [6], labels), "t.npy")
        #expect(try NPYArray(contentsOf: typed).dataType == type)
        let reference = try tmp.write(try labelArray(.int64, shape: [6], labels), "r.npy")
        let (g1, g2) = (tmp.path("g1.npy"), tmp.path("g2.npy"))
        let a = try runLoss([scores, typed, "--grad-output", g1])
        let b = try runLoss([scores, reference, "--grad-output", g2])
        #expect(a == b, "\(type)")
        let ref = referenceCrossEntropy(x, shape: shape, axis: 1, labels: labels)
        let printed = try #require(printedNumbers(a).first ?? nil)
        #expect(abs(printed - ref.loss) <= 1e-10 * ref.loss)
        #expect(firstMismatch(try readDoubles(g1).values, ref.gradient, rtol: 1e-10, atol: 1e-13) == nil)
    }

    @Test(
        "--grad-output is (softmax − onehot)/N times --loss-weight",
        arguments: floatTypes, [1.0, 0.5, 3.0])
    func gradient(_ type: NPYDataType, _ lossWeight: Double) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [3, 5]
        let (input, x) = try floatArray(type, shape: shape, randomDoubles(15, in: -4...4, seed: 17))
        let labels = [4, 0, 2]
        let scores = try tmp.write(input, "x.npy")
        let targets = try tmp.write(try labelArray(.int16, shape: [3], labels), "t.npy")
        let gradPath = tmp.path("g.npy")
        let out = try runLoss([scores, targets, "--grad-output", gradPath, "--loss-weight", "\(lossWeight)"])
        // The reference written out in full: p − onehot over N, times λ.
        let p = referenceApply("softmax", x, shape: shape, axis: 1)
        var want = p
        for (r, t) in labels.enumerated() { want[r * 5 + t] -= 1 }
        want = want.map { $0 / 3 * lossWeight }
        let g = try readDoubles(gradPath)
        #expect(g.type == type)
        #expect(g.shape == shape)
        let (rtol, atol) = tolerance(type)
        let mismatch = firstMismatch(g.values, want, rtol: rtol, atol: atol)
        #expect(mismatch == nil, "\(type) λ=\(lossWeight): \(mismatch ?? "")")
        // The printed loss does not include the loss weight.
        let loss = labels.enumerated().map { -log(p[$0.offset * 5 + $0.element]) }.reduce(0, +) / 3
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(allClose([printed], [loss], rtol: rtol, atol: atol), "printed \(printed), want \(loss)")
    }

    @Test("--prob-output and --log-prob-output")
    func probabilityOutputs() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [2, 3, 2]
        let (input, x) = try floatArray(.float32, shape: shape, randomDoubles(12, in: -3...3, seed: 18))
        let scores = try tmp.write(input, "x.npy")
        let targets = try tmp.write(try labelArray(.int64, shape: [2, 2], [0, 2, 1, 1]), "t.npy")
        let (pPath, lpPath) = (tmp.path("p.npy"), tmp.path("lp.npy"))
        _ = try runLoss([scores, targets, "--prob-output", pPath, "--log-prob-output", lpPath])
        let p = try readDoubles(pPath)
        let lp = try readDoubles(lpPath)
        #expect(p.type == .float32 && p.shape == shape)
        #expect(lp.type == .float32 && lp.shape == shape)
        #expect(
            firstMismatch(p.values, referenceApply("softmax", x, shape: shape, axis: 1), rtol: 2e-5, atol: 1e-6) == nil)
        #expect(
            firstMismatch(lp.values, referenceApply("log-softmax", x, shape: shape, axis: 1), rtol: 2e-5, atol: 1e-6)
                == nil)
    }

    @Test("--input log-probabilities is the negative log-likelihood")
    func nllMode() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = randomDoubles(12, in: -5...0, seed: 19)
        let labels = [1, 3, 0]
        let w: [Double] = [1, 2, 3, 4]
        let scores = try tmp.write(try NPYArray(shape: [3, 4], scalars: x), "x.npy")
        let targets = try tmp.write(try labelArray(.int64, shape: [3], labels), "t.npy")
        let weights = try tmp.write(try NPYArray(shape: [4], scalars: w), "w.npy")
        let gradPath = tmp.path("g.npy")
        let out = try runLoss([
            scores, targets, "--input", "log-probabilities", "--weights", weights, "--grad-output", gradPath,
        ])
        // ℓ = −Σ w_t x_t / Σ w_t; ∂/∂x_{r,t} = −w_t / Σ w_t.
        let wsum = labels.map { w[$0] }.reduce(0, +)
        let want = -labels.enumerated().map { w[$0.element] * x[$0.offset * 4 + $0.element] }.reduce(0, +) / wsum
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(abs(printed - want) <= 1e-12 * abs(want))
        var grad = [Double](repeating: 0, count: 12)
        for (r, t) in labels.enumerated() { grad[r * 4 + t] = -w[t] / wsum }
        #expect(firstMismatch(try readDoubles(gradPath).values, grad, rtol: 1e-12, atol: 1e-15) == nil)
    }

    @Test("label smoothing with class weights", arguments: ["mean", "sum", "none"])
    func labelSmoothing(_ reduction: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [4, 3]
        let x = randomDoubles(12, in: -3...3, seed: 20)
        let labels = [2, -1, 0, 1]
        let w: [Double] = [0.2, 1, 3]
        let scores = try tmp.write(try NPYArray(shape: shape, scalars: x), "x.npy")
        let targets = try tmp.write(try labelArray(.int8, shape: [4], labels), "t.npy")
        let weights = try tmp.write(try NPYArray(shape: [3], scalars: w.map { Float($0) }), "w.npy")
        let (gradPath, lossPath) = (tmp.path("g.npy"), tmp.path("l.npy"))
        _ = try runLoss([
            scores, targets, "--reduction", reduction, "--ignore-index", "-1", "--weights", weights,
            "--label-smoothing", "0.3", "--loss-weight", "2", "--grad-output", gradPath, "--loss-output", lossPath,
        ])
        let ref = referenceCrossEntropy(
            x, shape: shape, axis: 1, labels: labels, reduction: reduction, weights: w.map { Double(Float($0)) },
            ignoreIndex: -1, smoothing: 0.3, lossWeight: 2)
        let loss = try readDoubles(lossPath)
        let wantLoss = reduction == "none" ? ref.losses : [ref.loss]
        #expect(firstMismatch(loss.values, wantLoss, rtol: 1e-10, atol: 1e-12) == nil)
        #expect(firstMismatch(try readDoubles(gradPath).values, ref.gradient, rtol: 1e-10, atol: 1e-12) == nil)
    }

    @Test("every position ignored under mean: loss 0 and gradient 0")
    func allIgnored() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let scores = try tmp.write(
            try NPYArray(shape: [2, 3], scalars: randomDoubles(6, in: -1...1, seed: 21)), "x.npy")
        let targets = try tmp.write(try labelArray(.int64, shape: [2], [7, 7]), "t.npy")
        let gradPath = tmp.path("g.npy")
        let out = try runLoss([scores, targets, "--ignore-index", "7", "--grad-output", gradPath])
        #expect(printedNumbers(out) == [0])
        #expect(try readDoubles(gradPath).values == [0, 0, 0, 0, 0, 0])
    }

    @Test("an empty batch gives loss 0")
    func emptyBatch() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let scores = try tmp.write(try NPYArray(shape: [0, 3], scalars: [Float]()), "x.npy")
        let targets = try tmp.write(try NPYArray(shape: [0], scalars: [Int64]()), "t.npy")
        let gradPath = tmp.path("g.npy")
        #expect(printedNumbers(try runLoss([scores, targets, "--grad-output", gradPath])) == [0])
        #expect(try readDoubles(gradPath).shape == [0, 3])
        #expect(try runLoss([scores, targets, "--reduction", "none"]) == "")
    }

    @Test(
        "class weights may be stored as any numeric type",
        arguments: [NPYDataType.float32, .float64, .int32, .int64, .uint8, .uint64])
    func weightTypes(_ type: NPYDataType) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = randomDoubles(12, in: -2...2, seed: 22)
        let labels = [0, 1, 2, 1]
        let w = [1, 2, 5]
        let scores = try tmp.write(try NPYArray(shape: [4, 3], scalars: x), "x.npy")
        let targets = try tmp.write(try labelArray(.int64, shape: [4], labels), "t.npy")
        let weights = try tmp.write(try labelArray(type, shape: [3], w), "w.npy")
        let out = try runLoss([scores, targets, "--weights", weights])
        let want = referenceCrossEntropy(x, shape: [4, 3], axis: 1, labels: labels, weights: w.map(Double.init)).loss
        let printed = try #require(printedNumbers(out).first ?? nil)
        #expect(abs(printed - want) <= 1e-10 * want, "\(type) weights: printed \(printed), want \(want)")
    }

    @Test("--help exits 0")
    func help() {
        #expect(SoftmaxCommand.main(arguments: ["--help"]) == 0)
        #expect(SoftmaxCommand.main(arguments: ["loss", "--help"]) == 0)
        #expect(SoftmaxCommand.main(arguments: ["apply", "--help"]) == 0)
    }
}
