import Foundation
import Testing

@testable import SoftmaxFuzzing

/// Replays the kept fuzz corpus and crash reproducers (`Corpus/<target>/`) through the entry
/// points the libFuzzer targets run, so every input that once found a bug or new coverage runs
/// in plain `swift test`, without sanitizers.  A broken invariant fails the replay of its
/// target, naming the file, and the run goes on (the fuzz targets crash on it instead).
@Suite("Fuzz corpus replay")
struct CorpusReplayTests {
    /// The fuzz targets, by corpus folder name.
    static let targetNames = ["npy", "loss", "csv", "idx", "model", "linear-loss"]

    /// The entry point the fuzz target `name` runs.
    static func entryPoint(_ name: String) -> (([UInt8]) throws -> Void)? {
        switch name {
        case "npy": FuzzEntryPoints.npy
        case "loss": FuzzEntryPoints.loss
        case "csv": FuzzEntryPoints.csv
        case "idx": FuzzEntryPoints.idx
        case "model": FuzzEntryPoints.model
        case "linear-loss": FuzzEntryPoints.linearLoss
        default: nil
        }
    }

    /// The files of `Corpus/<target>/`, `.keep` and other hidden files left out, sorted.
    static func corpus(_ target: String) throws -> [URL] {
        let folder = try #require(Bundle.module.resourceURL?.appendingPathComponent("Corpus/\(target)"))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test(
        "every kept input runs without violating an invariant",
        arguments: ["npy", "loss", "csv", "idx", "model", "linear-loss"])
    func replay(target: String) throws {
        let run = try #require(Self.entryPoint(target))
        let files = try Self.corpus(target)
        #expect(!files.isEmpty, "Corpus/\(target) is empty: the replay would pass vacuously")
        var bytes = 0
        for file in files {
            let data = try [UInt8](Data(contentsOf: file))
            bytes += data.count
            do { try run(data) } catch {
                Issue.record("Corpus/\(target)/\(file.lastPathComponent): \(error)")
            }
        }
        print("Corpus/\(target): replayed \(files.count) inputs, \(bytes) bytes")
    }

    @Test("crash reproducers are kept under the expected names")
    func reproducerNames() throws {
        for target in Self.targetNames {
            for file in try Self.corpus(target) where file.lastPathComponent.hasPrefix("crash") {
                #expect(file.lastPathComponent.hasPrefix("crash-"), "\(file.lastPathComponent)")
            }
        }
    }

    @Test("short and empty inputs are swallowed")
    func shortInputs() throws {
        for run in Self.targetNames.compactMap(Self.entryPoint) {
            try run([])
            try run([0])
            try run([0xFF, 0xFF, 0xFF])
        }
    }

    @Test("the loss decoder covers every label type and probability targets")
    func lossDecoderKinds() throws {
        // Bytes: Float, rank 2, shape [2, 3], default axis, reduction none, no ignore index, no
        // weights, no smoothing, loss weight 1, logits; byte 11 chooses the target kind, walked
        // here through all eight; then no wrong buffer, delta, every output; 6 scores, 2 labels.
        for kind in UInt8(0)..<8 {
            var bytes: [UInt8] = [0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, kind, 6, 0, 0x0F]
            bytes += [4, 8, 12, 0, 1, 2, 1, 2]
            try FuzzEntryPoints.loss(bytes)
        }
    }
}
