import Softmax

/// SPEC's accuracy bar (`|a − b| ≤ atol + rtol·|b|`): float32 2e-5 / 1e-6, float64 1e-10 / 1e-12,
/// float16 (read and written in half precision) 2e-3 / 1e-3.
public struct Tolerance {
    public var rtol: Double
    public var atol: Double

    public init(rtol: Double, atol: Double) {
        self.rtol = rtol
        self.atol = atol
    }

    public static func of<T: SoftmaxScalar>(_: T.Type) -> Tolerance {
        switch T.format {
        case .float64: Tolerance(rtol: 1e-10, atol: 1e-12)
        case .float32: Tolerance(rtol: 2e-5, atol: 1e-6)
        case .float16: Tolerance(rtol: 2e-3, atol: 1e-3)
        }
    }

    /// Finite and within the bar.
    public func accepts(_ got: Double, _ want: Double) -> Bool {
        got.isFinite && want.isFinite && abs(got - want) <= atol + rtol * abs(want)
    }
}

/// SPEC's accuracy bar for a type, as a tuple.
public func tolerance<T: SoftmaxScalar>(_: T.Type) -> (rel: Double, abs: Double) {
    let t = Tolerance.of(T.self)
    return (t.rtol, t.atol)
}

/// `|a − b| ≤ abs + rel·|b|`, with equal infinities and NaNs accepted.
public func close(_ a: Double, _ b: Double, rel: Double, abs: Double) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return Swift.abs(a - b) <= abs + rel * Swift.abs(b)
}

/// The first index where `got` and `want` differ beyond the tolerance, or nil.
public func firstMismatch(_ got: [Double], _ want: [Double], rel: Double, abs: Double) -> (Int, Double, Double)? {
    guard got.count == want.count else { return (-1, Double(got.count), Double(want.count)) }
    for i in got.indices where !close(got[i], want[i], rel: rel, abs: abs) { return (i, got[i], want[i]) }
    return nil
}

/// The first few indices where `got` differs from `want` beyond `tolerance`, described, or an
/// empty array.  A count mismatch is one mismatch.
public func mismatches<T: BinaryFloatingPoint>(
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
    public var doubles: [Double] { map { Double($0) } }
}
