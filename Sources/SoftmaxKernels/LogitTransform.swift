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
    /// - Complexity: O(count); with a softcap one `vectorTanh` per vector.
    @inlinable
    public static func transformLogits(
        _ x: UnsafePointer<Scalar>, _ s: UnsafeMutablePointer<Scalar>, count n: Int,
        transform: LogitTransform<Scalar>
    ) {
        let inverseTemperature = V(repeating: transform.inverseTemperature)
        if let cap = transform.softcap {
            let (c, inside) = (V(repeating: cap), V(repeating: transform.inverseTemperature / cap))
            forEachVector(count: n) { i, lanes in
                (s + i).storeLanes(c * ((x + i).loadLanes(lanes, V.self) * inside).vectorTanh(), lanes)
            }
        } else {
            forEachVector(count: n) { i, lanes in
                (s + i).storeLanes((x + i).loadLanes(lanes, V.self) * inverseTemperature, lanes)
            }
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
        if let cap = transform.softcap {
            let inverseCap = V(repeating: 1 / cap)
            let one = V(repeating: 1)
            forEachVector(count: n) { i, lanes in
                let t = (s + i).loadLanes(lanes, V.self) * inverseCap
                let slope = inverseTemperature * (one - t * t)
                (dx + i).storeLanes((ds + i).loadLanes(lanes, V.self) * slope, lanes)
            }
        } else {
            forEachVector(count: n) { i, lanes in
                (dx + i).storeLanes((ds + i).loadLanes(lanes, V.self) * inverseTemperature, lanes)
            }
        }
    }
}
