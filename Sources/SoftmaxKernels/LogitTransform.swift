/// The logit transforms of the LLM losses (SPEC "Logit transforms and z-loss"), applied before
/// the softmax: a temperature `T`, `s = x/T`, then an optional softcap `c`,
/// `s = c·tanh(s/c)`.  Both are increasing, so the maximum of the transformed scores is the
/// transform of the maximum.
public struct LogitTransform<Scalar: KernelScalar>: Sendable, Equatable {
    /// `1/T`.
    public var inverseTemperature: Scalar
    /// The softcap `c`, or `nil` for none.
    public var softcap: Scalar?

    /// A transform; `temperature` must be positive and `softcap`, when given, positive.
    @inlinable
    public init(temperature: Scalar, softcap: Scalar?) {
        inverseTemperature = 1 / temperature
        self.softcap = softcap
    }

    /// True when the transform changes nothing (`T = 1`, no softcap).
    @inlinable public var isIdentity: Bool { inverseTemperature == 1 && softcap == nil }
}

extension RowKernels {
    /// Writes `s = transform(x)` for `count` elements; `s` may be `x`.
    ///
    /// The loops are written out, without `forEachVector`'s closure: with the softcap's
    /// `tanh` in it the compiler kept the closure out of line and passed its captured vectors
    /// in pieces, ten times slower.
    ///
    /// - Complexity: O(count); with a softcap one `vectorTanh` per vector.
    @inlinable
    public static func transformLogits(
        _ x: UnsafePointer<Scalar>, _ s: UnsafeMutablePointer<Scalar>, count n: Int,
        transform: LogitTransform<Scalar>
    ) {
        let w = V.scalarCount
        let tail = n % w
        let full = n - tail
        if let cap = transform.softcap {
            // Two products, not one by `(1/T)/c`, which can overflow where each is finite.
            let (c, inverseTemperature, inverseCap) = (
                V(repeating: cap), V(repeating: transform.inverseTemperature), V(repeating: 1 / cap)
            )
            var i = 0
            while i < full {
                (s + i).storeVector(c * ((x + i).loadVector(V.self) * inverseTemperature * inverseCap).vectorTanh())
                i += w
            }
            if tail > 0 {
                let v = (x + full).loadLanes(tail, V.self)
                (s + full).storeLanes(c * (v * inverseTemperature * inverseCap).vectorTanh(), tail)
            }
        } else {
            let inverseTemperature = V(repeating: transform.inverseTemperature)
            var i = 0
            while i < full {
                (s + i).storeVector((x + i).loadVector(V.self) * inverseTemperature)
                i += w
            }
            if tail > 0 { (s + full).storeLanes((x + full).loadLanes(tail, V.self) * inverseTemperature, tail) }
        }
    }

    /// The chain rule through the transform: `dx = ds · ∂s/∂x` for `count` elements, with
    /// `∂s/∂x = (1/T)·(1 − (s/c)²)` under a softcap (from the transformed scores `s`, so no
    /// second `tanh`) and `1/T` without.  `dx` may be `ds`.
    ///
    /// - Complexity: O(count).
    @inlinable
    public static func chainLogitGradient(
        _ ds: UnsafePointer<Scalar>, transformed s: UnsafePointer<Scalar>, into dx: UnsafeMutablePointer<Scalar>,
        count n: Int, transform: LogitTransform<Scalar>
    ) {
        let inverseTemperature = V(repeating: transform.inverseTemperature)
        let softcapped = transform.softcap != nil
        let inverseCap = V(repeating: 1 / (transform.softcap ?? 1))
        let one = V(repeating: 1)
        // Without a softcap the slope is `1/T` whatever `s` holds (an infinite `s` from a tiny
        // temperature must not turn a zero gradient into NaN).
        @inline(__always) func slope(_ s: V) -> V {
            guard softcapped else { return inverseTemperature }
            let t = s * inverseCap
            return inverseTemperature * (one - t * t)
        }
        let w = V.scalarCount
        let tail = n % w
        let full = n - tail
        var i = 0
        while i < full {
            (dx + i).storeVector((ds + i).loadVector(V.self) * slope((s + i).loadVector(V.self)))
            i += w
        }
        if tail > 0 {
            (dx + full).storeLanes(
                (ds + full).loadLanes(tail, V.self) * slope((s + full).loadLanes(tail, V.self)), tail)
        }
    }
}
