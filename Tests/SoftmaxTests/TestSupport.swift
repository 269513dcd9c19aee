import Foundation

@testable import Softmax

/// The package's seeded generator, with helpers for test data.
typealias SeededGenerator = SplitMix64

extension SplitMix64 {
    /// `count` normal samples with standard deviation `std`.
    mutating func gaussians(_ count: Int, std: Double = 1) -> [Double] {
        (0..<count).map { _ in gaussian(std: std) }
    }

    /// A random shape of rank 1...4 with dimensions 1...maxDim, and a valid axis in it.
    mutating func shapeAndAxis(maxDim: Int = 9) -> ([Int], Int) {
        let rank = Int.random(in: 1...4, using: &self)
        let shape = (0..<rank).map { _ in Int.random(in: 1...maxDim, using: &self) }
        let axis = Int.random(in: -rank..<rank, using: &self)
        return (shape, axis)
    }
}

/// Independent float64 references, written for clarity (a plain loop per position).
enum Reference {
    /// Calls `body(offsets)` with the element offsets of every position's classes.
    static func forEachPosition(_ shape: [Int], _ axis: Int, _ body: ([Int]) -> Void) {
        let a = axis < 0 ? axis + shape.count : axis
        let outer = shape[..<a].reduce(1, *)
        let classes = shape[a]
        let inner = shape[(a + 1)...].reduce(1, *)
        for o in 0..<outer {
            for i in 0..<inner { body((0..<classes).map { o * classes * inner + $0 * inner + i }) }
        }
    }

    static func logSumExp(_ v: [Double]) -> Double {
        guard let m = v.max(), m > -.infinity else { return -.infinity }
        if m == .infinity { return .infinity }
        return m + Foundation.log(v.reduce(0) { $0 + Foundation.exp($1 - m) })
    }

    static func softmax(_ x: [Double], _ shape: [Int], _ axis: Int) -> [Double] {
        var y = x
        forEachPosition(shape, axis) { offs in
            let lse = logSumExp(offs.map { x[$0] })
            for o in offs { y[o] = lse == -.infinity ? 0 : Foundation.exp(x[o] - lse) }
        }
        return y
    }

    static func logSoftmax(_ x: [Double], _ shape: [Int], _ axis: Int) -> [Double] {
        var y = x
        forEachPosition(shape, axis) { offs in
            let lse = logSumExp(offs.map { x[$0] })
            for o in offs { y[o] = lse == -.infinity ? -.infinity : x[o] - lse }
        }
        return y
    }

    enum Targets {
        case indices([Int])
        case probabilities([Double])
    }

    /// SPEC's cross-entropy: reduced loss, per-position losses and gradient, in float64.
    static func crossEntropy(
        _ x: [Double], _ shape: [Int], _ targets: Targets, _ options: CrossEntropyOptions
    ) -> (loss: Double, losses: [Double], gradient: [Double]) {
        let axis = options.resolvedAxis(rank: shape.count)
        let a = axis < 0 ? axis + shape.count : axis
        let classes = shape[a]
        let w = options.classWeights ?? [Double](repeating: 1, count: classes)
        let eps = options.labelSmoothing
        var losses: [Double] = []
        var grad = [Double](repeating: 0, count: x.count)
        var weightSum = 0.0
        var position = 0
        forEachPosition(shape, a) { offs in
            defer { position += 1 }
            let scores = offs.map { x[$0] }
            let logp: [Double]
            if options.input == .logits {
                let lse = logSumExp(scores)
                logp = scores.map { $0 - lse }
            } else {
                logp = scores
            }
            var coef = [Double](repeating: 0, count: classes)
            switch targets {
            case .indices(let t):
                let label = t[position]
                if label == options.ignoreIndex {
                    losses.append(0)
                    return
                }
                weightSum += w[label]
                for c in 0..<classes { coef[c] = eps / Double(classes) * w[c] }
                coef[label] += (1 - eps) * w[label]
            case .probabilities(let q):
                for c in 0..<classes { coef[c] = w[c] * ((1 - eps) * q[offs[c]] + eps / Double(classes)) }
            }
            var loss = 0.0
            for c in 0..<classes where coef[c] != 0 { loss -= coef[c] * logp[c] }
            losses.append(loss)
            let total = coef.reduce(0, +)
            for c in 0..<classes {
                grad[offs[c]] = options.input == .logits ? Foundation.exp(logp[c]) * total - coef[c] : -coef[c]
            }
        }
        let positions = losses.count
        let outer = shape[..<a].reduce(1, *)
        let denominator: Double
        switch (options.reduction, targets) {
        case (.none, _), (.sum, _): denominator = 1
        case (.mean, .indices): denominator = weightSum
        case (.mean, .probabilities), (.full, _): denominator = Double(positions)
        case (.batchSize, _): denominator = Double(outer)
        }
        let sum = losses.reduce(0, +)
        let scale = denominator == 0 ? 0 : options.lossWeight / denominator
        return (denominator == 0 ? 0 : sum / denominator, losses, grad.map { $0 * scale })
    }
}

/// `|a − b| ≤ abs + rel·|b|`, with equal infinities and NaNs accepted.
func close(_ a: Double, _ b: Double, rel: Double, abs: Double) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return Swift.abs(a - b) <= abs + rel * Swift.abs(b)
}

/// The first index where `got` and `want` differ beyond the tolerance, or nil.
func firstMismatch(_ got: [Double], _ want: [Double], rel: Double, abs: Double) -> (Int, Double, Double)? {
    guard got.count == want.count else { return (-1, Double(got.count), Double(want.count)) }
    for i in got.indices where !close(got[i], want[i], rel: rel, abs: abs) { return (i, got[i], want[i]) }
    return nil
}

/// SPEC's accuracy bar for a type.
func tolerance<T: SoftmaxScalar>(_: T.Type) -> (rel: Double, abs: Double) {
    switch T.format {
    case .float64: (1e-10, 1e-12)
    case .float32: (2e-5, 1e-6)
    case .float16: (2e-3, 1e-3)
    }
}
