import Foundation
import Softmax
import SoftmaxLayers
import Testing

/// Caffe's geometry of a shape around its class axis, computed here independently of the
/// library: element (o, c, i) is at `(o·C + c)·inner + i`, a position is one (o, i) pair.
struct Geometry {
    let outer: Int
    let classes: Int
    let inner: Int

    init(shape: [Int], axis: Int) {
        let a = axis < 0 ? axis + shape.count : axis
        precondition(a >= 0 && a < shape.count, "test bug: axis \(axis) for rank \(shape.count)")
        outer = shape[..<a].reduce(1, *)
        classes = shape[a]
        inner = shape[(a + 1)...].reduce(1, *)
    }

    var positions: Int { outer * inner }
    var count: Int { outer * classes * inner }

    func offset(_ o: Int, _ c: Int, _ i: Int) -> Int { (o * classes + c) * inner + i }

    /// Calls `body(position, offsets)` for every position, with the offsets of its classes.
    /// Positions are numbered `o·inner + i`, the order of Caffe's label blob.
    func forEachPosition(_ body: (Int, [Int]) -> Void) {
        for o in 0..<outer {
            for i in 0..<inner { body(o * inner + i, (0..<classes).map { offset(o, $0, i) }) }
        }
    }
}

/// The four `LossParameter.NormalizationMode`s, as a test-side enum (the layer's
/// `Normalization` is nested in a generic class, so it is a different type per element type).
enum Mode: String, CaseIterable, CustomTestStringConvertible {
    case valid, full, batchSize, none

    var testDescription: String { rawValue }

    func layerValue<T: SoftmaxScalar>(_: T.Type = T.self) -> SoftmaxWithLossLayer<T>.Normalization {
        switch self {
        case .valid: .valid
        case .full: .full
        case .batchSize: .batchSize
        case .none: .none
        }
    }
}

/// Plain float64 loops, written from the definitions (Caffe's `softmax_layer.cpp` and
/// `softmax_loss_layer.cpp`, with log-sum-exp for the loss as SPEC asks).
enum Reference {
    /// `log Σ exp(v)`, max-subtracted.
    static func logSumExp(_ v: [Double]) -> Double {
        let m = v.max()!
        return m + Foundation.log(v.reduce(0) { $0 + Foundation.exp($1 - m) })
    }

    /// `exp(x_c) / Σ_k exp(x_k)` per position.
    static func softmax(_ x: [Double], shape: [Int], axis: Int) -> [Double] {
        let g = Geometry(shape: shape, axis: axis)
        precondition(x.count == g.count)
        var y = [Double](repeating: .nan, count: x.count)
        g.forEachPosition { _, offsets in
            let lse = logSumExp(offsets.map { x[$0] })
            for k in offsets { y[k] = Foundation.exp(x[k] - lse) }
        }
        return y
    }

    /// `dx = y ⊙ (dy − Σ_c dy_c·y_c)` per position.
    static func softmaxBackward(y: [Double], dy: [Double], shape: [Int], axis: Int) -> [Double] {
        let g = Geometry(shape: shape, axis: axis)
        var dx = [Double](repeating: .nan, count: y.count)
        g.forEachPosition { _, offsets in
            let dot = offsets.reduce(0) { $0 + dy[$1] * y[$1] }
            for k in offsets { dx[k] = y[k] * (dy[k] - dot) }
        }
        return dx
    }

    /// The Jacobian entry `∂y_j/∂x_i` of the softmax: `y_j(δ_ij − y_i)` within a position,
    /// 0 across positions.
    static func softmaxJacobian(y: [Double], shape: [Int], axis: Int) -> (Int, Int) -> Double {
        let g = Geometry(shape: shape, axis: axis)
        var positionOf = [Int](repeating: 0, count: y.count)
        g.forEachPosition { p, offsets in for k in offsets { positionOf[k] = p } }
        return { j, i in
            guard positionOf[j] == positionOf[i] else { return 0 }
            return y[j] * ((j == i ? 1 : 0) - y[i])
        }
    }

    struct Loss {
        /// The normalised loss (Caffe's `top[0]`, before the loss weight).
        var loss: Double
        /// `∂loss/∂scores` for loss weight 1: `(p − onehot) / normalizer`, 0 where ignored.
        var gradient: [Double]
        /// Σ per-position `logsumexp − x_label`.
        var sum: Double
        /// Positions whose label is not ignored.
        var valid: Int
    }

    /// The multinomial logistic loss of softmax(scores) against whole-number `labels`.
    static func loss(
        scores: [Double], labels: [Double], shape: [Int], axis: Int = 1, ignoreLabel: Int? = nil, mode: Mode
    ) -> Loss {
        let g = Geometry(shape: shape, axis: axis)
        precondition(scores.count == g.count && labels.count == g.positions)
        var sum = 0.0
        var valid = 0
        var gradient = [Double](repeating: 0, count: scores.count)
        g.forEachPosition { p, offsets in
            let label = Int(exactly: labels[p])!
            if label == ignoreLabel { return }
            precondition(label >= 0 && label < g.classes, "test bug: label \(label)")
            let x = offsets.map { scores[$0] }
            let lse = logSumExp(x)
            sum += lse - x[label]
            valid += 1
            for c in 0..<g.classes { gradient[offsets[c]] = Foundation.exp(x[c] - lse) - (c == label ? 1 : 0) }
        }
        let normalizer: Double =
            switch mode {
            case .valid: Double(valid)
            case .full: Double(g.positions)
            case .batchSize: Double(g.outer)
            case .none: 1
            }
        // SPEC: every position ignored under VALID gives loss 0 and gradient 0.
        guard normalizer > 0 else { return Loss(loss: 0, gradient: gradient.map { _ in 0 }, sum: sum, valid: valid) }
        return Loss(loss: sum / normalizer, gradient: gradient.map { $0 / normalizer }, sum: sum, valid: valid)
    }
}

// MARK: - Comparison

/// SPEC's accuracy bar (`|a − b| ≤ atol + rtol·|b|`): float32 2e-5 / 1e-6, float64 1e-10 / 1e-12,
/// float16 (read and written in half precision) 2e-3 / 1e-3.
struct Tolerance {
    var rtol: Double
    var atol: Double

    static func of<T: SoftmaxScalar>(_: T.Type) -> Tolerance {
        switch T.format {
        case .float64: Tolerance(rtol: 1e-10, atol: 1e-12)
        case .float32: Tolerance(rtol: 2e-5, atol: 1e-6)
        case .float16: Tolerance(rtol: 2e-3, atol: 1e-3)
        }
    }

    func accepts(_ got: Double, _ want: Double) -> Bool {
        got.isFinite && want.isFinite && abs(got - want) <= atol + rtol * abs(want)
    }
}

/// The first few indices where `got` differs from `want` beyond `tolerance`, described, or an
/// empty array.  A count mismatch is one mismatch.
func mismatches<T: BinaryFloatingPoint>(
    _ got: [T], _ want: [Double], _ tolerance: Tolerance, limit: Int = 5
) -> [String] {
    guard got.count == want.count else { return ["count \(got.count), expected \(want.count)"] }
    var out: [String] = []
    for k in got.indices where !tolerance.accepts(Double(got[k]), want[k]) {
        out.append("[\(k)]: got \(Double(got[k])), expected \(want[k])")
        if out.count == limit { break }
    }
    return out
}

extension Array where Element: BinaryFloatingPoint {
    var doubles: [Double] { map { Double($0) } }
}
