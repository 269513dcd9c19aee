#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// A floating-point type the kernels compute in: `Float` or `Double`.
///
/// The requirements are the constants and the polynomial of the vector exponential
/// (`vectorExp`), plus the two scalar functions the per-position finalisers need.
///
/// This module's declarations are `public` only so that each instruction-set module can
/// specialise the `@inlinable` kernels; they are not meant to be used outside the package
/// (`Layout` alone is API, re-exported by `Softmax`).  They cannot be `package`: Swift 6.3
/// refuses `@inlinable` code that refers to a `package` protocol's requirements (this
/// protocol), and with the rest `package` the instruction-set modules no longer specialised
/// the kernels — they ran through witness tables, a softmax of 4096×1000 in 2.6 s instead of
/// 1 ms.
public protocol KernelScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable {
    /// `log2(e)`.
    static var log2e: Self { get }
    /// High part of `ln 2`, exact in few bits so that `n · ln2High` is exact.
    static var ln2High: Self { get }
    /// Low part of `ln 2` (`ln 2 − ln2High`).
    static var ln2Low: Self { get }
    /// `1.5 · 2^significandBitCount`: adding it rounds to an integer held in the low bits.
    static var roundingMagic: Self { get }
    /// Arguments below this give 0 (the result would be below the smallest normal number).
    static var expUnderflowBound: Self { get }
    /// Arguments above this give `+infinity`.
    static var expOverflowBound: Self { get }
    /// The exponent bias of the format, as an integer (127 or 1023).
    static var exponentBiasValue: Int { get }
    /// `p(r)` with `e^r ≈ 1 + r + r²·p(r)` for `|r| ≤ ln2 / 2`, evaluated lane-wise.
    static func expPolynomial<V: SIMD>(_ r: V) -> V where V.Scalar == Self
    /// `R(z) = 2z/3 + 2z²/5 + 2z³/7 + …` for `z = s² ≤ 0.0295`, so that
    /// `2·atanh(s) = 2s + s·R(s²)` (`vectorLog`).
    static func logSeriesTail<V: SIMD>(_ z: V) -> V where V.Scalar == Self
    /// Below this `|x|`, `vectorTanh` takes `x + x³·tanhPolynomial(x²)` (elsewhere
    /// `1 − 2/(e^{2|x|} + 1)`, which would lose relative precision near 0).
    static var tanhPolynomialBound: Self { get }
    /// `(tanh(x) − x) / x³` as a polynomial in `z = x²` for `|x| ≤ tanhPolynomialBound`.
    static func tanhPolynomial<V: SIMD>(_ z: V) -> V where V.Scalar == Self
    /// Scalar natural logarithm.
    static func scalarLog(_ x: Self) -> Self
    /// Scalar exponential.
    static func scalarExp(_ x: Self) -> Self
}

extension KernelScalar {
    /// Scalars per 64-byte cache line: the step of prefetch loops.
    @inlinable public static var scalarsPerCacheLine: Int { 64 / MemoryLayout<Self>.stride }

    /// The largest argument of `vectorExpShifted`: how far a score may lie above the shift the
    /// two-pass strided kernels subtract.  `2^31·e^64 ≈ 1.3·10^37` stays finite in `Float`,
    /// so a sum of such terms cannot overflow for any class count.
    @inlinable public static var shiftedExpBound: Self { 64 }
}

// The constants and functions are documented on `KernelScalar`.
extension Float: KernelScalar {
    @inlinable public static var log2e: Float { 1.44269504088896341 }
    @inlinable public static var ln2High: Float { 0.693359375 }
    @inlinable public static var ln2Low: Float { -2.12194440e-4 }
    @inlinable public static var roundingMagic: Float { 12_582_912.0 }
    @inlinable public static var expUnderflowBound: Float { -86.6 }
    @inlinable public static var expOverflowBound: Float { 88.72283 }
    @inlinable public static var exponentBiasValue: Int { 127 }

    /// Minimax polynomial for `(e^r − 1 − r) / r²` on `[−ln2/2, ln2/2]` (relative error of
    /// `e^r` below 1.1e-7 before rounding): degree 3, so `e^r` costs five multiply-adds.
    @inlinable @inline(__always)
    public static func expPolynomial<V: SIMD>(_ r: V) -> V where V.Scalar == Float {
        var p = V(repeating: 8.312_530_4e-3)
        p = p.multiplyAdd(r, V(repeating: 4.189_011_1e-2))
        p = p.multiplyAdd(r, V(repeating: 1.666_711_4e-1))
        p = p.multiplyAdd(r, V(repeating: 4.999_923_2e-1))
        return p
    }

    /// Terms to `2z⁴/9`: the first left out is below 2e-9 of the result.
    @inlinable @inline(__always)
    public static func logSeriesTail<V: SIMD>(_ z: V) -> V where V.Scalar == Float {
        var p = V(repeating: 2.0 / 9.0)
        p = p.multiplyAdd(z, V(repeating: 2.0 / 7.0))
        p = p.multiplyAdd(z, V(repeating: 2.0 / 5.0))
        p = p.multiplyAdd(z, V(repeating: 2.0 / 3.0))
        return p * z
    }

    @inlinable public static var tanhPolynomialBound: Float { 0.625 }

    /// Least-squares fit on Chebyshev nodes of `[0, 0.625²]` (this package's own, checked in
    /// `VectorTanhTests`): `tanh` within 1 ulp below the bound.
    @inlinable @inline(__always)
    public static func tanhPolynomial<V: SIMD>(_ z: V) -> V where V.Scalar == Float {
        var p = V(repeating: -6.104_956_2e-3)
        p = p.multiplyAdd(z, V(repeating: 2.100_367_0e-2))
        p = p.multiplyAdd(z, V(repeating: -5.385_251_2e-2))
        p = p.multiplyAdd(z, V(repeating: 1.333_278_2e-1))
        p = p.multiplyAdd(z, V(repeating: -3.333_332_9e-1))
        return p
    }

    @inlinable public static func scalarLog(_ x: Float) -> Float { logf(x) }
    @inlinable public static func scalarExp(_ x: Float) -> Float { expf(x) }
}

// The constants and functions are documented on `KernelScalar`.
extension Double: KernelScalar {
    @inlinable public static var log2e: Double { 1.44269504088896338700e+00 }
    @inlinable public static var ln2High: Double { 6.93147180369123816490e-01 }
    @inlinable public static var ln2Low: Double { 1.90821492927058770002e-10 }
    @inlinable public static var roundingMagic: Double { 6_755_399_441_055_744.0 }
    @inlinable public static var expUnderflowBound: Double { -708.0 }
    @inlinable public static var expOverflowBound: Double { 709.782712893384 }
    @inlinable public static var exponentBiasValue: Int { 1023 }

    /// Taylor series of `(e^r − 1 − r) / r²` to degree 11; the truncation error on
    /// `[−ln2/2, ln2/2]` is below 1e-17 relative.
    @inlinable @inline(__always)
    public static func expPolynomial<V: SIMD>(_ r: V) -> V where V.Scalar == Double {
        var p = V(repeating: 1.0 / 6_227_020_800.0)  // 1/13!
        p = p.multiplyAdd(r, V(repeating: 1.0 / 479_001_600.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 39_916_800.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 3_628_800.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 362_880.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 40_320.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 5_040.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 720.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 120.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 24.0))
        p = p.multiplyAdd(r, V(repeating: 1.0 / 6.0))
        p = p.multiplyAdd(r, V(repeating: 0.5))
        return p
    }

    /// Terms to `2z¹¹/23`: the first left out is below 1e-18 of the result.
    @inlinable @inline(__always)
    public static func logSeriesTail<V: SIMD>(_ z: V) -> V where V.Scalar == Double {
        var p = V(repeating: 2.0 / 23.0)
        for k in stride(from: 21.0, through: 3.0, by: -2.0) { p = p.multiplyAdd(z, V(repeating: 2.0 / k)) }
        return p * z
    }

    @inlinable public static var tanhPolynomialBound: Double { 0.3 }

    /// Least-squares fit on Chebyshev nodes of `[0, 0.3²]` (this package's own, checked in
    /// `VectorTanhTests`): `tanh` within 1 ulp below the bound.
    @inlinable @inline(__always)
    public static func tanhPolynomial<V: SIMD>(_ z: V) -> V where V.Scalar == Double {
        var p = V(repeating: 5.118_750_329_327_352e-4)
        p = p.multiplyAdd(z, V(repeating: -1.444_864_932_629_535_1e-3))
        p = p.multiplyAdd(z, V(repeating: 3.591_314_438_590_219_7e-3))
        p = p.multiplyAdd(z, V(repeating: -8.863_201_883_953_16e-3))
        p = p.multiplyAdd(z, V(repeating: 2.186_948_777_743_858e-2))
        p = p.multiplyAdd(z, V(repeating: -5.396_825_395_981_820_5e-2))
        p = p.multiplyAdd(z, V(repeating: 1.333_333_333_332_972_2e-1))
        p = p.multiplyAdd(z, V(repeating: -3.333_333_333_333_332e-1))
        return p
    }

    @inlinable public static func scalarLog(_ x: Double) -> Double { log(x) }
    @inlinable public static func scalarExp(_ x: Double) -> Double { exp(x) }
}
