import Foundation
import Softmax

/// SPEC "Logit transforms and z-loss" in float64, written from the definitions: per position
/// the transformed scores `s = c·tanh((x/T)/c)` (or `x/T`), the loss of `log_softmax(s)`
/// with every cross-entropy option, the z term `λ·lse(s)²`, and the gradient with respect to
/// `x` by the chain rule (derived here, checked against central differences of `loss` by
/// `TransformedReferenceTests`).
extension Reference {
    /// Everything a transformed cross-entropy call can report.
    public struct TransformedLoss {
        /// The reported loss: the reduced cross-entropy plus the reduced z-loss (for `none`,
        /// the sum of the per-position totals).
        public var loss: Double
        /// The reduced z-loss alone (for `none`, the sum of the z terms).
        public var zLoss: Double
        /// Per-position totals, cross-entropy plus z term (0 where ignored).
        public var losses: [Double]
        /// Per-position z terms `λ·lse²` (0 where ignored).
        public var zLosses: [Double]
        /// The gradient of the reduced loss (of the sum for `none`) times the loss weight.
        public var gradient: [Double]
        /// `softmax(s)`, laid out like the scores.
        public var probabilities: [Double]
        /// `log_softmax(s)`, laid out like the scores.
        public var logProbabilities: [Double]
        /// The transformed scores `s`.
        public var transformed: [Double]
        /// Per element, the size of the terms its gradient is made of (for tolerances):
        /// `(|gs|·(p·Σ|coef| + |coef_c|) + |gz|·2λ·|lse|·p) · (1/T)·(1 + (s/c)²)`, with `gs`,
        /// `gz` the loss weight over the two denominators.
        public var gradientMagnitudes: [Double]
        /// The cross-entropy's denominator and the z term's (0: that part is 0).
        public var denominators: (crossEntropy: Double, z: Double)
    }

    /// `x/T`, then `c·tanh(·/c)` with a softcap: the transformed score of one logit.
    public static func transformLogit(_ x: Double, temperature: Double, softcap: Double?) -> Double {
        let u = x / temperature
        guard let c = softcap else { return u }
        return c * Foundation.tanh(u / c)
    }

    /// `∂s/∂x` of `transformLogit`: `(1/T)·(1 − tanh²(u/c))`, or `1/T` without a softcap.
    public static func transformSlope(_ x: Double, temperature: Double, softcap: Double?) -> Double {
        let u = x / temperature
        guard let c = softcap else { return 1 / temperature }
        let t = Foundation.tanh(u / c)
        return (1 - t * t) / temperature
    }

    /// The transformed cross-entropy (logits only) with every option: temperature, softcap,
    /// z-loss, class weights, label smoothing, ignore index, every reduction, loss weight; class
    /// indices (in position order) or probability targets laid out like the scores.
    public static func transformedCrossEntropy(
        _ x: [Double], _ shape: [Int], _ targets: Targets, _ options: CrossEntropyOptions
    ) -> TransformedLoss {
        precondition(options.input == .logits, "test bug: transforms apply to logits")
        let axis = options.resolvedAxis(rank: shape.count)
        let geometry = Geometry(shape: shape, axis: axis)
        let classes = geometry.classes
        let w = options.classWeights ?? [Double](repeating: 1, count: classes)
        let eps = options.labelSmoothing
        let (T, cap, lambda) = (options.temperature, options.softcap, options.zLoss)

        var s = x
        var slope = x
        for k in x.indices {
            s[k] = transformLogit(x[k], temperature: T, softcap: cap)
            slope[k] = transformSlope(x[k], temperature: T, softcap: cap)
        }
        var logp = s
        var p = s
        var ceLosses = [Double](repeating: 0, count: geometry.positions)
        var zLosses = [Double](repeating: 0, count: geometry.positions)
        // Per element: ∂ℓ/∂s (cross-entropy) and ∂z/∂s, and their magnitudes.
        var ceGrad = [Double](repeating: 0, count: x.count)
        var zGrad = [Double](repeating: 0, count: x.count)
        var ceMagnitude = [Double](repeating: 0, count: x.count)
        var weightSum = 0.0
        var active = 0
        geometry.forEachPosition { position, offsets in
            let scores = offsets.map { s[$0] }
            let lse = logSumExp(scores)
            for k in offsets {
                logp[k] = s[k] - lse
                p[k] = Foundation.exp(logp[k])
            }
            var coef = [Double](repeating: 0, count: classes)
            switch targets {
            case .indices(let t):
                let label = t[position]
                if label == options.ignoreIndex { return }
                weightSum += w[label]
                for c in 0..<classes { coef[c] = eps / Double(classes) * w[c] }
                coef[label] += (1 - eps) * w[label]
            case .probabilities(let q):
                for c in 0..<classes { coef[c] = w[c] * ((1 - eps) * q[offsets[c]] + eps / Double(classes)) }
            }
            active += 1
            var loss = 0.0
            for c in 0..<classes where coef[c] != 0 { loss -= coef[c] * logp[offsets[c]] }
            ceLosses[position] = loss
            zLosses[position] = lambda * lse * lse
            let total = coef.reduce(0, +)
            let absTotal = coef.reduce(0) { $0 + abs($1) }
            for (c, k) in offsets.enumerated() {
                ceGrad[k] = p[k] * total - coef[c]
                ceMagnitude[k] = p[k] * absTotal + abs(coef[c])
                zGrad[k] = 2 * lambda * lse * p[k]
            }
        }
        let positions = Double(geometry.positions)
        let outer = Double(geometry.outer)
        let isIndices: Bool
        if case .indices = targets { isIndices = true } else { isIndices = false }
        let (ceDenominator, zDenominator): (Double, Double)
        switch options.reduction {
        case .none, .sum: (ceDenominator, zDenominator) = (1, 1)
        case .mean: (ceDenominator, zDenominator) = isIndices ? (weightSum, Double(active)) : (positions, positions)
        case .full: (ceDenominator, zDenominator) = (positions, positions)
        case .batchSize: (ceDenominator, zDenominator) = (outer, outer)
        }
        let ceScale = ceDenominator == 0 ? 0 : options.lossWeight / ceDenominator
        let zScale = zDenominator == 0 ? 0 : options.lossWeight / zDenominator
        var gradient = x
        var magnitudes = x
        for k in x.indices {
            gradient[k] = (ceScale * ceGrad[k] + zScale * zGrad[k]) * slope[k]
            let t = cap.map { s[k] / $0 } ?? 0
            magnitudes[k] =
                (abs(ceScale) * ceMagnitude[k] + abs(zScale) * abs(zGrad[k])) * (1 + t * t) / T
        }
        let ceSum = ceLosses.reduce(0, +)
        let zSum = zLosses.reduce(0, +)
        let zReduced = zDenominator == 0 ? 0 : zSum / zDenominator
        let ceReduced = ceDenominator == 0 ? 0 : ceSum / ceDenominator
        return TransformedLoss(
            loss: ceReduced + zReduced, zLoss: zReduced, losses: zip(ceLosses, zLosses).map { $0 + $1 },
            zLosses: zLosses, gradient: gradient, probabilities: p, logProbabilities: logp, transformed: s,
            gradientMagnitudes: magnitudes, denominators: (ceDenominator, zDenominator))
    }
}
