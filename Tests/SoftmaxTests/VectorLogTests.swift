import Foundation
import SoftmaxKernels
import SoftmaxTestSupport
import Testing

@Suite("Vector log")
struct VectorLogTests {
    /// Largest error in ulps of `vectorLog` against libm's `log` in float64, on `x = e^u` with
    /// `u` uniform in `exponents` (every binade of the range, both sides of 1).
    func maxUlpError<V: SIMD>(_: V.Type, exponents: ClosedRange<Double>, samples: Int) -> Double
    where V.Scalar: KernelScalar {
        var worst = 0.0
        var rng = SeededGenerator(seed: 77)
        for _ in 0..<(samples / V.scalarCount) {
            var v = V(repeating: 1)
            for k in 0..<V.scalarCount { v[k] = V.Scalar(Foundation.exp(Double.random(in: exponents, using: &rng))) }
            let l = v.vectorLog()
            for k in 0..<V.scalarCount {
                let exact = Foundation.log(Double(v[k]))
                let ulp = Double(V.Scalar(exact).ulp)
                worst = max(worst, abs(Double(l[k]) - exact) / ulp)
            }
        }
        return worst
    }

    @Test func floatWithinTwoUlps() {
        #expect(maxUlpError(SIMD16<Float>.self, exponents: -87...88, samples: 100_000) <= 2)
        // Sums of exponentials: between 1 and the class count.
        #expect(maxUlpError(SIMD4<Float>.self, exponents: 0...12, samples: 50_000) <= 2)
        #expect(maxUlpError(SIMD8<Float>.self, exponents: -0.5...0.5, samples: 50_000) <= 2)
    }

    @Test func doubleWithinTwoUlps() {
        #expect(maxUlpError(SIMD8<Double>.self, exponents: -700...700, samples: 50_000) <= 2)
        #expect(maxUlpError(SIMD2<Double>.self, exponents: -0.5...0.5, samples: 50_000) <= 2)
    }

    @Test func exactPointsAndSpecialValues() {
        let x = SIMD8<Float>(1, 0, -1, .infinity, .nan, -.infinity, Float(2).squareRoot(), .greatestFiniteMagnitude)
        let l = x.vectorLog()
        #expect(l[0] == 0)
        #expect(l[1] == -.infinity)
        #expect(l[2].isNaN)
        #expect(l[3] == .infinity)
        #expect(l[4].isNaN)
        #expect(l[5].isNaN)
        #expect(abs(Double(l[6]) - 0.5 * Foundation.log(2.0)) <= Double(l[6].ulp))
        #expect(abs(Double(l[7]) - Foundation.log(Double(Float.greatestFiniteMagnitude))) <= 2 * Double(l[7].ulp))
        let d = SIMD4<Double>(1, 0, .infinity, .leastNormalMagnitude).vectorLog()
        #expect(d[0] == 0 && d[1] == -.infinity && d[2] == .infinity)
        #expect(abs(d[3] - Foundation.log(Double.leastNormalMagnitude)) <= 2 * d[3].ulp)
    }
}
