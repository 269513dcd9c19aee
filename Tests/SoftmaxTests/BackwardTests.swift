import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

@Suite("Softmax and log-softmax backward")
struct BackwardTests {
    /// The gradient of `Σ dy·f(x)` by central differences, in float64.
    func numericalGradient(
        _ x: [Double], _ dy: [Double], step: Double = 1e-5, _ f: ([Double]) throws -> [Double]
    ) rethrows -> [Double] {
        var g = [Double](repeating: 0, count: x.count)
        for i in x.indices {
            var plus = x
            plus[i] += step
            var minus = x
            minus[i] -= step
            let fp = try f(plus), fm = try f(minus)
            g[i] =
                zip(fp, fm).enumerated().reduce(0) { $0 + dy[$1.offset] * ($1.element.0 - $1.element.1) } / (2 * step)
        }
        return g
    }

    /// Softmax and log-softmax backward against central differences of the float64 reference
    /// forward, on random shapes and axes.
    @Test(arguments: [false, true])
    func backwardMatchesFiniteDifferences(logarithmic: Bool) throws {
        var rng = SeededGenerator(seed: logarithmic ? 22 : 21)
        for _ in 0..<12 {
            let (shape, axis) = rng.shapeAndAxis(maxDim: 5)
            let n = shape.reduce(1, *)
            let x = rng.gaussians(n, std: 2), dy = rng.gaussians(n)
            let input = try NDArray(shape: shape, scalars: x), gradient = try NDArray(shape: shape, scalars: dy)
            let dx =
                logarithmic
                ? try input.logSoftmax(axis: axis).logSoftmaxBackward(gradient: gradient, axis: axis).scalars
                : try input.softmax(axis: axis).softmaxBackward(gradient: gradient, axis: axis).scalars
            let want = numericalGradient(x, dy) {
                logarithmic ? Reference.logSoftmax($0, shape, axis) : Reference.softmax($0, shape, axis)
            }
            #expect(firstMismatch(dx, want, rel: 1e-6, abs: 1e-8) == nil, "shape \(shape) axis \(axis)")
        }
    }

    @Test func floatBackwardAgreesWithDouble() throws {
        var rng = SeededGenerator(seed: 23)
        let shape = [4, 37, 19]
        let n = shape.reduce(1, *)
        let x = rng.gaussians(n).map { Double(Float($0)) }, dy = rng.gaussians(n).map { Double(Float($0)) }
        for axis in [0, 1, 2] {
            let yd = try NDArray(shape: shape, scalars: x).softmax(axis: axis)
            let want = try yd.softmaxBackward(gradient: NDArray(shape: shape, scalars: dy), axis: axis).scalars
            let yf = try NDArray(shape: shape, scalars: x.map { Float($0) }).softmax(axis: axis)
            let got = try yf.softmaxBackward(gradient: NDArray(shape: shape, scalars: dy.map { Float($0) }), axis: axis)
            #expect(firstMismatch(got.scalars.map(Double.init), want, rel: 1e-4, abs: 1e-6) == nil, "axis \(axis)")
        }
    }

    @Test func shapeMismatchIsAnError() throws {
        let y = try NDArray(shape: [2, 3], scalars: [Float](repeating: 0, count: 6))
        let dy = try NDArray(shape: [3, 2], scalars: [Float](repeating: 0, count: 6))
        #expect(throws: SoftmaxError.shapeMismatch(argument: "gradient", expected: [2, 3], actual: [3, 2])) {
            try y.softmaxBackward(gradient: dy)
        }
    }
}
