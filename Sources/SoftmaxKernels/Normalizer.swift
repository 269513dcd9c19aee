/// The normaliser of one position: its maximum `m` and `s = Σ exp(x − shift)`.
///
/// `shift` is `m`, except 0 when every score is `-infinity` (then `s` is 0).
public struct Normalizer<Scalar: KernelScalar>: Sendable {
    /// The largest score (NaN scores are skipped; they make `sum` NaN instead).
    public var max: Scalar
    /// `Σ exp(x − shift)`: at least 1 unless the position is fully masked (0) or holds NaN.
    public var sum: Scalar

    /// A normaliser from its maximum and sum.
    @inlinable @inline(__always)
    public init(max: Scalar, sum: Scalar) {
        self.max = max
        self.sum = sum
    }

    /// What the kernels subtract before exponentiating.
    @inlinable @inline(__always) public var shift: Scalar { max == -.infinity ? 0 : max }

    /// True when every score is `-infinity`.
    @inlinable @inline(__always) public var isFullyMasked: Bool { sum == 0 }

    /// `log(sum)`; `-infinity` for a fully masked position.
    @inlinable @inline(__always) public var logSum: Scalar { Scalar.scalarLog(sum) }

    /// `1 / sum`, or 0 for a fully masked position (so that probabilities come out 0, not NaN).
    @inlinable @inline(__always) public var inverseSum: Scalar { sum == 0 ? 0 : 1 / sum }
}
