import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

@Suite("Softmax, log-softmax and logsumexp against float64")
struct SoftmaxForwardTests {
    /// Random shapes and axes, each op, each type, against the float64 reference evaluated on
    /// the same (rounded) inputs.
    func checkRandom<T: SoftmaxScalar>(_: T.Type, seed: UInt64, maxDim: Int = 9, std: Double = 3) throws {
        var rng = SeededGenerator(seed: seed)
        let tol = tolerance(T.self)
        for _ in 0..<40 {
            let (shape, axis) = rng.shapeAndAxis(maxDim: maxDim)
            let count = shape.reduce(1, *)
            let values = rng.gaussians(count, std: std).map { T($0) }
            let x = try NDArray(shape: shape, scalars: values)
            let xd = values.map { Double($0) }

            let y = try x.softmax(axis: axis).scalars.map { Double($0) }
            let ly = try x.logSoftmax(axis: axis).scalars.map { Double($0) }
            let lse = try x.logSumExp(axis: axis).scalars.map { Double($0) }
            let label = "shape \(shape) axis \(axis) \(T.self)"
            #expect(firstMismatch(y, Reference.softmax(xd, shape, axis), rel: tol.rel, abs: tol.abs) == nil, "\(label)")
            #expect(
                firstMismatch(ly, Reference.logSoftmax(xd, shape, axis), rel: tol.rel, abs: tol.abs) == nil, "\(label)")
            var refLSE: [Double] = []
            Reference.forEachPosition(shape, axis) { refLSE.append(Reference.logSumExp($0.map { xd[$0] })) }
            #expect(firstMismatch(lse, refLSE, rel: tol.rel, abs: tol.abs) == nil, "\(label)")
        }
    }

    @Test func floatRandomShapes() throws { try checkRandom(Float.self, seed: 1) }
    @Test func doubleRandomShapes() throws { try checkRandom(Double.self, seed: 2) }
    @Test func float16RandomShapes() throws { try checkRandom(Float16.self, seed: 3, std: 2) }

    /// Large Float16 calls stage through pooled blocks: consecutive calls of different sizes
    /// (a block reused, a larger one allocated, concurrent calls) each get their own results.
    @Test func float16StagingAcrossCalls() async throws {
        var rng = SeededGenerator(seed: 16)
        let cases = [[64, 3000], [64, 2000], [96, 3000], [64, 3000]].map { shape in
            (shape, rng.gaussians(shape.reduce(1, *), std: 2).map { Float16($0) })
        }
        func check(_ shape: [Int], _ values: [Float16]) throws {
            let y = try NDArray(shape: shape, scalars: values).softmax(axis: 1).scalars
            let want = Reference.softmax(values.map { Double($0) }, shape, 1)
            #expect(firstMismatch(y.map { Double($0) }, want, rel: 2e-3, abs: 1e-4) == nil, "\(shape)")
        }
        for (shape, values) in cases { try check(shape, values) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (shape, values) in cases + cases { group.addTask { try check(shape, values) } }
            try await group.waitForAll()
        }
    }

    /// Rows longer than a normaliser block (2048) and not a multiple of any vector width, with
    /// the maximum placed late so the running maximum must be rescaled.
    @Test(arguments: [1, 7, 8, 9, 2047, 2048, 2049, 5000, 32001])
    func longRows(length: Int) throws {
        var rng = SeededGenerator(seed: UInt64(length))
        var values = rng.gaussians(2 * length, std: 4)
        values[2 * length - 1] = 30  // a late maximum in row 1
        let x = try NDArray(shape: [2, length], scalars: values.map { Float($0) })
        let xd = x.scalars.map { Double($0) }
        let tol = tolerance(Float.self)
        let y = try x.softmax().scalars.map { Double($0) }
        #expect(firstMismatch(y, Reference.softmax(xd, [2, length], 1), rel: tol.rel, abs: tol.abs) == nil)
        let ly = try x.logSoftmax().scalars.map { Double($0) }
        #expect(firstMismatch(ly, Reference.logSoftmax(xd, [2, length], 1), rel: tol.rel, abs: tol.abs) == nil)
    }

    /// Strided layouts (inner > 1) with inner counts around the vector width, and enough work
    /// to be split across threads.
    @Test(arguments: [(3, 5, 1), (2, 21, 7), (2, 21, 17), (1, 4, 4099), (8, 21, 2048)])
    func stridedLayouts(outer: Int, classes: Int, inner: Int) throws {
        var rng = SeededGenerator(seed: UInt64(outer * 1000 + classes * 10 + inner))
        let shape = [outer, classes, inner]
        let values = rng.gaussians(shape.reduce(1, *), std: 3).map { Float($0) }
        let x = try NDArray(shape: shape, scalars: values)
        let xd = values.map { Double($0) }
        let tol = tolerance(Float.self)
        #expect(
            firstMismatch(
                try x.softmax(axis: 1).scalars.map { Double($0) }, Reference.softmax(xd, shape, 1), rel: tol.rel,
                abs: tol.abs) == nil)
        #expect(
            firstMismatch(
                try x.logSoftmax(axis: 1).scalars.map { Double($0) }, Reference.logSoftmax(xd, shape, 1), rel: tol.rel,
                abs: tol.abs) == nil)
    }

    @Test func fullyMaskedPositions() throws {
        let inf = Float.infinity
        // Row 0 fully masked, row 1 partly, row 2 normal.
        let x = try NDArray(shape: [3, 4], scalars: [-inf, -inf, -inf, -inf, -inf, 0, -inf, 0, 1, 2, 3, 4])
        let y = try x.softmax()
        #expect(y.scalars[0..<4].allSatisfy { $0 == 0 })
        #expect(y.scalars[4..<8] == [0, 0.5, 0, 0.5])
        let ly = try x.logSoftmax()
        #expect(ly.scalars[0..<4].allSatisfy { $0 == -inf })
        #expect(ly.scalars[4] == -inf && abs(ly.scalars[5] + Float(log(2.0))) < 1e-6)
        let lse = try x.logSumExp()
        #expect(lse.scalars[0] == -inf)
        // Strided: the same masked position along axis 0.
        let xt = try NDArray(shape: [4, 3], scalars: [-inf, -inf, 1, -inf, 0, 2, -inf, -inf, 3, -inf, 0, 4])
        let yt = try xt.softmax(axis: 0)
        #expect([0, 3, 6, 9].allSatisfy { yt.scalars[$0] == 0 })
        #expect([0, 3, 6, 9].allSatisfy { try! xt.logSoftmax(axis: 0).scalars[$0] == -inf })
        #expect(try xt.logSumExp(axis: 0).scalars[0] == -inf)
    }

    @Test func nanPoisonsOnlyItsPosition() throws {
        let x = try NDArray(shape: [2, 3], scalars: [1, Float.nan, 2, 1, 2, 3])
        let y = try x.softmax()
        #expect(y.scalars[0..<3].allSatisfy { $0.isNaN })
        #expect(y.scalars[3..<6].allSatisfy { !$0.isNaN })
        #expect(try x.logSoftmax().scalars[0..<3].allSatisfy { $0.isNaN })
        #expect(try x.logSumExp().scalars[0].isNaN)
        let xs = try NDArray(shape: [3, 2], scalars: [1, 1, Float.nan, 2, 2, 3])
        let ys = try xs.softmax(axis: 0)
        #expect(ys.scalars[0].isNaN && ys.scalars[2].isNaN && ys.scalars[4].isNaN)
        #expect(!ys.scalars[1].isNaN && !ys.scalars[3].isNaN)
    }

    @Test func infinities() throws {
        let x = try NDArray(shape: [3, 2], scalars: [Float.infinity, 1, Float.infinity, Float.nan, 1000, -1000])
        let lse = try x.logSumExp()
        #expect(lse.scalars[0] == .infinity)
        #expect(lse.scalars[1].isNaN)
        #expect(abs(lse.scalars[2] - 1000) < 1e-3)
        // Large numbers (ONNX's "large_number" case): no overflow.
        let big = try NDArray(shape: [1, 4], scalars: [10000, 10001, 10002, 10003] as [Float])
        let y = try big.softmax().scalars.map { Double($0) }
        #expect(firstMismatch(y, Reference.softmax([0, 1, 2, 3], [1, 4], 1), rel: 2e-5, abs: 1e-6) == nil)
    }

    @Test func propertiesOnRandomShapes() throws {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<30 {
            let (shape, axis) = rng.shapeAndAxis()
            let values = rng.gaussians(shape.reduce(1, *), std: 5)
            let x = try NDArray(shape: shape, scalars: values)
            let y = try x.softmax(axis: axis)
            // Each position sums to 1.
            Reference.forEachPosition(shape, axis) { offs in
                #expect(abs(offs.reduce(0) { $0 + y.scalars[$1] } - 1) < 1e-12)
            }
            // Shift invariance: adding a constant to every score changes nothing.
            let shifted = try NDArray(shape: shape, scalars: values.map { $0 + 123.25 })
            #expect(firstMismatch(try shifted.softmax(axis: axis).scalars, y.scalars, rel: 1e-10, abs: 1e-13) == nil)
            // log-softmax = log(softmax).
            let ly = try x.logSoftmax(axis: axis).scalars
            #expect(firstMismatch(ly, y.scalars.map { Foundation.log($0) }, rel: 1e-10, abs: 1e-12) == nil)
            // Float agrees with Double.
            let yf = try NDArray(shape: shape, scalars: values.map { Float($0) }).softmax(axis: axis).scalars
            let ydf = try NDArray(shape: shape, scalars: values.map { Double(Float($0)) }).softmax(axis: axis).scalars
            #expect(firstMismatch(yf.map(Double.init), ydf, rel: 2e-5, abs: 1e-6) == nil)
        }
    }

    @Test func inPlaceBuffers() throws {
        var rng = SeededGenerator(seed: 5)
        var data = rng.gaussians(3 * 7 * 5).map { Float($0) }
        let want = Reference.softmax(data.map(Double.init), [3, 7, 5], 1)
        try data.withUnsafeMutableBufferPointer {
            try softmax(UnsafeBufferPointer($0), shape: [3, 7, 5], axis: 1, into: $0)
        }
        #expect(firstMismatch(data.map(Double.init), want, rel: 2e-5, abs: 1e-6) == nil)
    }

    @Test func threadCountDoesNotChangeBits() throws {
        var rng = SeededGenerator(seed: 9)
        let shape = [64, 3000]
        let x = try NDArray(shape: shape, scalars: rng.gaussians(64 * 3000).map { Float($0) })
        // Task-local caps: tests run in parallel, and a process-wide setting would leak.
        let one = try SoftmaxThreads.withMaximum(1) { try x.logSoftmax().scalars }
        let all = try SoftmaxThreads.withMaximum(0) { try x.logSoftmax().scalars }
        #expect(one == all)
    }
}
