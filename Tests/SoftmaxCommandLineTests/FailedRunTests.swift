import Foundation
import Softmax
import Testing

/// A run that fails leaves nothing behind: no partial output, no temporary file, and any file
/// already at an output path keeps its old contents.
@Suite("Failed runs leave no trace")
struct FailedRunTests {
    func listing(_ dir: TempDir) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
    }

    @Test func badLabelWritesNoGradientAndKeepsTheOldFile() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let scores = try dir.write(try NPYArray(shape: [2, 3], scalars: [Float](repeating: 1, count: 6)), "x.npy")
        let labels = try dir.write(try NPYArray(shape: [2], scalars: [Int64(0), 7]), "t.npy")
        try Data("old gradient".utf8).write(to: URL(fileURLWithPath: dir.path("g.npy")))
        let before = try listing(dir)
        let result = try runSoftmax([
            "loss", scores, labels, "--grad-output", dir.path("g.npy"), "--prob-output", dir.path("p.npy"),
        ])
        #expect(result.status == 1 && result.stderr.contains("label 7"))
        #expect(try listing(dir) == before)
        #expect(try String(contentsOfFile: dir.path("g.npy"), encoding: .utf8) == "old gradient")
    }

    @Test func unwritableOutputLeavesNoTemporaryFile() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let scores = try dir.write(try NPYArray(shape: [2, 3], scalars: [Float](repeating: 1, count: 6)), "x.npy")
        try FileManager.default.createDirectory(atPath: dir.path("out.npy"), withIntermediateDirectories: false)
        let before = try listing(dir)
        let result = try runSoftmax(["apply", "softmax", scores, "--output", dir.path("out.npy")])
        #expect(result.status == 1 && result.stderr.hasPrefix("error: "), "\(result.stderr)")
        #expect(try listing(dir) == before)
        let missingDirectory = try runSoftmax(["apply", "softmax", scores, "--output", dir.path("no/such/dir/y.npy")])
        #expect(missingDirectory.status == 1 && missingDirectory.stderr.hasPrefix("error: "))
        #expect(try listing(dir) == before)
    }

    @Test func failedTrainingWritesNoModelOrPlot() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let csv = dir.path("bad.csv")
        try "1,2,a\n3,oops,b\n".write(toFile: csv, atomically: true, encoding: .utf8)
        try Data("previous model".utf8).write(to: URL(fileURLWithPath: dir.path("m.json")))
        let before = try listing(dir)
        let result = try runSoftmax(["train", csv, "-o", dir.path("m.json"), "--plot", dir.path("c.svg")])
        #expect(result.status == 1)
        #expect(try listing(dir) == before)
        #expect(try String(contentsOfFile: dir.path("m.json"), encoding: .utf8) == "previous model")
    }

    @Test func anOutputThatIsAnInputIsRefusedBeforeAnythingRuns() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let model = dir.path("m.json")
        #expect(try runSoftmax(["train", "--epochs", "1", "-o", model]).status == 0)
        let modelBytes = try Data(contentsOf: URL(fileURLWithPath: model))
        for arguments in [
            ["evaluate", model, "--plot", model], ["predict", model, model, "--output", model],
            ["train", "--epochs", "1", "-o", model, "--plot", model],
        ] {
            let result = try runSoftmax(arguments)
            #expect(result.status == 1 && result.stderr.hasPrefix("error: "), "\(arguments): \(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == modelBytes)
    }

    @Test func headersOverOneMebibyteAreRefused() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let header =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" + String(repeating: " ", count: 1 << 20)
        let file = try dir.writeBytes(
            handBuiltNPY(major: 2, header: header, data: [UInt8](repeating: 0, count: 8)), "h.npy")
        let result = try runSoftmax(["apply", "softmax", file, "--output", dir.path("y.npy")])
        #expect(
            result.status == 1 && result.stderr.contains("more than the 1048576 this reader accepts"),
            "\(result.stderr)")
    }
}
