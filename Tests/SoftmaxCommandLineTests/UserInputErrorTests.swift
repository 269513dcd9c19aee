import Foundation
import Softmax
import SoftmaxLayers
import SoftmaxTraining
import Testing

@testable import SoftmaxCommandLine

// Every error bad input can cause is a `UserInputError`, which the command line reports with
// one `catch`: a type that lost its conformance would reach ArgumentParser's generic handler.
@Suite("One error protocol for bad input")
struct UserInputErrorTests {
    @Test("each package error type is a UserInputError whose description is the error line")
    func everyTypeConforms() {
        let errors: [any Error] = [
            SoftmaxError.axisOutOfRange(axis: 3, rank: 2),
            NPYError.notNPY,
            FileError(path: "x", operation: .read, reason: "is a directory"),
            LayerError.cannotBackpropagateToLabels,
            DataError("bad.csv line 2: 'x' is not a number"),
            TrainingDiverged(epoch: 2, loss: .infinity, learningRate: 10),
            TrainingSettingError(.epochs, .outOfRange(value: "0", requirement: "must be 1...100000")),
            DataRequestError.labelsWithoutData,
            ModelError.nonFiniteParameters,
            CommandLineError("--output: nope"),
        ]
        for error in errors {
            let userError = error as? any UserInputError
            #expect(userError != nil, "\(type(of: error)) is not a UserInputError")
            #expect(userError.map { !$0.description.isEmpty && !$0.description.contains("\n") } == true)
        }
        #expect(
            TrainingDiverged(epoch: 2, loss: -.nan, learningRate: 10).description
                == "training diverged at epoch 2 (loss nan): lower the learning rate (10.0)")
    }

    @Test("the command line prints each as one error line with status 1")
    func reportedOnce() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let text = try tmp.writeBytes(Array("not an array".utf8), "t.npy")
        let cases: [([String], String)] = [
            (["apply", "softmax", text, "--output", tmp.path("o.npy")], "error: not a NumPy .npy file"),
            (["apply", "softmax", tmp.url.path, "--output", tmp.path("o.npy")], "error: cannot read"),
            (["train", text], "error: "),
        ]
        for (arguments, prefix) in cases {
            let result = try runSoftmax(arguments)
            #expect(result.status == 1 && result.stderr.hasPrefix(prefix), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
    }
}
