import Foundation
import Softmax
import SoftmaxCommandLine
import Testing

// `softmax apply OP INPUT --output OUT [--axis A]` in-process, against float64 references.

/// An input array of `type` with `values` rounded to that type, and the rounded values.
func floatArray(_ type: NPYDataType, shape: [Int], _ values: [Double]) throws -> (NPYArray, [Double]) {
    switch type {
    case .float64:
        return (try NPYArray(shape: shape, scalars: values), values)
    case .float32:
        let s = values.map { Float($0) }
        return (try NPYArray(shape: shape, scalars: s), s.map(Double.init))
    case .float16:
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            let s = values.map { Float16($0) }
            return (try NPYArray(shape: shape, scalars: s), s.map(Double.init))
        #else
            // Hand-built half bits for platforms without Float16 (values rounded to 1/64).
            let rounded = values.map { ($0 * 64).rounded() / 64 }
            var array = try NPYArray(shape: shape, scalars: [UInt16](repeating: 0, count: values.count))
            array.dataType = .float16
            array.bytes = rounded.flatMap { littleEndianBytes(halfBits($0)) }
            return (array, rounded)
        #endif
    default:
        fatalError("not a float type: \(type)")
    }
}

let floatTypes: [NPYDataType] = [.float16, .float32, .float64]
let applyOps = ["softmax", "log-softmax", "logsumexp"]

@Suite("softmax apply")
struct ApplyCommandTests {
    /// Runs `apply` and returns the output file's contents.
    func apply(_ op: String, _ input: NPYArray, axis: Int?, in tmp: TempDir) throws -> NPYArray {
        let inPath = try tmp.write(input, "in.npy")
        let outPath = tmp.path("out-\(op).npy")
        var args = ["apply", op, inPath, "--output", outPath]
        if let axis { args += ["--axis", "\(axis)"] }
        let status = SoftmaxCommand.main(arguments: args)
        try #require(status == 0, "exit \(status) for \(args)")
        return try NPYArray(contentsOf: outPath)
    }

    @Test("output type and values against a float64 reference", arguments: applyOps, floatTypes)
    func values(_ op: String, _ type: NPYDataType) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [3, 4, 5]
        let (input, x) = try floatArray(type, shape: shape, randomDoubles(60, in: -6...6, seed: 11))
        for axis in [0, 1, 2, -1, -2, -3] {
            let out = try apply(op, input, axis: axis, in: tmp)
            #expect(out.dataType == type, "\(op) \(type): output dtype \(out.dataType)")
            var outShape = shape
            if op == "logsumexp" { outShape.remove(at: axis < 0 ? axis + 3 : axis) }
            #expect(out.shape == outShape, "\(op) axis \(axis)")
            let want = referenceApply(op, x, shape: shape, axis: axis)
            let (rtol, atol) = tolerance(type)
            let mismatch = firstMismatch(out.doubles(), want, rtol: rtol, atol: atol)
            #expect(mismatch == nil, "\(op) \(type) axis \(axis): \(mismatch ?? "")")
        }
    }

    @Test("the default axis is -1", arguments: applyOps)
    func defaultAxis(_ op: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let shape = [2, 3, 4]
        let (input, x) = try floatArray(.float64, shape: shape, randomDoubles(24, in: -3...3, seed: 5))
        let out = try apply(op, input, axis: nil, in: tmp)
        #expect(out.shape == (op == "logsumexp" ? [2, 3] : shape))
        let want = referenceApply(op, x, shape: shape, axis: 2)
        #expect(firstMismatch(out.doubles(), want, rtol: 1e-10, atol: 1e-12) == nil)
        // And it really differs from normalising along another axis.
        let other = referenceApply(op, x, shape: shape, axis: 1)
        #expect(op == "logsumexp" || !allClose(out.doubles(), other, rtol: 1e-3, atol: 1e-3))
    }

    @Test("logsumexp of a 1-D array is a 0-d array")
    func logsumexpOfVector() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x: [Double] = [1, 2, 3, -1000]
        let out = try apply("logsumexp", try NPYArray(shape: [4], scalars: x), axis: nil, in: tmp)
        #expect(out.shape == [])
        let terms: [Double] = [exp(-2.0), exp(-1.0), 1, exp(-1003.0)]
        let want = 3 + log(terms.reduce(0, +))
        #expect(abs(out.doubles()[0] - want) <= 1e-12)
    }

    @Test("large scores do not overflow and -inf rows follow the contract", arguments: floatTypes)
    func extremes(_ type: NPYDataType) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let big = type == .float16 ? 60000.0 : 1e4
        // Row 0: large values (a naive exp overflows); row 1: all -inf; row 2: a -inf among
        // finite values.
        let values: [Double] = [big, big - 1, big - 2, -.infinity, -.infinity, -.infinity, 0, -.infinity, 1]
        let (input, x) = try floatArray(type, shape: [3, 3], values)
        let y = try apply("softmax", input, axis: nil, in: tmp).doubles()
        let ls = try apply("log-softmax", input, axis: nil, in: tmp).doubles()
        let lse = try apply("logsumexp", input, axis: nil, in: tmp).doubles()
        let (rtol, atol) = tolerance(type)
        // Row 0 by hand: the differences are what matter.
        let d = [x[0] - x[0], x[1] - x[0], x[2] - x[0]]
        let z = d.map(exp).reduce(0, +)
        #expect(allClose(Array(y[0..<3]), d.map { exp($0) / z }, rtol: rtol, atol: atol))
        #expect(allClose(Array(ls[0..<3]), d.map { $0 - log(z) }, rtol: rtol, atol: atol), "\(ls)")
        #expect(allClose([lse[0]], [x[0] + log(z)], rtol: rtol, atol: atol))
        // Row 1: all -inf gives zeros, -inf, -inf (never NaN).
        let zeros: [Double] = [0, 0, 0]
        let minusInf: [Double] = [-.infinity, -.infinity, -.infinity]
        #expect(Array(y[3..<6]) == zeros)
        #expect(Array(ls[3..<6]) == minusInf)
        #expect(lse[1] == -.infinity)
        // Row 2: exp(-inf) = 0.
        let z2 = 1 + exp(1.0)
        #expect(allClose(Array(y[6..<9]), [1 / z2, 0, exp(1) / z2], rtol: rtol, atol: atol))
        #expect(allClose(Array(ls[6..<9]), [-log(z2), -.infinity, 1 - log(z2)], rtol: rtol, atol: atol))
    }

    @Test("NaN poisons only its own position")
    func nanPosition() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x: [Double] = [1, .nan, 2, 1, 2, 3]
        let y = try apply("softmax", try NPYArray(shape: [2, 3], scalars: x.map { Float($0) }), axis: nil, in: tmp)
        let v = y.doubles()
        #expect(v[0..<3].allSatisfy { $0.isNaN })
        #expect(
            allClose(
                Array(v[3..<6]), referenceApply("softmax", [1, 2, 3], shape: [3], axis: 0), rtol: 2e-5, atol: 1e-6))
    }

    @Test("a 0-d input has no axis; an empty input gives an empty output")
    func degenerateShapes() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let scalarPath = try tmp.write(try NPYArray(shape: [], scalars: [Float(1)]), "scalar.npy")
        #expect(SoftmaxCommand.main(arguments: ["apply", "softmax", scalarPath, "--output", tmp.path("o.npy")]) == 1)
        #expect(!FileManager.default.fileExists(atPath: tmp.path("o.npy")))
        let empty = try apply("softmax", try NPYArray(shape: [0, 3], scalars: [Float]()), axis: nil, in: tmp)
        #expect(empty.shape == [0, 3])
        #expect(empty.dataType == .float32)
        #expect(empty.count == 0)
    }

    @Test("apply accepts big-endian and Fortran-order input files")
    func foreignLayouts() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        // value(i, j) for a 2×3 array, stored big-endian in Fortran order.
        let c: [Double] = [0.5, -1, 2, 3, 0, -0.25]
        var fortran: [Double] = []
        for j in 0..<3 { for i in 0..<2 { fortran.append(c[i * 3 + j]) } }
        let file = handBuiltNPY(
            header: "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }",
            data: fortran.flatMap { bigEndianBytes($0.bitPattern) })
        let inPath = try tmp.writeBytes(file, "in.npy")
        let outPath = tmp.path("out.npy")
        #expect(SoftmaxCommand.main(arguments: ["apply", "softmax", inPath, "--output", outPath]) == 0)
        let out = try NPYArray(contentsOf: outPath)
        #expect(out.dataType == .float64)
        #expect(
            firstMismatch(
                out.doubles(), referenceApply("softmax", c, shape: [2, 3], axis: 1), rtol: 1e-10, atol: 1e-12) == nil)
    }
}
