import Foundation
import Softmax
import Testing

@Suite("Outputs never overwrite inputs")
struct OutputPathTests {
    @Test func refusedAndInputKept() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let scores = dir.appendingPathComponent("s.npy").path
        let labels = dir.appendingPathComponent("t.npy").path
        try NPYArray(shape: [2, 3], scalars: [Float](repeating: 0.5, count: 6)).write(to: scores)
        try NPYArray(shape: [2], scalars: [Int64(0), 2]).write(to: labels)
        let before = try Data(contentsOf: URL(fileURLWithPath: scores))
        let cases: [([String], String)] = [
            (["apply", "softmax", scores, "--output", scores], "would overwrite the input"),
            (["apply", "softmax", scores, "--output", dir.path + "/./s.npy"], "would overwrite the input"),
            (["loss", scores, labels, "--grad-output", labels], "would overwrite the input"),
            (
                ["loss", scores, labels, "--grad-output", dir.path + "/g.npy", "--prob-output", dir.path + "/g.npy"],
                "is also the --grad-output file"
            ),
        ]
        for (arguments, fragment) in cases {
            let result = try runSoftmax(arguments)
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(fragment), "\(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: scores)) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/g.npy"))
    }
}
