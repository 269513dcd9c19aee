import Foundation
import Softmax
import Testing

/// The library names settings (`learningRate`); `softmax train` names its flags.  Every setting
/// the library checks must come out under the flag that sets it, word for word as before the
/// library's errors became structured, with status 1.
@Suite("Setting errors under their flags")
struct SettingFlagMessageTests {
    @Test(arguments: [
        (["--epochs", "0"], "--epochs 0: must be 1...100000"),
        (["--batch-size", "0"], "--batch-size 0: must be at least 1"),
        (["--lr", "-1"], "--lr -1.0: must be positive"),
        (["--lr", "nan"], "--lr nan: must be positive"),
        (["--momentum", "1"], "--momentum 1.0: must be in [0, 1)"),
        (["--weight-decay", "-1"], "--weight-decay -1.0: must be 0 or more"),
        (["--label-smoothing", "2"], "--label-smoothing 2.0: must be in [0, 1]"),
        (["--lr-step", "0"], "--lr-step 0: must be at least 1"),
        (["--lr-gamma", "0"], "--lr-gamma 0.0: must be positive"),
        (["--hidden", "0"], "--hidden 0: must be 1...65536"),
        (["--patch", "2"], "--patch 2: must be odd, 1...15"),
        (["--test-split", "1"], "--test-split 1.0: must be in [0, 1)"),
        (["--class-weights", "1,-2"], "--class-weights: -2.0 is not a finite non-negative weight"),
        (["--class-weights", "1,2,3"], "--class-weights has 3 values for 10 classes"),
    ])
    func settingErrorsNameTheFlag(arguments: [String], message: String) throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let result = try runSoftmax(["train", "--no-progress", "-o", dir.path("m.json")] + arguments)
        #expect(result.status == 1)
        #expect(result.stderr == "error: \(message)\n")
        #expect(!FileManager.default.fileExists(atPath: dir.path("m.json")))
    }

    /// Data-request errors (labels where they cannot be used, or missing) name the data options.
    @Test func dataRequestErrorsNameTheOptions() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let features = try dir.write(NPYArray(shape: [4, 2], scalars: [Float](repeating: 1, count: 8)), "x.npy")
        let images = try dir.write(NPYArray(shape: [2, 1, 3, 3], scalars: [Float](repeating: 1, count: 18)), "i.npy")
        let csv = try dir.writeBytes(Array("a,b\n1,0\n2,1\n".utf8), "d.csv")
        let cases: [([String], String)] = [
            (["--labels", features], "--labels needs a data file"),
            (
                [csv, "--labels", features],
                "--labels is for .npy and IDX data; a CSV file holds its labels in --label-column"
            ),
            ([features], "\(features): no labels (give them with --labels LABELS.npy)"),
            (["--task", "segmentation", images], "\(images): no masks (give them with --labels MASKS.npy)"),
        ]
        for (arguments, message) in cases {
            let result = try runSoftmax(["train", "--no-progress", "-o", dir.path("m.json")] + arguments)
            #expect(result.status == 1 && result.stderr == "error: \(message)\n", "\(arguments): \(result.stderr)")
        }
    }
}
