// Lane selects compiled to one vector compare and one blend.
//
// In a generic context `a .> b` and `replacing(with:where:)` resolve to the standard library's
// generic implementations, which build and apply the mask lane by lane with branches (the
// kernels ran ~50× slower).  Even for concrete types `replacing` goes lane by lane; the
// comparisons (not `.>`) and the wrapping arithmetic are builtins, `&`/`|`/`~` are not.  So
// these helpers cast to the concrete
// type a kernel is instantiated with, compare with `.<`, and blend on the bits as
// `y − (x − y)·m` with `m` = −1 or 0 per lane (exact in wrapping integer arithmetic); after
// specialisation the type tests fold away.  Other widths fall back to the generic code.

extension SIMD where Scalar: KernelScalar {
    /// `x` in lanes where `self > other`, `y` elsewhere (a NaN lane compares false).
    @inlinable @inline(__always)
    public func selectGreater(than other: Self, then x: Self, else y: Self) -> Self {
        if Self.self == SIMD4<Float>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(other, to: SIMD4<Float>.self) .< unsafeBitCast(self, to: SIMD4<Float>.self),
                to: SIMD4<Int32>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD4<Int32>.self), unsafeBitCast(y, to: SIMD4<Int32>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD8<Float>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(other, to: SIMD8<Float>.self) .< unsafeBitCast(self, to: SIMD8<Float>.self),
                to: SIMD8<Int32>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD8<Int32>.self), unsafeBitCast(y, to: SIMD8<Int32>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD16<Float>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(other, to: SIMD16<Float>.self) .< unsafeBitCast(self, to: SIMD16<Float>.self),
                to: SIMD16<Int32>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD16<Int32>.self), unsafeBitCast(y, to: SIMD16<Int32>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD2<Double>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(other, to: SIMD2<Double>.self) .< unsafeBitCast(self, to: SIMD2<Double>.self),
                to: SIMD2<Int64>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD2<Int64>.self), unsafeBitCast(y, to: SIMD2<Int64>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD4<Double>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(other, to: SIMD4<Double>.self) .< unsafeBitCast(self, to: SIMD4<Double>.self),
                to: SIMD4<Int64>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD4<Int64>.self), unsafeBitCast(y, to: SIMD4<Int64>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD8<Double>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(other, to: SIMD8<Double>.self) .< unsafeBitCast(self, to: SIMD8<Double>.self),
                to: SIMD8<Int64>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD8<Int64>.self), unsafeBitCast(y, to: SIMD8<Int64>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        return y.replacing(with: x, where: other .< self)
    }

    /// `x` in lanes where `self == other`, `y` elsewhere.
    @inlinable @inline(__always)
    public func selectEqual(to other: Self, then x: Self, else y: Self) -> Self {
        if Self.self == SIMD4<Float>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(self, to: SIMD4<Float>.self) .== unsafeBitCast(other, to: SIMD4<Float>.self),
                to: SIMD4<Int32>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD4<Int32>.self), unsafeBitCast(y, to: SIMD4<Int32>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD8<Float>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(self, to: SIMD8<Float>.self) .== unsafeBitCast(other, to: SIMD8<Float>.self),
                to: SIMD8<Int32>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD8<Int32>.self), unsafeBitCast(y, to: SIMD8<Int32>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD16<Float>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(self, to: SIMD16<Float>.self) .== unsafeBitCast(other, to: SIMD16<Float>.self),
                to: SIMD16<Int32>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD16<Int32>.self), unsafeBitCast(y, to: SIMD16<Int32>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD2<Double>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(self, to: SIMD2<Double>.self) .== unsafeBitCast(other, to: SIMD2<Double>.self),
                to: SIMD2<Int64>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD2<Int64>.self), unsafeBitCast(y, to: SIMD2<Int64>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD4<Double>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(self, to: SIMD4<Double>.self) .== unsafeBitCast(other, to: SIMD4<Double>.self),
                to: SIMD4<Int64>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD4<Int64>.self), unsafeBitCast(y, to: SIMD4<Int64>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        if Self.self == SIMD8<Double>.self {
            let mask = unsafeBitCast(
                unsafeBitCast(self, to: SIMD8<Double>.self) .== unsafeBitCast(other, to: SIMD8<Double>.self),
                to: SIMD8<Int64>.self)
            let (xb, yb) = (unsafeBitCast(x, to: SIMD8<Int64>.self), unsafeBitCast(y, to: SIMD8<Int64>.self))
            return unsafeBitCast(yb ^ ((xb ^ yb) & mask), to: Self.self)
        }
        return y.replacing(with: x, where: self .== other)
    }
}
