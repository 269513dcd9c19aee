import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

/// The `softmax` binary with `SOFTMAX_ISA` in its environment: each instruction set this CPU
/// has gives results equal to the float64 reference (and, the kernels being compiled per set,
/// so does the portable one on any machine); an unknown name is one `error:` line and exit
/// status 1, before any file is read.
@Suite("softmax with SOFTMAX_ISA")
struct InstructionSetEnvironmentTests {
    /// The sets the environment variable can name on this CPU.
    static let names = SoftmaxISA.supported.map(\.rawValue)

    @Test(arguments: names)
    func resultsEqualTheReference(isa: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        // Rows long enough for every vector width, plus a tail; strided along axis 1 too.
        let shape = [3, 37, 5]
        let count = shape.reduce(1, *)
        var rng = SeededGenerator(seed: 1508)
        let x = rng.gaussians(count, std: 3).map { Float($0) }
        let input = try tmp.write(try NPYArray(shape: shape, scalars: x), "x.npy")
        let labels = (0..<15).map { _ in Int64.random(in: 0..<37, using: &rng) }
        let targets = try tmp.write(try NPYArray(shape: [3, 5], scalars: labels), "t.npy")
        let environment = ["SOFTMAX_ISA": isa]
        let tol = Tolerance.of(Float.self)
        for (op, axis) in [("softmax", 1), ("log-softmax", 1), ("softmax", 2), ("log-softmax", -1)] {
            let output = tmp.path("\(op)-\(axis).npy")
            let run = try runSoftmax(
                ["apply", op, input, "--axis", "\(axis)", "--output", output], environment: environment)
            #expect(run.status == 0, "\(isa) \(op): \(run.stderr)")
            let (type, outShape, got) = try readDoubles(output)
            #expect(type == .float32 && outShape == shape)
            let xd = x.doubles
            let want = op == "softmax" ? Reference.softmax(xd, shape, axis) : Reference.logSoftmax(xd, shape, axis)
            let bad = mismatches(got, want, tol)
            #expect(bad.isEmpty, "\(isa) \(op) axis \(axis): \(bad)")
        }
        let loss = try runSoftmax(
            ["loss", input, targets, "--label-smoothing", "0.1", "--grad-output", tmp.path("g.npy")],
            environment: environment)
        #expect(loss.status == 0, "\(isa) loss: \(loss.stderr)")
        let options = CrossEntropyOptions(labelSmoothing: 0.1)
        let want = Reference.crossEntropy(x.doubles, shape, .indices(labels.map { Int($0) }), options)
        let printed = try #require(Double(loss.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(tol.accepts(printed, want.loss), "\(isa) loss \(printed), expected \(want.loss)")
        let (_, _, gradient) = try readDoubles(tmp.path("g.npy"))
        #expect(mismatches(gradient, want.gradient, tol).isEmpty, "\(isa) gradient")
    }

    @Test(arguments: ["bogus", "avx2 ", "avx1024", ""])
    func unknownNameIsAnError(value: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = try tmp.write(try NPYArray(shape: [2, 3], scalars: [Float](repeating: 1, count: 6)), "x.npy")
        let output = tmp.path("y.npy")
        let run = try runSoftmax(["apply", "softmax", input, "--output", output], environment: ["SOFTMAX_ISA": value])
        #expect(run.status == 1, "SOFTMAX_ISA='\(value)': status \(run.status)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error:"), "\(run.stderr)")
        #expect(run.stderr.contains("SOFTMAX_ISA") && run.stderr.contains("'\(value)'"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "an output was written")
    }
}

/// The `softmax` binary with `SOFTMAX_BLAS` in its environment.
@Suite("SOFTMAX_BLAS")
struct BLASEnvironmentTests {
    /// A library that does not load is one `error:` line naming the variable and the value,
    /// status 1, before any output is written; `none` runs as usual.
    @Test func unloadableLibraryIsAnError() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = try tmp.write(try NPYArray(shape: [2, 3], scalars: [Float](repeating: 1, count: 6)), "x.npy")
        let output = tmp.path("y.npy")
        let bad = try runSoftmax(
            ["apply", "softmax", input, "--output", output], environment: ["SOFTMAX_BLAS": tmp.path("nothing.so")])
        #expect(bad.status == 1, "status \(bad.status)")
        let lines = bad.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error:"), "\(bad.stderr)")
        #expect(bad.stderr.contains("SOFTMAX_BLAS") && bad.stderr.contains("nothing.so"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "an output was written")

        let good = try runSoftmax(
            ["apply", "softmax", input, "--output", output], environment: ["SOFTMAX_BLAS": "none"])
        #expect(good.status == 0, "\(good.stderr)")
        let probabilities = try NPYArray(contentsOf: output).scalars(as: Float.self)
        #expect(probabilities.allSatisfy { Swift.abs($0 - 1.0 / 3) < 1e-6 }, "\(probabilities)")
    }
}
