import Foundation
import Softmax
import Testing

// The real `softmax` binary, run with Foundation.Process: bad input gives one `error:` line on
// standard error and a small non-zero exit status (never a trap or a stack trace); good input
// prints the loss.

/// One bad invocation.  `@name` in `args` and `fragments` stands for the file `name` in the
/// case's temporary directory (see `writeFixtures`).
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var args: [String]
    /// 1 for bad input, 64 for bad usage.
    var status: Int32
    /// Text the error line must contain.
    var fragments: [String]
    /// Text the error line must not contain.
    var absent: [String] = []
    var testDescription: String { name }
}

/// Writes every file the bad-input cases refer to.
func writeFixtures(_ tmp: TempDir) throws {
    let x = randomDoubles(12, in: -2...2, seed: 42).map { Float($0) }
    let scores = try NPYArray(shape: [3, 4], scalars: x)
    let scoresFile = scores.npyBytes()
    try tmp.write(scores, "scores.npy")
    try tmp.write(try NPYArray(shape: [2, 3, 4], scalars: [Float](repeating: 0.5, count: 24)), "scores3.npy")
    try tmp.write(try NPYArray(shape: [], scalars: [Float(1)]), "scalar.npy")
    try tmp.write(try NPYArray(shape: [3], scalars: [Int64(0), 3, 1]), "labels.npy")
    try tmp.writeBytes(Array("hello, this is not an array\n".utf8), "text.npy")
    try tmp.writeBytes(Array(scoresFile[0..<30]), "cut-header.npy")
    try tmp.writeBytes(Array(scoresFile.dropLast(5)), "cut-data.npy")
    let data = [UInt8](repeating: 0, count: 96)
    try tmp.writeBytes(
        handBuiltNPY(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)", data: data), "malformed.npy")
    try tmp.writeBytes(
        handBuiltNPY(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }", data: data),
        "negative-dim.npy")
    try tmp.writeBytes(
        handBuiltNPY(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (3, 4), }", data: data), "complex.npy")
    try tmp.writeBytes(
        handBuiltNPY(header: "{'descr': '|b1', 'fortran_order': False, 'shape': (3, 4), }", data: data), "bool.npy")
    try tmp.writeBytes(
        handBuiltNPY(header: "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", data: data), "object.npy")
    try tmp.writeBytes(
        handBuiltNPY(header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", data: data),
        "structured.npy")
    try tmp.writeBytes(
        handBuiltNPY(major: 4, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", data: data),
        "v4.npy")
    try tmp.writeBytes(
        handBuiltNPY(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", data: data),
        "huge.npy")
    try tmp.write(try NPYArray(shape: [3, 4], scalars: [Int32](repeating: 1, count: 12)), "int-scores.npy")
    try tmp.write(try NPYArray(shape: [3], scalars: [Int64(0), 9, 1]), "label-9.npy")
    try tmp.write(try NPYArray(shape: [2, 4], scalars: [Int16(0), 1, 2, 0, 1, 1, -2, 0]), "label-neg.npy")
    try tmp.write(try NPYArray(shape: [3], scalars: [Float(0), 2.5, 1]), "label-frac.npy")
    try tmp.write(try NPYArray(shape: [3], scalars: [0, 1e20, 1]), "label-1e20.npy")
    try tmp.write(try NPYArray(shape: [3], scalars: [0, UInt64.max, 1]), "label-u64max.npy")
    try tmp.write(try NPYArray(shape: [3], scalars: [0, Double.nan, 1]), "label-nan.npy")
    try tmp.write(try NPYArray(shape: [4], scalars: [Int64](repeating: 0, count: 4)), "targets-4.npy")
    try tmp.write(try NPYArray(shape: [3, 5], scalars: [Float](repeating: 0.2, count: 15)), "probs-3x5.npy")
    try tmp.write(try NPYArray(shape: [3], scalars: [1.0, 1, 1]), "weights-3.npy")
    try tmp.write(try NPYArray(shape: [2, 2], scalars: [1.0, 1, 1, 1]), "weights-2x2.npy")
    try tmp.write(try NPYArray(shape: [4], scalars: [1.0, .nan, 1, 1]), "weights-nan.npy")
}

let badInputs: [BadInput] = [
    BadInput(
        name: "missing file", args: ["apply", "softmax", "@nope.npy", "--output", "@out.npy"], status: 1,
        fragments: ["cannot read", "@nope.npy", "no such file or directory"]),
    BadInput(
        name: "missing targets file", args: ["loss", "@scores.npy", "@nope.npy"], status: 1,
        fragments: ["cannot read", "@nope.npy", "no such file or directory"]),
    BadInput(
        name: "not a .npy file", args: ["apply", "softmax", "@text.npy", "--output", "@out.npy"], status: 1,
        fragments: ["not a NumPy .npy file"]),
    BadInput(
        name: "header cut short", args: ["apply", "softmax", "@cut-header.npy", "--output", "@out.npy"], status: 1,
        fragments: ["truncated", "header"]),
    BadInput(
        name: "data cut short", args: ["apply", "logsumexp", "@cut-data.npy", "--output", "@out.npy"], status: 1,
        fragments: ["truncated", "data of shape (3, 4)", "48", "43"]),
    BadInput(
        name: "malformed header", args: ["apply", "softmax", "@malformed.npy", "--output", "@out.npy"], status: 1,
        fragments: ["malformed .npy header"]),
    BadInput(
        name: "negative dimension", args: ["apply", "softmax", "@negative-dim.npy", "--output", "@out.npy"], status: 1,
        fragments: ["malformed .npy header", "-3"]),
    BadInput(
        name: "complex dtype", args: ["apply", "softmax", "@complex.npy", "--output", "@out.npy"], status: 1,
        fragments: ["unsupported .npy dtype '<c8'"]),
    BadInput(
        name: "bool dtype", args: ["apply", "softmax", "@bool.npy", "--output", "@out.npy"], status: 1,
        fragments: ["unsupported .npy dtype '|b1'"]),
    BadInput(
        name: "object dtype", args: ["loss", "@scores.npy", "@object.npy"], status: 1,
        fragments: ["unsupported .npy dtype '|O'"]),
    BadInput(
        name: "structured dtype", args: ["apply", "softmax", "@structured.npy", "--output", "@out.npy"], status: 1,
        fragments: ["unsupported .npy dtype"]),
    BadInput(
        name: "version 4.0", args: ["apply", "softmax", "@v4.npy", "--output", "@out.npy"], status: 1,
        fragments: ["unsupported .npy format version 4.0"]),
    BadInput(
        name: "shape too large for the file", args: ["apply", "softmax", "@huge.npy", "--output", "@out.npy"],
        status: 1,
        fragments: ["truncated", "4000000000000"]),
    BadInput(
        name: "integer scores (apply)", args: ["apply", "softmax", "@int-scores.npy", "--output", "@out.npy"],
        status: 1,
        fragments: ["input '@int-scores.npy' holds int32"]),
    BadInput(
        name: "integer scores (loss)", args: ["loss", "@int-scores.npy", "@labels.npy"], status: 1,
        fragments: ["scores '@int-scores.npy' holds int32"]),
    BadInput(
        name: "apply axis out of range",
        args: ["apply", "softmax", "@scores.npy", "--output", "@out.npy", "--axis", "2"],
        status: 1, fragments: ["axis 2 is out of range", "rank 2"]),
    BadInput(
        name: "apply negative axis out of range",
        args: ["apply", "log-softmax", "@scores.npy", "--output", "@out.npy", "--axis", "-3"], status: 1,
        fragments: ["axis -3 is out of range"]),
    BadInput(
        name: "apply on a 0-d array", args: ["apply", "softmax", "@scalar.npy", "--output", "@out.npy"], status: 1,
        fragments: ["0-d"]),
    BadInput(
        name: "loss axis out of range", args: ["loss", "@scores.npy", "@labels.npy", "--axis", "5"], status: 1,
        fragments: ["axis 5 is out of range"]),
    BadInput(
        name: "loss on 0-d scores", args: ["loss", "@scalar.npy", "@labels.npy"], status: 1, fragments: ["axis"]),
    BadInput(
        name: "label out of range", args: ["loss", "@scores.npy", "@label-9.npy"], status: 1,
        fragments: ["label 9 at position (1,)", "0..<4"]),
    BadInput(
        name: "label out of range and not the ignore index",
        args: ["loss", "@scores.npy", "@label-9.npy", "--ignore-index", "8"], status: 1,
        fragments: ["label 9 at position (1,)"]),
    BadInput(
        name: "negative label in a 2-D target", args: ["loss", "@scores3.npy", "@label-neg.npy"], status: 1,
        fragments: ["label -2 at position (1, 2)", "0..<3"]),
    BadInput(
        name: "float label too large for Int", args: ["loss", "@scores.npy", "@label-1e20.npy"], status: 1,
        fragments: ["label 1e+20 at position (1,)"], absent: ["9223372036854775807"]),
    BadInput(
        name: "uint64 label too large for Int", args: ["loss", "@scores.npy", "@label-u64max.npy"], status: 1,
        fragments: ["label 18446744073709551615 at position (1,)"], absent: ["9223372036854775807"]),
    BadInput(
        name: "fractional float label", args: ["loss", "@scores.npy", "@label-frac.npy"], status: 1,
        fragments: ["label 2.5 at position (1,)", "not a whole number"]),
    BadInput(
        name: "NaN float label", args: ["loss", "@scores.npy", "@label-nan.npy"], status: 1,
        fragments: ["position (1,)", "not a whole number"]),
    BadInput(
        name: "targets with a wrong shape", args: ["loss", "@scores.npy", "@targets-4.npy"], status: 1,
        fragments: ["targets '@targets-4.npy'", "(4,)", "(3,)", "(3, 4)"]),
    BadInput(
        name: "probabilities with a wrong shape", args: ["loss", "@scores.npy", "@probs-3x5.npy"], status: 1,
        fragments: ["(3, 5)"]),
    BadInput(
        name: "weights with a wrong count",
        args: ["loss", "@scores.npy", "@labels.npy", "--weights", "@weights-3.npy"],
        status: 1, fragments: ["class weights", "3 values", "(4)"]),
    BadInput(
        name: "2-D weights", args: ["loss", "@scores.npy", "@labels.npy", "--weights", "@weights-2x2.npy"], status: 1,
        fragments: ["1-D", "@weights-2x2.npy"]),
    BadInput(
        name: "NaN weight", args: ["loss", "@scores.npy", "@labels.npy", "--weights", "@weights-nan.npy"], status: 1,
        fragments: ["class weight", "index 1"]),
    BadInput(
        name: "missing weights file", args: ["loss", "@scores.npy", "@labels.npy", "--weights", "@nope.npy"], status: 1,
        fragments: ["cannot read", "@nope.npy", "no such file or directory"]),
    BadInput(
        name: "label smoothing above 1", args: ["loss", "@scores.npy", "@labels.npy", "--label-smoothing", "1.5"],
        status: 1, fragments: ["label smoothing", "1.5", "[0, 1]"]),
    BadInput(
        name: "negative label smoothing", args: ["loss", "@scores.npy", "@labels.npy", "--label-smoothing", "-0.1"],
        status: 1, fragments: ["label smoothing", "-0.1"]),
    BadInput(
        name: "infinite loss weight", args: ["loss", "@scores.npy", "@labels.npy", "--loss-weight", "inf"], status: 1,
        fragments: ["loss weight"]),
    BadInput(
        name: "unknown operation", args: ["apply", "softmin", "@scores.npy", "--output", "@out.npy"], status: 64,
        fragments: ["softmin"]),
    BadInput(
        name: "unknown reduction", args: ["loss", "@scores.npy", "@labels.npy", "--reduction", "avg"], status: 64,
        fragments: ["avg", "--reduction"]),
    BadInput(
        name: "unknown input kind", args: ["loss", "@scores.npy", "@labels.npy", "--input", "probabilities"],
        status: 64,
        fragments: ["probabilities"]),
    BadInput(
        name: "non-numeric axis", args: ["apply", "softmax", "@scores.npy", "--output", "@out.npy", "--axis", "x"],
        status: 64, fragments: ["--axis"]),
    BadInput(
        name: "missing --output", args: ["apply", "softmax", "@scores.npy"], status: 64, fragments: ["--output"]),
    BadInput(name: "missing targets", args: ["loss", "@scores.npy"], status: 64, fragments: ["targets"]),
    BadInput(name: "unknown subcommand", args: ["frobnicate"], status: 64, fragments: ["frobnicate"]),
    BadInput(
        name: "unknown option", args: ["loss", "@scores.npy", "@labels.npy", "--no-such-option", "2"], status: 64,
        fragments: ["--no-such-option"]),
    BadInput(
        name: "output into a directory that does not exist",
        args: ["apply", "softmax", "@scores.npy", "--output", "@no-such-dir/out.npy"], status: 1,
        fragments: ["cannot write", "no such file or directory", "@no-such-dir/out.npy"]),
    BadInput(
        name: "loss output into a directory that does not exist",
        args: ["loss", "@scores.npy", "@labels.npy", "--grad-output", "@no-such-dir/g.npy"], status: 1,
        fragments: ["@no-such-dir/g.npy"]),
]

@Suite("the softmax executable")
struct ExecutableTests {
    @Test("the executable is built next to the tests")
    func executableExists() {
        #expect(FileManager.default.isExecutableFile(atPath: softmaxExecutable().path), "\(softmaxExecutable().path)")
    }

    @Test("bad input: one error line and a clean non-zero exit", arguments: badInputs)
    func badInput(_ bad: BadInput) throws {
        try #require(FileManager.default.isExecutableFile(atPath: softmaxExecutable().path))
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        try writeFixtures(tmp)
        func expand(_ s: String) -> String {
            guard let range = s.range(of: "@") else { return s }
            let name = s[range.upperBound...].prefix { !$0.isWhitespace && $0 != "'" && $0 != ")" }
            return s.replacingCharacters(in: range.lowerBound..<name.endIndex, with: tmp.path(String(name)))
        }
        let result = try runSoftmax(bad.args.map(expand))
        #expect(result.reason == .exit, "\(bad.name): terminated by a signal")
        #expect(result.status == bad.status, "\(bad.name): exit \(result.status), stderr: \(result.stderr)")
        #expect(result.status > 0 && result.status <= 125)
        #expect(result.stderr.hasPrefix("error: "), "\(bad.name): \(result.stderr)")
        #expect(result.stderr.hasSuffix("\n"))
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(bad.name): more than one line: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
        #expect(!result.stderr.contains("Stack dump") && !result.stderr.contains("stack trace"))
        #expect(result.stdout.isEmpty, "\(bad.name): stdout \(result.stdout)")
        for fragment in bad.fragments.map(expand) {
            #expect(result.stderr.contains(fragment), "\(bad.name): '\(fragment)' not in \(result.stderr)")
        }
        for fragment in bad.absent {
            #expect(!result.stderr.contains(fragment), "\(bad.name): '\(fragment)' in \(result.stderr)")
        }
        // A failed run leaves no output file behind.
        #expect(!FileManager.default.fileExists(atPath: tmp.path("out.npy")))
    }

    @Test("a good loss run prints the loss and nothing on stderr")
    func goodLoss() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = randomDoubles(12, in: -2...2, seed: 42).map { Float($0) }
        let labels = [0, 3, 1]
        let scores = try tmp.write(try NPYArray(shape: [3, 4], scalars: x), "scores.npy")
        let targets = try tmp.write(try NPYArray(shape: [3], scalars: labels.map { Int64($0) }), "labels.npy")
        let gradPath = tmp.path("grad.npy")
        let result = try runSoftmax(["loss", scores, targets, "--grad-output", gradPath])
        #expect(result.reason == .exit)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.hasSuffix("\n"))
        #expect(result.stdout.filter { $0 == "\n" }.count == 1)
        let printed = try #require(Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let ref = referenceCrossEntropy(x.map(Double.init), shape: [3, 4], axis: 1, labels: labels)
        #expect(abs(printed - ref.loss) <= 2e-5 * ref.loss)
        #expect(firstMismatch(try readDoubles(gradPath).values, ref.gradient, rtol: 2e-5, atol: 1e-6) == nil)

        let none = try runSoftmax(["loss", scores, targets, "--reduction", "none"])
        #expect(none.status == 0)
        let lines = none.stdout.split(separator: "\n").map { Double(String($0)) }
        #expect(lines.count == 3)
        #expect(allClose(lines.map { $0 ?? .nan }, ref.losses, rtol: 2e-5, atol: 1e-6))
    }

    /// Run through the binary: a trap here would take the whole test process down in-process.
    @Test(
        "a zero-length dimension after the class axis is not a crash",
        arguments: [
            ("softmax", [2, 3, 0], 1, [2, 3, 0]), ("log-softmax", [2, 3, 0], 1, [2, 3, 0]),
            ("logsumexp", [2, 3, 0], 1, [2, 0]), ("softmax", [3, 0], 0, [3, 0]), ("logsumexp", [3, 0], 0, [0]),
            ("softmax", [3, 0], -1, [3, 0]), ("softmax", [0, 3], 1, [0, 3]), ("softmax", [0, 3], 0, [0, 3]),
        ])
    func zeroLengthInner(_ op: String, _ shape: [Int], _ axis: Int, _ outShape: [Int]) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = try tmp.write(try NPYArray(shape: shape, scalars: [Float]()), "x.npy")
        let out = tmp.path("y.npy")
        let result = try runSoftmax(["apply", op, input, "--output", out, "--axis", "\(axis)"])
        #expect(result.reason == .exit, "\(op) \(shape) axis \(axis): killed by a signal")
        #expect(!result.stderr.contains("Fatal error"), "\(op) \(shape) axis \(axis): \(result.stderr.prefix(200))")
        try #require(result.status == 0, "\(op) \(shape) axis \(axis): exit \(result.status)")
        let y = try readDoubles(out)
        #expect(y.shape == outShape)
        #expect(y.type == .float32)
        #expect(y.values.isEmpty)
    }

    @Test("loss with a zero-length dimension after the class axis is not a crash")
    func zeroLengthInnerLoss() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let scores = try tmp.write(try NPYArray(shape: [2, 3, 0], scalars: [Float]()), "x.npy")
        let targets = try tmp.write(try NPYArray(shape: [2, 0], scalars: [Int64]()), "t.npy")
        let grad = tmp.path("g.npy")
        let result = try runSoftmax(["loss", scores, targets, "--grad-output", grad])
        #expect(result.reason == .exit, "killed by a signal")
        #expect(!result.stderr.contains("Fatal error"), "\(result.stderr.prefix(200))")
        try #require(result.status == 0, "exit \(result.status)")
        // No positions: the mean over nothing is 0 (SPEC: every position ignored gives 0).
        #expect(Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == 0)
        #expect(try readDoubles(grad).shape == [2, 3, 0])
    }

    @Test("logsumexp over an empty class axis is -inf, softmax of it is empty")
    func emptyClassAxis() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = try tmp.write(try NPYArray(shape: [3, 0], scalars: [Double]()), "x.npy")
        let out = tmp.path("y.npy")
        let result = try runSoftmax(["apply", "logsumexp", input, "--output", out])
        try #require(result.status == 0 && result.reason == .exit, "\(result.stderr.prefix(200))")
        let y = try readDoubles(out)
        #expect(y.shape == [3])
        #expect(y.values == [-.infinity, -.infinity, -.infinity])  // log of an empty sum, as NumPy and PyTorch
    }

    @Test("a good apply run writes the output file and prints nothing")
    func goodApply() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = randomDoubles(10, in: -3...3, seed: 3)
        let input = try tmp.write(try NPYArray(shape: [2, 5], scalars: x), "x.npy")
        let out = tmp.path("y.npy")
        let result = try runSoftmax(["apply", "log-softmax", input, "--output", out, "--axis", "-1"])
        #expect(result.status == 0 && result.reason == .exit)
        #expect(result.stdout.isEmpty && result.stderr.isEmpty)
        let y = try readDoubles(out)
        #expect(y.type == .float64 && y.shape == [2, 5])
        #expect(
            firstMismatch(y.values, referenceApply("log-softmax", x, shape: [2, 5], axis: 1), rtol: 1e-10, atol: 1e-12)
                == nil)
    }

    @Test(
        "--help exits 0 and prints usage",
        arguments: [[], ["--help"], ["help"], ["loss", "--help"], ["apply", "-h"], ["help", "loss"]])
    func help(_ args: [String]) throws {
        let result = try runSoftmax(args)
        #expect(result.status == 0, "\(args): \(result.stderr)")
        #expect(result.reason == .exit)
        #expect(result.stdout.contains("USAGE:"), "\(args): \(result.stdout)")
        if args.contains("loss") {
            for option in ["--reduction", "--ignore-index", "--weights", "--label-smoothing", "--grad-output"] {
                #expect(result.stdout.contains(option), "\(option) missing from loss help")
            }
        } else if args.contains("apply") {
            #expect(result.stdout.contains("--output") && result.stdout.contains("--axis"))
        } else {
            #expect(result.stdout.contains("apply") && result.stdout.contains("loss"))
        }
    }
}
