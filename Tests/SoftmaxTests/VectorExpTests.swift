import Foundation
import SoftmaxKernels
import SoftmaxTestSupport
import Testing

@Suite("Vector exp")
struct VectorExpTests {
    /// Largest error in ulps of `vectorExp` against libm's `exp` in float64 over `range`.
    func maxUlpError<V: SIMD>(_: V.Type, range: ClosedRange<Double>, samples: Int) -> Double
    where V.Scalar: KernelScalar {
        var worst = 0.0
        var generator = SystemRandomNumberGenerator()
        var i = 0
        while i < samples {
            var v = V(repeating: 0)
            for k in 0..<V.scalarCount {
                v[k] = V.Scalar(Double.random(in: range, using: &generator))
            }
            let e = v.vectorExp()
            for k in 0..<V.scalarCount {
                let exact = Foundation.exp(Double(v[k]))
                let ulp = Double(V.Scalar(exact).ulp)
                worst = max(worst, abs(Double(e[k]) - exact) / ulp)
            }
            i += V.scalarCount
        }
        return worst
    }

    /// The float polynomial is degree 5 (five multiply-adds, chosen for speed): 1.35 ulp from
    /// the approximation, the rest from rounding; SPEC asks for 2e-5 relative, ~170 ulp.
    @Test func floatWithinTwoAndAHalfUlps() {
        #expect(maxUlpError(SIMD8<Float>.self, range: -86.5...88.7, samples: 200_000) <= 2.5)
        #expect(maxUlpError(SIMD8<Float>.self, range: -1...1, samples: 50_000) <= 2.5)
    }

    @Test func doubleWithinTwoUlps() {
        #expect(maxUlpError(SIMD4<Double>.self, range: -700...709, samples: 100_000) <= 2)
        #expect(maxUlpError(SIMD4<Double>.self, range: -1...1, samples: 50_000) <= 2)
    }

    /// The kernels' variant for arguments ≤ 0 (scores minus their maximum): as accurate, and
    /// exact at the ends.
    @Test func nonPositiveVariant() {
        let (worstFloat, worstDouble) = Self.worstUlps(
            seed: 5, floats: -86.5...0, doubles: -700...0, { $0.vectorExpNonPositive() }, { $0.vectorExpNonPositive() })
        #expect(worstFloat <= 2.5)
        #expect(worstDouble <= 2)
        let special = SIMD4<Float>(0, -.infinity, .nan, -100).vectorExpNonPositive()
        #expect(special[0] == 1 && special[1] == 0 && special[2].isNaN && special[3] == 0)
    }

    /// The shifted variant (arguments up to 64, for scores above a shift that is not their
    /// maximum): as accurate over its whole range, its top included.
    @Test func shiftedVariantUpTo64() {
        let (worstFloat, worstDouble) = Self.worstUlps(
            seed: 6, floats: -86.5...Double(Float.shiftedExpBound), doubles: -700...Double.shiftedExpBound,
            { $0.vectorExpShifted() }, { $0.vectorExpShifted() })
        #expect(worstFloat <= 2.5)
        #expect(worstDouble <= 2)
        let ends = SIMD4<Float>(64, 63.5, 1, 0)
        let top = ends.vectorExpShifted()
        for k in 0..<4 {
            let exact = Foundation.exp(Double(ends[k]))
            #expect(abs(Double(top[k]) - exact) <= 2.5 * Double(Float(exact).ulp))
        }
    }

    /// The largest errors in ulps of `floatExp` and `doubleExp` over 20 000 random vectors of
    /// arguments in `floats` and `doubles`, against Foundation's `exp` in float64.
    static func worstUlps(
        seed: UInt64, floats: ClosedRange<Double>, doubles: ClosedRange<Double>,
        _ floatExp: (SIMD16<Float>) -> SIMD16<Float>, _ doubleExp: (SIMD8<Double>) -> SIMD8<Double>
    ) -> (float: Double, double: Double) {
        var rng = SeededGenerator(seed: seed)
        var worstFloat = 0.0
        var worstDouble = 0.0
        for _ in 0..<20_000 {
            var f = SIMD16<Float>(repeating: 0)
            var d = SIMD8<Double>(repeating: 0)
            for k in 0..<16 { f[k] = Float(Double.random(in: floats, using: &rng)) }
            for k in 0..<8 { d[k] = Double.random(in: doubles, using: &rng) }
            let (ef, ed) = (floatExp(f), doubleExp(d))
            for k in 0..<16 {
                let exact = Foundation.exp(Double(f[k]))
                worstFloat = max(worstFloat, abs(Double(ef[k]) - exact) / Double(Float(exact).ulp))
            }
            for k in 0..<8 {
                let exact = Foundation.exp(d[k])
                worstDouble = max(worstDouble, abs(ed[k] - exact) / exact.ulp)
            }
        }
        return (worstFloat, worstDouble)
    }

    /// Results below 2^-125 flush to zero (documented): never a NaN or a negative value.
    @Test func underflowFlushesToZero() {
        let e = SIMD8<Float>(-86.7, -87, -88, -100, -103, -104, -150, -1000).vectorExp()
        for k in 0..<8 { #expect(e[k] == 0) }
        let d = SIMD4<Double>(-708.5, -720, -745, -1e300).vectorExp()
        for k in 0..<4 { #expect(d[k] == 0) }
    }

    @Test func specialValues() {
        let x = SIMD8<Float>(-.infinity, .infinity, .nan, 0, 89, -90, 88.7, -1e30)
        let e = x.vectorExp()
        #expect(e[0] == 0)
        #expect(e[1] == .infinity)
        #expect(e[2].isNaN)
        #expect(e[3] == 1)
        #expect(e[4] == .infinity)
        #expect(e[5] == 0)
        #expect(e[6].isFinite && abs(Double(e[6]) - Foundation.exp(Double(x[6]))) / Foundation.exp(Double(x[6])) < 2e-7)
        #expect(e[7] == 0)
        let d = SIMD4<Double>(-.infinity, .infinity, .nan, 710).vectorExp()
        #expect(d[0] == 0 && d[1] == .infinity && d[2].isNaN && d[3] == .infinity)
    }
}
