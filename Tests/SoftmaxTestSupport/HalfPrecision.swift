/// The accuracy a `Float16` result can have, derived from the formats rather than chosen: the
/// library computes a half-precision call in `Float` and rounds each output once to `Float16`,
/// so against a float64 reference computed on the same (`Float16`-rounded) inputs an output is
/// off by at most
///
/// - half of `Float16`'s spacing at the value (the one rounding: `2⁻¹¹·2^⌊log₂|v|⌋`, and
///   `2⁻²⁵` in the subnormal range below `2⁻¹⁴`), plus
/// - the `Float` computation's error: a few units of `Float`'s precision (`2⁻²⁴`) of the
///   magnitudes the value is computed from (`|v|` itself unless there is cancellation, as in a
///   gradient `p·Σcoef − coef_c`).
///
/// A relative error of 10⁻³ is one to two `Float16` spacings, so it always exceeds this bound
/// on normal values (SPEC's float16 bar, 2e-3 relative plus 1e-3 absolute, lets it through).
public enum HalfPrecision {
    /// Units of `Float` precision allowed for the `Float` computation (exp, log and sums of a
    /// few terms each err by a few units).
    public static let floatUnits = 32.0

    /// Half of `Float16`'s spacing at `|value|`.
    public static func halfSpacing(at value: Double) -> Double {
        let m = abs(value)
        guard m >= 0x1p-14 else { return 0x1p-25 }
        return Double(sign: .plus, exponent: m.exponent - 11, significand: 1)
    }

    /// The largest error accepted for a `Float16` output whose exact value is `want`, computed
    /// in `Float` from terms of size `magnitude` (default `|want|`).
    public static func bound(_ want: Double, magnitude: Double? = nil) -> Double {
        halfSpacing(at: want) + floatUnits * 0x1p-24 * (magnitude ?? abs(want))
    }

    /// The first few elements of `got` outside `bound` of `want` (non-finite values must be
    /// equal), described, or an empty array.
    public static func mismatches(
        _ got: [Double], _ want: [Double], magnitudes: [Double]? = nil, limit: Int = 5
    ) -> [String] {
        guard got.count == want.count else { return ["count \(got.count), expected \(want.count)"] }
        var out: [String] = []
        for k in got.indices {
            let (g, w) = (got[k], want[k])
            let ok =
                w.isFinite
                ? g.isFinite && abs(g - w) <= bound(w, magnitude: magnitudes?[k])
                : (g == w || (g.isNaN && w.isNaN))
            if !ok {
                out.append("[\(k)]: got \(g), expected \(w) ± \(bound(w, magnitude: magnitudes?[k]))")
                if out.count == limit { break }
            }
        }
        return out
    }
}
