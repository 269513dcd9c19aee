extension SIMD where Scalar: KernelScalar {
    /// Lane-wise `e^x`, within 2.5 ulp for `Float` and 1 ulp for `Double`.
    ///
    /// Range reduction `x = n·ln2 + r` with `|r| ≤ ln2/2`, a polynomial for `e^r`, and `2^n`
    /// built in the exponent bits.  No libm calls, no rounding instructions: the integer `n`
    /// comes from the 1.5·2^p magic-number add, so the body vectorises at every instruction set.
    /// Results below the smallest normal number flush to 0; `-infinity` gives 0, `+infinity`
    /// gives `+infinity`, NaN gives NaN.
    ///
    /// - Complexity: about 17 vector operations.
    @inlinable @inline(__always)
    public func vectorExp() -> Self {
        let upper = Self(repeating: Scalar.expOverflowBound)
        let x = selectGreater(than: upper, then: upper, else: self)
        let flushed = Self(repeating: Scalar.expUnderflowBound).selectGreater(
            than: self, then: Self(repeating: 0), else: x.exponentialKernel(nonPositive: false))
        return selectGreater(than: upper, then: Self(repeating: .infinity), else: flushed)
    }

    /// `vectorExp` for lanes that are at most 0 (or NaN): the exponentials of scores minus
    /// their maximum, which is every exponential the softmax kernels take.  Without the
    /// overflow clamp, its select and the factor 2 it is five vector operations shorter.
    ///
    /// - Precondition: no lane is greater than 0 (checked in debug builds only by the tests).
    @inlinable @inline(__always)
    public func vectorExpNonPositive() -> Self { vectorExpShifted() }

    /// `vectorExp` for lanes at most `Scalar.shiftedExpBound` (64) or NaN: the exponentials
    /// of scores minus a shift that may lie below their maximum (by less than 64), which the
    /// two-pass strided kernels take.  The same operations as `vectorExpNonPositive`: the
    /// scale `2^n` is exact up to `n = 127`, so `e^x` is as accurate up to about 88.
    ///
    /// - Precondition: no lane is greater than `Scalar.shiftedExpBound`.
    @inlinable @inline(__always)
    public func vectorExpShifted() -> Self {
        Self(repeating: Scalar.expUnderflowBound).selectGreater(
            than: self, then: Self(repeating: 0), else: exponentialKernel(nonPositive: true))
    }

    /// `e^x` for lanes in `[expUnderflowBound, expOverflowBound]` (`[expUnderflowBound, 0]`
    /// when `nonPositive`); other lanes give garbage, which the callers replace.
    ///
    /// `t = x·log2(e) + (1.5·2^p + bias)` rounds `n = round(x·log2 e)` into the low bits of
    /// `t` with the exponent bias already added, so shifting `t`'s bits left by `p` leaves
    /// exactly the bits of `2^n` (the magic number's own bits shift out).  In the general case
    /// the scale is `2^(n−1)`, doubled at the end, so that `n = 128` (`x` near the overflow
    /// bound) stays finite.  `e^r = 1 + r·(1 + r·p(r))`, written as two multiply-adds on
    /// `p(r)` (in the order `p.multiplyAdd(r, 1)`: with the operands the other way round the
    /// compiler split the fused operations into scalar ones, twice as slow).
    @inlinable @inline(__always)
    func exponentialKernel(nonPositive: Bool) -> Self {
        typealias Bits = MaskStorage
        let bias = Scalar(Scalar.exponentBiasValue - (nonPositive ? 0 : 1))
        let magic = Self(repeating: Scalar.roundingMagic + bias)
        let t = multiplyAdd(Self(repeating: Scalar.log2e), magic)
        let n = t - magic
        var r = n.multiplyAdd(Self(repeating: -Scalar.ln2High), self)
        r = n.multiplyAdd(Self(repeating: -Scalar.ln2Low), r)
        let one = Self(repeating: 1)
        let er = Scalar.expPolynomial(r).multiplyAdd(r, one).multiplyAdd(r, one)
        let shift = Bits(repeating: Bits.Scalar(truncatingIfNeeded: Scalar.significandBitCount))
        let scale = unsafeBitCast(unsafeBitCast(t, to: Bits.self) &<< shift, to: Self.self)
        return nonPositive ? er * scale : er * scale * Self(repeating: 2)
    }

    /// Lane-wise maximum, one compare and one blend (Swift's `pointwiseMax` is scalarised).
    /// A NaN in `other` is not taken, so NaN must be detected elsewhere (it is: it poisons the sum).
    @inlinable @inline(__always)
    public func laneMax(_ other: Self) -> Self {
        other.selectGreater(than: self, then: other, else: self)
    }

    /// The largest lane (NaN lanes are skipped).
    @inlinable @inline(__always)
    public func horizontalMax() -> Scalar {
        var m = self[0]
        for k in 1..<scalarCount where self[k] > m { m = self[k] }
        return m
    }

    /// The sum of all lanes.
    @inlinable @inline(__always)
    public func horizontalSum() -> Scalar {
        var s = self[0]
        for k in 1..<scalarCount { s += self[k] }
        return s
    }

    /// Lanes equal to `-infinity` replaced by 0: the shift to subtract before `exp` so that
    /// a fully masked lane gives `exp(-inf - 0) = 0` instead of `exp(NaN)`.
    @inlinable @inline(__always)
    public func maskedShift() -> Self {
        selectEqual(to: Self(repeating: -.infinity), then: Self(repeating: 0), else: self)
    }

    /// `self` in lanes `first…` and 0 in lanes `0..<first`: the part of an overlapping tail
    /// vector that the previous vector did not already cover.
    @inlinable @inline(__always)
    public func keepingLanes(from first: Int) -> Self {
        var index = Self(repeating: 0)
        for k in 0..<scalarCount { index[k] = Scalar(k) }
        return index.selectGreater(than: Self(repeating: Scalar(first) - 0.5), then: self, else: Self(repeating: 0))
    }

    /// `value` in the first `lanes` lanes and 0 in the rest: the weight vector of a row tail,
    /// so that lanes past the end of the row add nothing to a reduction.
    @inlinable @inline(__always)
    public static func firstLanes(_ lanes: Int, _ value: Scalar) -> Self {
        if lanes == scalarCount { return Self(repeating: value) }
        var v = Self(repeating: 0)
        for k in 0..<lanes { v[k] = value }
        return v
    }
}

extension SIMD where Scalar: KernelScalar {
    /// `self · b + c`, fused into one instruction (and one rounding) where the instruction set
    /// has FMA.
    ///
    /// FMA is assumed for vectors of 256 bits or more, which only the AVX2 and AVX-512 modules
    /// instantiate (x86-64-v3 and v4 both include FMA), and on arm64 (NEON).  The portable
    /// x86-64 instantiation (128-bit) multiplies and adds: `addingProduct` without hardware FMA
    /// is a libm call per lane.
    @inlinable @inline(__always)
    public func multiplyAdd(_ b: Self, _ c: Self) -> Self {
        #if arch(arm64)
            return c.addingProduct(self, b)
        #else
            if MemoryLayout<Self>.size >= 32 { return c.addingProduct(self, b) }
            return self * b + c
        #endif
    }
}
