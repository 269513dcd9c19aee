import Foundation
import Softmax
import SoftmaxTraining
import Testing

/// Inputs too large for the machine: refused with one `error:` line before the memory is taken,
/// never an allocation failure (which ends a Swift process with a trap).  The limit is lowered
/// with `SOFTMAX_MAX_INPUT_BYTES` so that small files exercise it.
@Suite("Resource limits")
struct ResourceLimitTests {
    func expectRefused(_ result: ProcessResult, _ fragment: String) {
        #expect(result.status == 1 && result.reason == .exit, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(fragment), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func filesOverTheLimitAreRefusedBeforeReading() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let x = try dir.write(try NPYArray(shape: [64, 64], scalars: [Float](repeating: 0.5, count: 4096)), "x.npy")
        let limit = ["SOFTMAX_MAX_INPUT_BYTES": "4000"]
        expectRefused(
            try runSoftmax(["apply", "softmax", x, "--output", dir.path("y.npy")], environment: limit),
            "reading '\(x)' needs 16.5 kB, more than the limit of 4.0 kB (set by SOFTMAX_MAX_INPUT_BYTES)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("y.npy")))
        expectRefused(try runSoftmax(["train", x, "-o", dir.path("m.json")], environment: limit), "needs 16.5 kB")
        // Under the limit the same command works.
        let ok = try runSoftmax(
            ["apply", "softmax", x, "--output", dir.path("y.npy")], environment: ["SOFTMAX_MAX_INPUT_BYTES": "1000000"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test func workingMemoryIsCountedNotJustTheFile() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        // A 16 kB file whose apply needs four copies (file, typed array, result, encoded result).
        let x = try dir.write(try NPYArray(shape: [64, 64], scalars: [Float](repeating: 0.5, count: 4096)), "x.npy")
        let labels = try dir.write(try NPYArray(shape: [64], scalars: [Int64](repeating: 1, count: 64)), "t.npy")
        let limit = ["SOFTMAX_MAX_INPUT_BYTES": "40000"]
        expectRefused(
            try runSoftmax(["apply", "softmax", x, "--output", dir.path("y.npy")], environment: limit), "'softmax' of")
        expectRefused(
            try runSoftmax(
                ["loss", x, labels, "--grad-output", dir.path("g.npy"), "--prob-output", dir.path("p.npy")],
                environment: limit),
            "the loss of")
        #expect(try runSoftmax(["loss", x, labels], environment: limit).status == 0)
    }

    @Test func benchShapesTooLargeForMemory() throws {
        expectRefused(
            try runSoftmax(["bench", "--shape", "100000x100000", "--repeats", "1"]),
            "benchmarking shape (100000, 100000) needs 120.0 GB")
        expectRefused(try runSoftmax(["bench", "--shape", "4000000000x4000000000"]), "the element count overflows Int")
    }

    @Test func decompressedSizeIsLimitedToo() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        // 2 MB of CSV zeros compress to a few kB: the file passes the limit, its contents do not.
        let line = Array(repeating: "0", count: 99).joined(separator: ",") + ",1\n"
        let text = String(repeating: line, count: 10_000)
        let csv = dir.path("zeros.csv")
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        let gz = try gzipFile(csv)
        let compressed = try FileManager.default.attributesOfItem(atPath: gz)[.size] as! Int
        #expect(compressed < 100_000)
        expectRefused(
            try runSoftmax(
                ["train", gz, "-o", dir.path("m.json")], environment: ["SOFTMAX_MAX_INPUT_BYTES": "1000000"]),
            "decompressing '\(gz)'")
    }

    @Test func trainingMemoryIsCheckedBeforeAllocating() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        expectRefused(
            try runSoftmax(
                ["train", "--hidden", "60000", "-o", dir.path("m.json")],
                environment: ["SOFTMAX_MAX_INPUT_BYTES": "20000000"]),
            "training (64 features per row, batch 32) needs")
    }
}

/// Writes `path` + ".gz", the gzip of the file at `path`, and returns its path.
func gzipFile(_ path: String) throws -> String {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let compressed = try gzip(bytes)
    try Data(compressed).write(to: URL(fileURLWithPath: path + ".gz"))
    return path + ".gz"
}

@Suite("Class count limit")
struct ClassCountLimitTests {
    /// The limit (labels are decoded to Int32) applies where there are labels to decode: with
    /// no positions an empty batch of any class count has loss 0, as every empty input gives
    /// its empty result (it was refused before issue 14).  With positions, more than
    /// 2147483647 classes need 8 GB of float32 scores, beyond what a test should allocate.
    @Test func emptyBatchOfMoreThanInt32MaxClasses() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let scores = try dir.writeBytes(
            handBuiltNPY(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2147483648), }", data: []),
            "x.npy")
        let labels = try dir.write(try NPYArray(shape: [0], scalars: [Int64]()), "t.npy")
        let grad = dir.path("g.npy")
        let result = try runSoftmax(["loss", scores, labels, "--grad-output", grad])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == 0)
        #expect(try NPYArray(contentsOf: grad).shape == [0, 2_147_483_648])
    }
}
