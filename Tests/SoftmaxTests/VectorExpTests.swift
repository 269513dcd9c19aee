import Foundation
import SoftmaxKernels
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
        var rng = SeededGenerator(seed: 5)
        var worstFloat = 0.0
        var worstDouble = 0.0
        for _ in 0..<20_000 {
            var f = SIMD16<Float>(repeating: 0)
            var d = SIMD8<Double>(repeating: 0)
            for k in 0..<16 { f[k] = Float(Double.random(in: -86.5...0, using: &rng)) }
            for k in 0..<8 { d[k] = Double.random(in: -700...0, using: &rng) }
            let (ef, ed) = (f.vectorExpNonPositive(), d.vectorExpNonPositive())
            for k in 0..<16 {
                let exact = Foundation.exp(Double(f[k]))
                worstFloat = max(worstFloat, abs(Double(ef[k]) - exact) / Double(Float(exact).ulp))
            }
            for k in 0..<8 {
                let exact = Foundation.exp(d[k])
                worstDouble = max(worstDouble, abs(ed[k] - exact) / exact.ulp)
            }
        }
        #expect(worstFloat <= 2.5)
        #expect(worstDouble <= 2)
        let special = SIMD4<Float>(0, -.infinity, .nan, -100).vectorExpNonPositive()
        #expect(special[0] == 1 && special[1] == 0 && special[2].isNaN && special[3] == 0)
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
