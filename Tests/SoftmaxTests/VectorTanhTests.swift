import Foundation
import SoftmaxKernels
import SoftmaxTestSupport
import Testing

/// `vectorTanh` (the softcap's tanh) against Foundation's `tanh`: within 2 ulp over dense
/// grids, random samples, both sides of each type's polynomial bound (0.625 for `Float`, 0.3
/// for `Double`), tiny and large arguments, with exact odd symmetry and the special values.
@Suite("Vector tanh")
struct VectorTanhTests {
    /// The largest error in ulps (of the exact result, rounded to the type) of `vectorTanh` over
    /// `arguments`, against Foundation's `tanh` in float64 (for `Double`, its own `tanh`), and
    /// the argument where it occurs.  Lanes are filled in order; a partial last vector is
    /// padded with zeros.
    static func worstUlps<V: SIMD>(_: V.Type, _ arguments: [V.Scalar]) -> (ulps: Double, at: Double)
    where V.Scalar: KernelScalar {
        var worst = (ulps: 0.0, at: 0.0)
        var start = 0
        while start < arguments.count {
            var v = V(repeating: 0)
            let lanes = Swift.min(V.scalarCount, arguments.count - start)
            for k in 0..<lanes { v[k] = arguments[start + k] }
            let t = v.vectorTanh()
            for k in 0..<lanes {
                let exact = Foundation.tanh(Double(v[k]))
                let ulp = Double(V.Scalar(exact).ulp)
                let error = abs(Double(t[k]) - exact) / ulp
                if !(error <= worst.ulps) { worst = (error, Double(v[k])) }
            }
            start += lanes
        }
        return worst
    }

    /// `count` evenly spaced points of `range`, ends included.
    static func grid(_ range: ClosedRange<Double>, _ count: Int) -> [Double] {
        (0..<count).map { range.lowerBound + (range.upperBound - range.lowerBound) * Double($0) / Double(count - 1) }
    }

    /// `count` consecutive representable values of `Scalar` on each side of `point` (the
    /// point itself included), and the same negated.
    static func around<Scalar: BinaryFloatingPoint>(_ point: Scalar, _ count: Int) -> [Scalar] {
        var up = [point]
        var down: [Scalar] = []
        for _ in 0..<count {
            up.append(up.last!.nextUp)
            down.append((down.last ?? point).nextDown)
        }
        let positive = down.reversed() + up
        return positive + positive.map { -$0 }
    }

    /// The arguments every type is checked on, in float64 (rounded to the type by the callers):
    /// a dense grid of [-12, 12], random samples of [-20, 20] and [-1, 1], tiny magnitudes over
    /// many binades, and large ones.
    static func commonArguments(seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        var values = grid(-12...12, 48_001)
        values += (0..<20_000).map { _ in Double.random(in: -20...20, using: &rng) }
        values += (0..<20_000).map { _ in Double.random(in: -1...1, using: &rng) }
        // Tiny: e^u for u in [-80, -2] (tanh(x) = x to the last bit far enough down).
        let tiny = (0..<4_000).map { _ in Foundation.exp(Double.random(in: -80 ... -2, using: &rng)) }
        values += tiny + tiny.map { -$0 }
        values += [1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 5, -5, 9, -9, 10, -10, 20, -20, 44, -44, 100, -100]
        return values
    }

    @Test func floatWithinTwoUlps() {
        var arguments = Self.commonArguments(seed: 11).map { Float($0) }
        // Both sides of the polynomial bound: the representable neighbours, and a dense band.
        arguments += Self.around(Float.tanhPolynomialBound, 2_000)
        arguments += Self.grid(0.6...0.65, 20_001).flatMap { [Float($0), -Float($0)] }
        arguments += [Float.leastNormalMagnitude, -Float.leastNormalMagnitude, Float.leastNonzeroMagnitude]
        let worst = Self.worstUlps(SIMD16<Float>.self, arguments)
        #expect(worst.ulps <= 2, "worst \(worst.ulps) ulp at \(worst.at)")
        let narrow = Self.worstUlps(SIMD4<Float>.self, Self.around(Float.tanhPolynomialBound, 500))
        #expect(narrow.ulps <= 2, "SIMD4: worst \(narrow.ulps) ulp at \(narrow.at)")
    }

    /// Within 2 ulp below the polynomial bound and from 1 on.  Between the bound and 1, where
    /// `1 − 2/(e^{2a} + 1)` cancels (the result is 0.29 to 0.76 of the subtrahend's size), a
    /// few arguments in a thousand are off by 3 ulp: the documented 2 ulp is a known issue
    /// there, 3 ulp the bound this test holds it to.
    @Test func doubleWithinTwoUlps() {
        let arguments =
            Self.commonArguments(seed: 12) + Self.around(Double.tanhPolynomialBound, 2_000)
            + Self.grid(0.28...0.32, 20_001).flatMap { [$0, -$0] } + Self.grid(0.3...1, 50_001).flatMap { [$0, -$0] }
            // Tiny magnitudes down to the subnormals.
            + [Double.leastNormalMagnitude, -Double.leastNormalMagnitude, Double.leastNonzeroMagnitude, 1e-300]
        let bound = Double.tanhPolynomialBound
        let polynomial = arguments.filter { abs($0) <= bound }
        let cancelling = arguments.filter { abs($0) > bound && abs($0) < 1 }
        let outer = arguments.filter { abs($0) >= 1 }
        #expect(polynomial.count > 10_000 && cancelling.count > 10_000 && outer.count > 10_000)
        for (name, values) in [("below the bound", polynomial), ("from 1 on", outer)] {
            let worst = Self.worstUlps(SIMD8<Double>.self, values)
            #expect(worst.ulps <= 2, "\(name): worst \(worst.ulps) ulp at \(worst.at)")
        }
        let worst = Self.worstUlps(SIMD8<Double>.self, cancelling)
        #expect(worst.ulps <= 3, "between the bound and 1: worst \(worst.ulps) ulp at \(worst.at)")
        let narrow = Self.worstUlps(SIMD2<Double>.self, Self.around(bound, 500).filter { abs($0) <= bound })
        #expect(narrow.ulps <= 2, "SIMD2 below the bound: worst \(narrow.ulps) ulp at \(narrow.at)")
    }

    /// `tanh(−x) = −tanh(x)` in every bit, for every non-zero argument checked above (zeros:
    /// `specialValues`).
    @Test func oddSymmetryIsExact() {
        let floats = Self.commonArguments(seed: 13).map { Float($0) } + Self.around(Float.tanhPolynomialBound, 200)
        var broken: [Float] = []
        var start = 0
        while start + 16 <= floats.count {
            var v = SIMD16<Float>(repeating: 0)
            for k in 0..<16 { v[k] = floats[start + k] }
            let (a, b) = (v.vectorTanh(), (-v).vectorTanh())
            for k in 0..<16 where v[k] != 0 && a[k].bitPattern != (-b[k]).bitPattern { broken.append(v[k]) }
            start += 16
        }
        #expect(broken.isEmpty, "Float: \(broken.prefix(5))")
        let doubles = Self.commonArguments(seed: 14) + Self.around(Double.tanhPolynomialBound, 200)
        var brokenDoubles: [Double] = []
        start = 0
        while start + 8 <= doubles.count {
            var v = SIMD8<Double>(repeating: 0)
            for k in 0..<8 { v[k] = doubles[start + k] }
            let (a, b) = (v.vectorTanh(), (-v).vectorTanh())
            for k in 0..<8 where v[k] != 0 && a[k].bitPattern != (-b[k]).bitPattern { brokenDoubles.append(v[k]) }
            start += 8
        }
        #expect(brokenDoubles.isEmpty, "Double: \(brokenDoubles.prefix(5))")
    }

    /// Large arguments give exactly ±1, infinities ±1, NaN NaN, zeros give zero.
    @Test func specialValues() {
        let f = SIMD16<Float>(
            .infinity, -.infinity, .nan, 0, -0.0, 20, -20, 100, -100, 1e30, -1e30, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, 44, -44, 1e-40
        ).vectorTanh()
        #expect(f[0] == 1 && f[1] == -1)
        #expect(f[2].isNaN)
        #expect(f[3] == 0 && f[3].sign == .plus && f[4] == 0)
        for k in [5, 7, 9, 11, 13] { #expect(f[k] == 1, "lane \(k): \(f[k])") }
        for k in [6, 8, 10, 12, 14] { #expect(f[k] == -1, "lane \(k): \(f[k])") }
        #expect(f[15] == 1e-40, "a subnormal's tanh is itself: \(f[15])")
        let d = SIMD8<Double>(.infinity, -.infinity, .nan, 20, -20, 100, -100, -0.0).vectorTanh()
        #expect(d[0] == 1 && d[1] == -1)
        #expect(d[2].isNaN)
        // tanh(20) is 1 − 8.5e-18: 1 in float64 too.
        #expect(d[3] == 1 && d[4] == -1 && d[5] == 1 && d[6] == -1)
        #expect(d[7] == 0)
        // Foundation's tanh(−0) is −0; the odd extension gives +0 (harmless for the softcap:
        // c·(±0) feeds a softmax either way).
        withKnownIssue("vectorTanh(-0) is +0, not -0") {
            #expect(f[4].sign == .minus && d[7].sign == .minus)
        }
        let big = SIMD4<Double>(710, -710, 1e300, .greatestFiniteMagnitude).vectorTanh()
        #expect(big == SIMD4(1, -1, 1, 1))
        let nanLanes = SIMD4<Float>(.nan, 1, -.nan, -1).vectorTanh()
        #expect(nanLanes[0].isNaN && nanLanes[2].isNaN)
        #expect(abs(Double(nanLanes[1]) - Foundation.tanh(1.0)) <= 2 * Double(Float(Foundation.tanh(1.0)).ulp))
        #expect(nanLanes[3] == -nanLanes[1])
    }
}
