import Foundation
import Softmax

/// The temperature, softcap and z-loss the loss fuzzers decode, whether a call must accept
/// them, and what they let a fuzzer claim about the results.
///
/// Each is one byte, read after everything else a problem decodes, so inputs written before
/// these options existed keep their meaning: past the end every byte is 0, and choice 0 is
/// the default (temperature 1, no softcap, no z-loss).
enum FuzzLogitOptions {
    /// Temperatures: the default, moderate ones, then values out of the domain (0, negative,
    /// NaN, ∞), and values finite in `Double` but not usable in `Float`: 1e300 and 3.5e38
    /// (infinite in `Float`), 1e-39 and 1e-300 (their inverse overflows `Float`), plus 3e-39
    /// (accepted in `Float`: the inverse, 3.3e38, is just finite) and 1e-30 (accepted, tiny).
    static let temperatures: [Double] = [
        1, 0.5, 2, 1e-3, 10, 1e3, 0.1, 0, -1, .nan, .infinity, 1e300, 1e-300, 1e-39, 3e-39, 3.5e38, 1e-30, 0.7,
    ]
    /// Softcaps: none (the default), moderate ones (Gemma 2 uses 30 and 50), out of the domain,
    /// and at the edges of `Float` as for the temperature.
    static let softcaps: [Double?] = [
        nil, 30, 1, 5, 0.5, 50, 1e4, 1e30, 0, -1, .nan, .infinity, 1e300, 1e-300, 1e-38, 1e-3, 3.5e38, 0.05,
    ]
    /// z-loss weights: none (the default), PaLM's 1e-4, moderate and large ones, −0 (accepted:
    /// it is ≥ 0), out of the domain, 1e39 (finite in `Double` only).
    static let zLosses: [Double] = [0, 1e-4, 1e-2, 1, 10, 1e3, 1e6, -1, -0.0, .nan, .infinity, 1e300, 1e39, 0.5]

    /// Reads the temperature, softcap and z-loss (three bytes) into `options`.
    static func decode(_ input: inout FuzzInput, into options: inout CrossEntropyOptions) {
        options.temperature = input.pick(temperatures)
        options.softcap = input.pick(softcaps)
        options.zLoss = input.pick(zLosses)
    }

    /// Whether the temperature, softcap and z-loss are valid for a call computing in `Float`
    /// (`doublePrecision` false: Float and Float16 buffers) or `Double`: each in its domain,
    /// the temperature, the softcap and their inverses finite in the compute type (the kernels
    /// take `1/T` and `1/c`), the z-loss finite in it, and none of them with log-probabilities.
    static func valid(_ options: CrossEntropyOptions, doublePrecision: Bool) -> Bool {
        let largest = doublePrecision ? Double.greatestFiniteMagnitude : Double(Float.greatestFiniteMagnitude)
        let t = options.temperature
        guard t > 0, t.isFinite, t <= largest, 1 / t <= largest else { return false }
        if let c = options.softcap {
            guard c > 0, c.isFinite, c <= largest, 1 / c <= largest else { return false }
        }
        guard options.zLoss >= 0, options.zLoss.isFinite, options.zLoss <= largest else { return false }
        let transforms = t != 1 || options.softcap != nil || options.zLoss != 0
        return !(options.input == .logProbabilities && transforms)
    }

    /// What a fuzzer may claim about a call with these options on finite logits of magnitude
    /// at most `largestLogit`, beyond what it claims without them: whether the loss is a
    /// number and whether the gradient is finite (as far as the transform and the z-loss are
    /// concerned; the class and loss weights have their own conditions).
    ///
    /// Only moderate values are claimed for: a temperature ≥ 1e-3 (`1/T` ≤ 1e3), a softcap in
    /// [1e-3, 1e30] (the kernels scale by `(1/T)/c`), a z-loss ≤ 1e3, and transformed logits
    /// whose bound (`|x|/T`, or the softcap, which keeps them within `±c` whatever `x`) and
    /// z terms stay far inside the compute type's range.  Float16 results must stay below
    /// its 65504: the z-loss's gradient `2λ·|lossWeight|·lse/T` at most 1e4 (the
    /// cross-entropy's own is at most `|lossWeight|/T` ≤ 1e4 with the loss weight ≤ 10 the
    /// loss fuzzer already requires there).  `gradientLimit` replaces the bound on the
    /// z-loss's gradient (else 1e30, or 1e4 for Float16): the linear cross-entropy multiplies
    /// the gradient by hidden and weight values.
    static func claims(
        _ options: CrossEntropyOptions, largestLogit: Double, classes: Int, halfPrecision: Bool,
        gradientLimit: Double? = nil
    ) -> (lossIsNumber: Bool, gradientIsFinite: Bool) {
        let (t, lambda) = (options.temperature, options.zLoss)
        if t == 1 && options.softcap == nil && lambda == 0 { return (true, true) }
        guard t >= 1e-3, lambda <= 1e3, options.softcap.map({ $0 >= 1e-3 && $0 <= 1e30 }) ?? true else {
            return (false, false)
        }
        var bound = largestLogit / t
        if let c = options.softcap { bound = min(bound, c) }
        let lse = bound + log(Double(max(classes, 1))) + 1
        let lossIsNumber = bound <= 1e30 && lambda * lse * lse <= 1e30
        let zGradient = 2 * lambda * abs(options.lossWeight) * lse / t
        let gradientIsFinite = lossIsNumber && zGradient <= (gradientLimit ?? (halfPrecision ? 1e4 : 1e30))
        return (lossIsNumber, gradientIsFinite)
    }
}

extension FuzzLogitOptions {
    /// Checks that the reduced z-loss is the per-position z terms' sum over the reduction's z
    /// denominator (SPEC: `none` and `sum` Σ, `mean` Σ over the positions not ignored — 0
    /// when there are none — `full` Σ over every position, `batch-size` Σ over the outer
    /// count), to `tolerance` relative to the sum of the terms' magnitudes.
    ///
    /// - Parameter active: the positions not ignored, or `nil` for probability targets (all).
    static func checkReducedZ(
        _ reduced: Double, terms: [Double], reduction: LossReduction, layout: Layout, active: Int?,
        tolerance: Double, describe: () -> String
    ) throws {
        let denominator: Double
        switch reduction {
        case .none, .sum: denominator = 1
        case .mean: denominator = Double(active ?? layout.positions)
        case .full: denominator = Double(layout.positions)
        case .batchSize: denominator = Double(layout.outer)
        }
        let sum = terms.reduce(0, +)
        let expected = denominator == 0 ? 0 : sum / denominator
        let scale = terms.reduce(0) { $0 + abs($1) } / max(denominator, 1)
        guard abs(reduced - expected) <= tolerance * scale + 1e-300 else {
            throw FuzzEntryPoints.violation(
                "reduced z-loss \(reduced), but the terms give \(expected) (Σ \(sum) / \(denominator)) — \(describe())")
        }
    }
}
