extension SIMD where Scalar: KernelScalar {
    /// Lane-wise hyperbolic tangent, within 2 ulp (3 for `Double` between 0.3 and 1), the softcap
    /// of the LLM losses.  `tanh(−0)` is +0.
    ///
    /// `tanh` is odd, so it is taken of `a = |x|` and given `x`'s sign: below
    /// `Scalar.tanhPolynomialBound` as `a + a³·p(a²)`, above as `1 − 2/(e^{2a} + 1)` (no
    /// cancellation there: the result is above 0.29).  For `Float`, `a` is clamped to 10, where
    /// `tanh` already rounds to 1, and the division is a reciprocal refined by Newton's method
    /// (`approximateReciprocal`): the vector division alone was the bottleneck of a softcapped
    /// cross-entropy.  `±infinity` give `±1`, NaN gives NaN.
    ///
    /// - Complexity: one `vectorExp`, one division (`Double`) or six multiply-adds (`Float`),
    ///   and about 15 other vector operations.
    @inlinable @inline(__always)
    public func vectorTanh() -> Self {
        let (zero, one, two) = (Self(repeating: 0), Self(repeating: 1), Self(repeating: 2))
        let a = zero.selectGreater(than: self, then: zero - self, else: self)
        let z = a * a
        let small = a + a * z * Scalar.tanhPolynomial(z)
        let large: Self
        if MemoryLayout<Scalar>.size == 4 {
            let clamped = a.selectGreater(than: Self(repeating: 10), then: Self(repeating: 10), else: a)
            large = one - two * ((clamped + clamped).vectorExp() + one).approximateReciprocal()
        } else {
            large = one - two.laneDivided(by: (a + a).vectorExp() + one)
        }
        let t = a.selectGreater(than: Self(repeating: Scalar.tanhPolynomialBound), then: large, else: small)
        return zero.selectGreater(than: self, then: zero - t, else: t)
    }

    /// `1/self` for lanes in `[1, 2^100]`, to within an ulp or two in `Float`: a first guess
    /// from the bits (the exponent negated by one integer subtraction, within 5.1%), then three
    /// Newton steps `r += r·(1 − self·r)`, each squaring the relative error.  Other lanes give
    /// garbage.
    @inlinable @inline(__always)
    public func approximateReciprocal() -> Self {
        typealias Bits = MaskStorage
        let magic = Bits.Scalar(
            truncatingIfNeeded: MemoryLayout<Scalar>.size == 4 ? 0x7EF3_11C3 as Int64 : 0x7FDE_6238_22FC_16E6)
        var r = unsafeBitCast(Bits(repeating: magic) &- unsafeBitCast(self, to: Bits.self), to: Self.self)
        let (one, negated) = (Self(repeating: 1), Self(repeating: 0) - self)
        for _ in 0..<(MemoryLayout<Scalar>.size == 4 ? 3 : 5) { r = r.multiplyAdd(negated.multiplyAdd(r, one), r) }
        return r
    }
}
