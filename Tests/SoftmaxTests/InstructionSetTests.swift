import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

@Suite("Every instruction set against float64 and against each other")
struct InstructionSetTests {
    @Test func selection() {
        #expect(SoftmaxISA.supported.first == .portable)
        for isa in SoftmaxISA.allCases {
            let expected = min(isa, SoftmaxISA.supported.last!)
            #expect(SoftmaxISA.withActive(isa) { SoftmaxISA.active } == expected)
        }
    }

    /// Shapes that exercise full vectors and tails of every width (4, 8, 16 lanes), rows longer
    /// than a normaliser block, short rows, and strided layouts.
    static let shapes: [([Int], Int)] = [
        ([5, 3], 1), ([3, 17], 1), ([2, 33], -1), ([2, 2049], 1), ([1, 40000], 1),
        ([2, 5, 7], 1), ([3, 21, 19], 1), ([2, 4, 33], 1), ([4, 3, 2, 5], 2), ([6, 5], 0),
        // Short rows in blocks (with a partial block) and one class; panels of strided
        // positions with a tail.
        ([300, 7], 1), ([130, 1], 1), ([2, 3, 1300], 1),
    ]

    func checkAll<T: SoftmaxScalar>(_: T.Type, isa: SoftmaxISA) throws {
        var rng = SeededGenerator(seed: 2024)
        let tol = tolerance(T.self)
        for (shape, axis) in Self.shapes {
            var values = rng.gaussians(shape.reduce(1, *), std: 4).map { T($0) }
            let a = axis < 0 ? axis + shape.count : axis
            // A masked score somewhere (not a whole masked position: the reference's gradient
            // there is NaN, where the contract gives a finite value, tested elsewhere).
            if shape[a] > 1 { values[values.count / 2] = -.infinity }
            let x = try NDArray(shape: shape, scalars: values)
            let xd = values.map { Double($0) }
            let label = "\(isa) \(T.self) \(shape) axis \(axis)"
            let (y, ly) = try SoftmaxISA.withActive(isa) { (try x.softmax(axis: axis), try x.logSoftmax(axis: axis)) }
            #expect(
                firstMismatch(
                    y.scalars.map { Double($0) }, Reference.softmax(xd, shape, axis), rel: tol.rel, abs: tol.abs)
                    == nil, "\(label)")
            #expect(
                firstMismatch(
                    ly.scalars.map { Double($0) }, Reference.logSoftmax(xd, shape, axis), rel: tol.rel, abs: tol.abs)
                    == nil, "\(label)")

            var targetShape = shape
            targetShape.remove(at: a)
            let labels = (0..<targetShape.reduce(1, *)).map { _ in Int.random(in: 0..<shape[a], using: &rng) }
            let options = CrossEntropyOptions(
                axis: axis, classWeights: (0..<shape[a]).map { Double($0 % 3) + 0.5 }, labelSmoothing: 0.1)
            let result = try SoftmaxISA.withActive(isa) {
                try crossEntropy(x, classIndices: NDArray(shape: targetShape, scalars: labels), options: options)
            }
            let want = Reference.crossEntropy(xd, shape, .indices(labels), options)
            // The masked score makes one loss +inf under smoothing; compare the gradient only then.
            if want.loss.isFinite { #expect(close(result.loss, want.loss, rel: tol.rel, abs: tol.abs), "\(label)") }
            #expect(
                firstMismatch(result.gradient!.scalars.map { Double($0) }, want.gradient, rel: tol.rel, abs: tol.abs)
                    == nil, "\(label)")
        }
    }

    @Test(arguments: SoftmaxISA.supported)
    func floatMatchesReference(isa: SoftmaxISA) throws { try checkAll(Float.self, isa: isa) }

    @Test(arguments: SoftmaxISA.supported)
    func doubleMatchesReference(isa: SoftmaxISA) throws { try checkAll(Double.self, isa: isa) }

    @Test(arguments: SoftmaxISA.supported)
    func float16MatchesReference(isa: SoftmaxISA) throws { try checkAll(Float16.self, isa: isa) }

    /// The sets agree with each other far more closely than with the bar: only the order of
    /// additions differs.
    @Test func setsAgreeWithEachOther() throws {
        var rng = SeededGenerator(seed: 7)
        let x = try NDArray(shape: [16, 3000], scalars: rng.gaussians(48_000, std: 3).map { Float($0) })
        let results = try SoftmaxISA.supported.map { isa in try SoftmaxISA.withActive(isa) { try x.logSoftmax() } }
        for r in results.dropFirst() {
            #expect(
                firstMismatch(r.scalars.map { Double($0) }, results[0].scalars.map { Double($0) }, rel: 2e-6, abs: 2e-6)
                    == nil)
        }
    }

    /// Special values in rows long enough for the one-pass softmax (several blocks): NaN and
    /// `+inf` make only their row NaN, a fully masked row gives zeros, a partly masked one is
    /// exact.
    @Test(arguments: SoftmaxISA.supported)
    func specialValuesInLongRows(isa: SoftmaxISA) throws {
        let n = 5000
        var values = [Float](repeating: 0, count: 5 * n)
        for i in 0..<n { values[i] = Float(i % 7) }  // row 0: plain
        values[n + 4321] = .nan  // row 1: NaN late
        values[2 * n + 17] = .infinity  // row 2: +inf
        for i in 0..<n { values[3 * n + i] = -.infinity }  // row 3: fully masked
        for i in 0..<n { values[4 * n + i] = i == 4999 ? 2 : (i % 2 == 0 ? -.infinity : 1) }  // row 4: partly
        let x = try NDArray(shape: [5, n], scalars: values)
        let y = try SoftmaxISA.withActive(isa) { try x.softmax() }.scalars
        let reference = Reference.softmax(values[0..<n].map { Double($0) }, [1, n], 1)
        #expect(firstMismatch(y[0..<n].map { Double($0) }, reference, rel: 2e-5, abs: 1e-6) == nil)
        #expect(y[n..<(2 * n)].allSatisfy { $0.isNaN })
        #expect(y[(2 * n)..<(3 * n)].allSatisfy { $0.isNaN })
        #expect(y[(3 * n)..<(4 * n)].allSatisfy { $0 == 0 })
        let row4 = values[(4 * n)...].map { Double($0) }
        #expect(
            firstMismatch(y[(4 * n)...].map { Double($0) }, Reference.softmax(row4, [1, n], 1), rel: 2e-5, abs: 1e-6)
                == nil)
    }

    /// The plain cross-entropy path (class indices, logits, no smoothing, gradient only) on rows
    /// long enough for the one-pass kernel, with weights, ignored positions, a masked row and
    /// every reduction, against float64.
    @Test(arguments: SoftmaxISA.supported)
    func plainCrossEntropyOnLongRows(isa: SoftmaxISA) throws {
        var rng = SeededGenerator(seed: 77)
        for (rows, classes) in [(6, 70), (3, 2049), (2, 5000)] {
            var values = rng.gaussians(rows * classes, std: 5).map { Float($0) }
            for c in 0..<classes { values[classes + c] = c == 3 ? 1 : -.infinity }  // row 1: one live score
            let xd = values.map { Double($0) }
            var labels = (0..<rows).map { _ in Int.random(in: 0..<classes, using: &rng) }
            labels[1] = 3
            labels[rows - 1] = -100
            let weights = (0..<classes).map { Double($0 % 4) * 0.5 + 0.25 }
            for reduction in LossReduction.allCases {
                for classWeights in [nil, weights] {
                    let options = CrossEntropyOptions(
                        reduction: reduction, ignoreIndex: -100, classWeights: classWeights, lossWeight: 1.5)
                    let result = try SoftmaxISA.withActive(isa) {
                        try crossEntropy(
                            NDArray(shape: [rows, classes], scalars: values),
                            classIndices: NDArray(shape: [rows], scalars: labels),
                            options: options, outputs: [.gradient])
                    }
                    let want = Reference.crossEntropy(xd, [rows, classes], .indices(labels), options)
                    let label = "\(isa) \(rows)x\(classes) \(reduction) weighted \(classWeights != nil)"
                    #expect(
                        close(result.loss, want.loss, rel: 2e-5, abs: 1e-6), "\(label): \(result.loss) vs \(want.loss)")
                    let got = result.gradient!.scalars.map { Double($0) }
                    #expect(firstMismatch(got, want.gradient, rel: 2e-5, abs: 1e-6) == nil, "\(label)")
                }
            }
        }
    }
}
