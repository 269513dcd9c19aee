import Foundation
import Softmax
import Testing

// The real binary with `-`, FIFOs, symbolic links and descriptors, all made in a temporary
// directory of the test's own: outputs write through anything that is not a regular file and
// replace regular files only; inputs that are streams are read as streams.

/// The softmax of each row of `x` (`rows × columns`), in float64.
private func rowSoftmax(_ x: [Double], columns: Int) -> [Double] {
    referenceApply("softmax", x, shape: [x.count / columns, columns], axis: -1)
}

private func lstatType(_ path: String) -> mode_t {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
}

@Suite("Streams, FIFOs, links and descriptors as inputs and outputs", .timeLimit(.minutes(3)))
struct StreamIOTests {
    let values = randomDoubles(12, in: -3...3, seed: 7)
    var scores: NPYArray { get throws { try NPYArray(shape: [3, 4], scalars: values.map { Float($0) }) } }

    /// Checks that `bytes` are a float32 `.npy` of the rows' softmax.
    private func expectSoftmax(_ bytes: [UInt8]) throws {
        let array = try NPYArray(npyBytes: bytes)
        #expect(array.shape == [3, 4])
        let expected = rowSoftmax(values.map { Double(Float($0)) }, columns: 4)
        for (got, want) in zip(array.doubles(), expected) { #expect(abs(got - want) <= 2e-5 * want + 1e-6) }
    }

    @Test("'-' is standard input and standard output: cat x.npy | softmax apply softmax - --output -")
    func dashIsStandardStreams() throws {
        let result = try runSoftmax(["apply", "softmax", "-", "--output", "-"], stdin: try scores.npyBytes())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        try expectSoftmax(result.stdoutBytes)

        // /dev/stdin names standard input as well.
        let viaPath = try runSoftmax(["apply", "softmax", "/dev/stdin", "--output", "-"], stdin: try scores.npyBytes())
        #expect(viaPath.status == 0, "\(viaPath.stderr)")
        try expectSoftmax(viaPath.stdoutBytes)
    }

    @Test("loss with the gradient on standard output prints the loss on standard error")
    func reportMovesToStandardError() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let labels = try tmp.write(try NPYArray(shape: [3], scalars: [Int64(0), 3, 1]), "labels.npy")
        let result = try runSoftmax(["loss", "-", labels, "--grad-output", "-"], stdin: try scores.npyBytes())
        #expect(result.status == 0, "\(result.stderr)")
        let gradient = try NPYArray(npyBytes: result.stdoutBytes)
        #expect(gradient.shape == [3, 4])
        let printed = Double(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        let logP = referenceApply("log-softmax", values.map { Double(Float($0)) }, shape: [3, 4], axis: 1)
        let reference = -(logP[0] + logP[4 + 3] + logP[8 + 1]) / 3
        #expect(printed.map { abs($0 - reference) <= 2e-5 * reference } == true, "\(result.stderr)")
    }

    @Test("standard input or output claimed twice is refused before anything runs")
    func streamsClaimedTwice() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = try tmp.write(try scores, "x.npy")
        let twiceIn = try runSoftmax(["loss", "-", "/dev/stdin"], stdin: try scores.npyBytes())
        #expect(twiceIn.status == 1)
        #expect(twiceIn.stderr.contains("both read standard input"), "\(twiceIn.stderr)")
        let twiceOut = try runSoftmax([
            "loss", x, try tmp.write(try NPYArray(shape: [3], scalars: [Int64(0), 3, 1]), "t.npy"), "--grad-output",
            "-", "--prob-output", "/dev/stdout",
        ])
        #expect(twiceOut.status == 1)
        #expect(twiceOut.stderr.contains("--grad-output and --prob-output both write to standard output"))
        #expect(twiceOut.stdoutBytes.isEmpty)
    }

    @Test("a symbolic link output replaces its target and stays a link")
    func linkOutput() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = try tmp.write(try scores, "x.npy")
        try FileManager.default.createSymbolicLink(atPath: tmp.path("link.npy"), withDestinationPath: "target.npy")
        let result = try runSoftmax(["apply", "softmax", x, "--output", tmp.path("link.npy")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(lstatType(tmp.path("link.npy")) == S_IFLNK)
        #expect(lstatType(tmp.path("target.npy")) == S_IFREG)
        try expectSoftmax([UInt8](try Data(contentsOf: tmp.url.appendingPathComponent("target.npy"))))
        // The link names the input's file: refused, and the input kept.
        try FileManager.default.createSymbolicLink(atPath: tmp.path("to-x.npy"), withDestinationPath: "x.npy")
        let before = try Data(contentsOf: URL(fileURLWithPath: x))
        let refused = try runSoftmax(["apply", "softmax", x, "--output", tmp.path("to-x.npy")])
        #expect(refused.status == 1 && refused.stderr.contains("would overwrite the input"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: x)) == before)
    }

    @Test("FIFOs: an input read as a stream, an output written through (it stays a FIFO)")
    func fifos() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = tmp.path("in.fifo")
        let output = tmp.path("out.fifo")
        #expect(mkfifo(input, 0o600) == 0 && mkfifo(output, 0o600) == 0)
        let bytes = try scores.npyBytes()
        nonisolated(unsafe) var received: [UInt8] = []
        // Threads of their own, not Dispatch's pool (which also drains the child's pipes): a
        // FIFO's open blocks until the other end opens.
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            if let handle = FileHandle(forWritingAtPath: input) {
                handle.write(Data(bytes))
                try? handle.close()
            }
            done.signal()
        }
        Thread.detachNewThread {
            if let handle = FileHandle(forReadingAtPath: output) { received = [UInt8](handle.readDataToEndOfFile()) }
            done.signal()
        }
        let result = try runSoftmax(["apply", "softmax", input, "--output", output])
        for _ in 0..<2 where done.wait(timeout: .now() + 30) == .timedOut {
            // The tool never opened a FIFO (or replaced one): unblock the helper and fail.
            for fifo in [input, output] {
                let fd = open(fifo, O_RDWR | O_NONBLOCK)
                if fd >= 0 { close(fd) }
            }
            Issue.record("a FIFO was not opened by the tool within 30 s")
        }
        #expect(result.status == 0, "\(result.stderr)")
        try expectSoftmax(received)
        #expect(lstatType(output) == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.url.path).sorted() == ["in.fifo", "out.fifo"])
    }

    @Test("a write error on a stream is one error line and a non-zero exit")
    func writeErrors() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = try tmp.write(try scores, "x.npy")
        // Standard output opened for reading only: every write fails (as /dev/full's do, with
        // another reason), without touching a device.
        let path = try tmp.writeBytes([], "read-only")
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        let result = try runSoftmax(["apply", "softmax", x, "--output", "-"], stdout: handle)
        #expect(result.status == 1)
        #expect(result.stderr == "error: cannot write standard output: bad file descriptor\n", "\(result.stderr)")
    }

    @Test("paths that are directories or missing say so, without Foundation error codes")
    func pathMessages() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let x = try tmp.write(try scores, "x.npy")
        let cases: [([String], String)] = [
            (["apply", "softmax", x, "--output", tmp.url.path], "cannot write '\(tmp.url.path)': is a directory"),
            (
                ["apply", "softmax", tmp.url.path, "--output", tmp.path("o.npy")],
                "cannot read '\(tmp.url.path)': is a directory"
            ),
            (["apply", "softmax", tmp.path("nope.npy"), "--output", tmp.path("o.npy")], "no such file or directory"),
            (
                ["apply", "softmax", x, "--output", tmp.path("none/o.npy")],
                "cannot write '\(tmp.path("none/o.npy"))': no such file or directory"
            ),
            (["apply", "softmax", x, "--output", x + "/o.npy"], "not a directory"),
        ]
        for (arguments, message) in cases {
            let result = try runSoftmax(arguments)
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(message), "\(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("error 5"))
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: tmp.path("o.npy")))
    }

    @Test("an output that is an input given as a class-weights file is refused")
    func classWeightsFileIsAnInput() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let weights = try tmp.write(try NPYArray(shape: [10], scalars: [Double](repeating: 1, count: 10)), "w.npy")
        let before = try Data(contentsOf: URL(fileURLWithPath: weights))
        let result = try runSoftmax(["train", "--epochs", "1", "--class-weights", weights, "--output", weights])
        #expect(result.status == 1 && result.stderr.contains("would overwrite the input"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: weights)) == before)
    }

    @Test("train --output - writes the model to standard output and its report to standard error")
    func modelToStandardOutput() throws {
        let result = try runSoftmax(["train", "--epochs", "1", "--no-progress", "--output", "-"])
        #expect(result.status == 0, "\(result.stderr)")
        let model = try JSONSerialization.jsonObject(with: Data(result.stdoutBytes)) as? [String: Any]
        #expect(model?["layers"] != nil)
        #expect(result.stderr.contains("model written to standard output"), "\(result.stderr)")
    }
}
