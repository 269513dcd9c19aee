import Foundation
import Softmax

/// Independent float64 references, written from the definitions (SPEC, Caffe's
/// `softmax_layer.cpp` and `softmax_loss_layer.cpp`) for clarity: a plain loop per position,
/// log-sum-exp max-subtracted.  Every test target checks the library against these.
public enum Reference {
    /// Calls `body(offsets)` with the element offsets of every position's classes.
    public static func forEachPosition(_ shape: [Int], _ axis: Int, _ body: ([Int]) -> Void) {
        Geometry(shape: shape, axis: axis).forEachPosition { _, offsets in body(offsets) }
    }

    /// `log Σ exp(v)`, max-subtracted; `-infinity` when every term is, `+infinity` when one is.
    public static func logSumExp(_ v: [Double]) -> Double {
        guard let m = v.max(), m > -.infinity else { return -.infinity }
        if m == .infinity { return .infinity }
        return m + Foundation.log(v.reduce(0) { $0 + Foundation.exp($1 - m) })
    }

    /// `exp(x_c) / Σ_k exp(x_k)` per position (0 where every score is `-infinity`).
    public static func softmax(_ x: [Double], _ shape: [Int], _ axis: Int) -> [Double] {
        var y = x
        forEachPosition(shape, axis) { offs in
            let lse = logSumExp(offs.map { x[$0] })
            for o in offs { y[o] = lse == -.infinity ? 0 : Foundation.exp(x[o] - lse) }
        }
        return y
    }

    /// `x_c − log Σ_k exp(x_k)` per position.
    public static func logSoftmax(_ x: [Double], _ shape: [Int], _ axis: Int) -> [Double] {
        var y = x
        forEachPosition(shape, axis) { offs in
            let lse = logSumExp(offs.map { x[$0] })
            for o in offs { y[o] = lse == -.infinity ? -.infinity : x[o] - lse }
        }
        return y
    }

    /// `log Σ exp(x)` per position, in position order.
    public static func logSumExp(_ x: [Double], _ shape: [Int], _ axis: Int) -> [Double] {
        var out: [Double] = []
        forEachPosition(shape, axis) { offs in out.append(logSumExp(offs.map { x[$0] })) }
        return out
    }

    /// `dx = y ⊙ (dy − Σ_c dy_c·y_c)` per position.
    public static func softmaxBackward(y: [Double], dy: [Double], shape: [Int], axis: Int) -> [Double] {
        var dx = [Double](repeating: .nan, count: y.count)
        forEachPosition(shape, axis) { offsets in
            let dot = offsets.reduce(0) { $0 + dy[$1] * y[$1] }
            for k in offsets { dx[k] = y[k] * (dy[k] - dot) }
        }
        return dx
    }

    /// `dx = dy − exp(y)·Σ_c dy_c` per position, for log-softmax output `y`.
    public static func logSoftmaxBackward(y: [Double], dy: [Double], shape: [Int], axis: Int) -> [Double] {
        var dx = [Double](repeating: .nan, count: y.count)
        forEachPosition(shape, axis) { offsets in
            let sum = offsets.reduce(0) { $0 + dy[$1] }
            for k in offsets { dx[k] = dy[k] - Foundation.exp(y[k]) * sum }
        }
        return dx
    }

    /// The Jacobian entry `∂y_j/∂x_i` of the softmax: `y_j(δ_ij − y_i)` within a position,
    /// 0 across positions.
    public static func softmaxJacobian(y: [Double], shape: [Int], axis: Int) -> (Int, Int) -> Double {
        let g = Geometry(shape: shape, axis: axis)
        var positionOf = [Int](repeating: 0, count: y.count)
        g.forEachPosition { p, offsets in for k in offsets { positionOf[k] = p } }
        return { j, i in
            guard positionOf[j] == positionOf[i] else { return 0 }
            return y[j] * ((j == i ? 1 : 0) - y[i])
        }
    }

    /// Cross-entropy targets: one class per position (in position order), or a distribution
    /// laid out like the scores.
    public enum Targets {
        case indices([Int])
        case probabilities([Double])
    }

    /// SPEC's cross-entropy with every option: the reduced loss, the per-position losses (0
    /// where ignored) and the gradient of the reduced loss times the loss weight.
    public static func crossEntropy(
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
