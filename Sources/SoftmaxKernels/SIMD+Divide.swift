extension SIMD where Scalar: KernelScalar {
    /// Lane-wise `self / divisor`, one vector division.
    ///
    /// In a generic context `/` resolves to the standard library's generic implementation,
    /// which the compiler split into pieces of every width and scalar divisions (a softcap's
    /// `tanh` ran at a tenth of the speed of its other arithmetic); cast to the concrete type
    /// a kernel is instantiated with, it is the builtin.  After specialisation the type tests
    /// fold away.
    @inlinable @inline(__always)
    public func laneDivided(by divisor: Self) -> Self {
        @inline(__always) func divide<C: SIMD>(_: C.Type) -> Self where C.Scalar: FloatingPoint {
            unsafeBitCast(unsafeBitCast(self, to: C.self) / unsafeBitCast(divisor, to: C.self), to: Self.self)
        }
        if Self.self == SIMD4<Float>.self { return divide(SIMD4<Float>.self) }
        if Self.self == SIMD8<Float>.self { return divide(SIMD8<Float>.self) }
        if Self.self == SIMD16<Float>.self { return divide(SIMD16<Float>.self) }
        if Self.self == SIMD2<Double>.self { return divide(SIMD2<Double>.self) }
        if Self.self == SIMD4<Double>.self { return divide(SIMD4<Double>.self) }
        if Self.self == SIMD8<Double>.self { return divide(SIMD8<Double>.self) }
        return self / divisor
    }
}
