extension SIMD where Scalar: KernelScalar {
    /// Lane-wise natural logarithm, within 2 ulp for positive normal numbers.
    ///
    /// `x = 2^e · m` with `m` in `[√½, √2)` read off the bits, then `log(1 + f)`, `f = m − 1`,
    /// from the odd series of `2·atanh(f / (2 + f))`, and `e·ln2` added in two parts.  Only
    /// wrapping integer arithmetic, shifts and compares, so the body vectorises at every
    /// instruction set (a scalar `log` per position cost as much as the exponentials of 20
    /// classes).  `0` gives `-infinity`, negative numbers and NaN give NaN, `+infinity` gives
    /// `+infinity`.  Subnormal inputs are not supported (the kernels take logarithms of sums
    /// of exponentials, which are 0, NaN or at least 1).
    ///
    /// - Complexity: about 25 vector operations and one division.
    @inlinable @inline(__always)
    public func vectorLog() -> Self {
        typealias Bits = MaskStorage
        let bits = unsafeBitCast(self, to: Bits.self)
        let fractionBits = Bits(repeating: Bits.Scalar(truncatingIfNeeded: Scalar.significandBitCount))
        let bias = Bits(repeating: Bits.Scalar(truncatingIfNeeded: Scalar.exponentBiasValue))
        let exponent = (bits &>> fractionBits) &- bias
        // m in [1, 2): the same fraction with the exponent field set to the bias.
        let m = unsafeBitCast(bits &- (exponent &<< fractionBits), to: Self.self)
        let magic = Self(repeating: Scalar.roundingMagic)
        let e = unsafeBitCast(exponent &+ unsafeBitCast(magic, to: Bits.self), to: Self.self) - magic
        let sqrt2 = Self(repeating: Scalar(2).squareRoot())
        let reduced = m.selectGreater(than: sqrt2, then: m * Self(repeating: 0.5), else: m)
        let n = m.selectGreater(than: sqrt2, then: e + Self(repeating: 1), else: e)
        let f = reduced - Self(repeating: 1)
        let s = f / (f + Self(repeating: 2))
        // log(1+f) = 2s + s·R(s²) and 2s = f − s·f.
        let log1p = f - s * (f - Scalar.logSeriesTail(s * s))
        var r = n.multiplyAdd(Self(repeating: Scalar.ln2High), n.multiplyAdd(Self(repeating: Scalar.ln2Low), log1p))
        r = selectEqual(to: self, then: r, else: self)  // NaN stays NaN
        r = selectEqual(to: Self(repeating: .infinity), then: Self(repeating: .infinity), else: r)
        r = selectEqual(to: Self(repeating: 0), then: Self(repeating: -.infinity), else: r)
        return Self(repeating: 0).selectGreater(than: self, then: Self(repeating: .nan), else: r)
    }
}
