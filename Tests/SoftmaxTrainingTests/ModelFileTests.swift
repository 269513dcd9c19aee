import Foundation
import Softmax
import Testing

@testable import SoftmaxTraining

@Suite("Model files")
struct ModelFileTests {
    func trainedModel(hidden: Int?) throws -> (SoftmaxModel, Dataset) {
        let data = separableData(samples: 60, features: 3, classes: 3, seed: 2)
        var settings = TrainingSettings()
        settings.epochs = 2
        settings.hidden = hidden
        let result = try Trainer(settings: settings).train(
            data, samples: Array(0..<50), testSet: data, testSamples: Array(50..<60),
            data: DataDescription(kind: "npy", path: "x.npy", labelsPath: "y.npy", samples: 60))
        return (result.model, data)
    }

    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("softmax-model-\(UUID().uuidString)-\(name)").path
    }

    @Test(arguments: [nil, 7])
    func roundTripKeepsEveryBitAndEveryPrediction(hidden: Int?) throws {
        let (model, data) = try trainedModel(hidden: hidden)
        let path = temporaryPath("m.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.write(to: path)
        let loaded = try SoftmaxModel(contentsOf: path)
        #expect(loaded == model)
        #expect(loaded.layers.map(\.weights) == model.layers.map(\.weights))  // bit-exact floats through JSON
        let before = try Predictor(model: model).probabilities(data)
        let after = try Predictor(model: loaded).probabilities(data)
        #expect(before == after)
        #expect(loaded.training?.data.labelsPath == "y.npy" && loaded.training?.history.count == 2)
    }

    @Test func damagedFilesAreRejectedWithTheirReason() throws {
        let (model, _) = try trainedModel(hidden: nil)
        let path = temporaryPath("bad.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        func expectError(_ json: String, _ fragment: String) {
            do {
                try json.write(toFile: path, atomically: true, encoding: .utf8)
                _ = try SoftmaxModel(contentsOf: path)
                Issue.record("accepted: \(fragment)")
            } catch let error as ModelError {
                #expect(error.description.contains(fragment), "\(error.description)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        expectError("not json", "not a swift-softmax model file")
        expectError("{}", "missing")
        var wrong = model
        wrong.layers[0].weights.removeLast()
        expectError(String(decoding: try JSONEncoder().encode(wrong), as: UTF8.self), "weights")
        wrong = model
        wrong.classNames.append("extra")
        expectError(String(decoding: try JSONEncoder().encode(wrong), as: UTF8.self), "outputs for 4 classes")
        wrong = model
        wrong.version = 9
        expectError(String(decoding: try JSONEncoder().encode(wrong), as: UTF8.self), "version 9")
        wrong = model
        wrong.inputMean = [0]
        expectError(String(decoding: try JSONEncoder().encode(wrong), as: UTF8.self), "normalisation")
        let missing = temporaryPath("missing.json")
        #expect(throws: FileError(path: missing, operation: .read, reason: "no such file or directory")) {
            try SoftmaxModel(contentsOf: missing)
        }
    }

    @Test func writeIsAtomicAndReportsUnwritablePaths() throws {
        let (model, _) = try trainedModel(hidden: nil)
        #expect(
            throws: FileError(
                path: "/nonexistent-directory/m.json", operation: .write, reason: "no such file or directory")
        ) { try model.write(to: "/nonexistent-directory/m.json") }
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-directory/m.json"))
    }
}

@Suite("Data loading")
struct DataLoaderTests {
    @Test func classNamesSortNumericallyOrAlphabetically() {
        #expect(LoadedData.classNames(of: ["10", "2", "2", "1"]) == ["1", "2", "10"])
        #expect(LoadedData.classNames(of: ["b", "a", "10"]) == ["10", "a", "b"])
    }

    @Test func labelsMapToTheModelsClasses() throws {
        let loaded = LoadedData(
            task: .classification, samples: 3, inputCount: 1, values: [1, 2, 3], labelNames: ["cat", "dog", "cat"],
            description: DataDescription(kind: "csv", samples: 3))
        let own = try loaded.dataset(classNames: nil, ignoreIndex: nil, source: "t")
        #expect(own.classNames == ["cat", "dog"] && own.labels == [0, 1, 0])
        let model = try loaded.dataset(classNames: ["dog", "cat", "eel"], ignoreIndex: nil, source: "t")
        #expect(model.labels == [1, 0, 1])
        #expect(throws: DataError("t: unknown label 'dog' (sample 1); the model's classes are cat, eel")) {
            try loaded.dataset(classNames: ["cat", "eel"], ignoreIndex: nil, source: "t")
        }
    }

    @Test func masksOutsideTheClassesAreErrorsUnlessIgnored() throws {
        let loaded = LoadedData(
            task: .segmentation, samples: 1, inputCount: 1, height: 1, width: 3, values: [0, 0, 0], masks: [0, 255, 2],
            description: DataDescription(kind: "npy", samples: 1))
        let set = try loaded.dataset(classNames: nil, ignoreIndex: 255, source: "m")
        #expect(set.classNames == ["0", "1", "2"])
        #expect(throws: DataError.self) { try loaded.dataset(classNames: ["0", "1"], ignoreIndex: 255, source: "m") }
        #expect(throws: DataError.self) {
            try loaded.dataset(classNames: ["0", "1", "2"], ignoreIndex: nil, source: "m")
        }
    }

    @Test func formatsAreRecognisedByNameAndContent() {
        #expect(DataLoader.format(of: "a.csv.gz", bytes: []) == .csv)
        #expect(DataLoader.format(of: "train-images-idx3-ubyte.gz", bytes: []) == .idx)
        #expect(DataLoader.format(of: "x.npy", bytes: []) == .npy)
        #expect(DataLoader.format(of: "data", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) == .npy)
        #expect(DataLoader.format(of: "data", bytes: [0, 0, 0x08, 1]) == .idx)
        #expect(DataLoader.format(of: "data", bytes: Array("1,2\n".utf8)) == .csv)
    }

    @Test func patchRowsGatherTheNeighbourhood() {
        // One 1-channel 3×3 image with values 1…9; mean 0, scale 1; 3×3 patches, zero outside.
        let set = Dataset(
            task: .segmentation, samples: 1, inputCount: 1, height: 3, width: 3, values: (1...9).map(Float.init),
            labels: [Int32](repeating: 0, count: 9), classNames: ["a", "b"])
        let transform = InputTransform(mean: [0], scale: [1], patchSize: 3)
        let rows = transform.rows(of: set, samples: [0])
        #expect(rows.count == 9 * 9)
        #expect(Array(rows[0..<9]) == [0, 0, 0, 0, 1, 2, 0, 4, 5])  // pixel (0, 0)
        #expect(Array(rows[36..<45]) == (1...9).map(Float.init))  // the centre pixel sees everything
        let fitted = InputTransform(fitting: set, samples: [0], patchSize: 3)
        #expect(fitted.mean == [5])
        #expect(abs(fitted.scale[0] - Float(1 / (60.0 / 9).squareRoot())) < 1e-6)
    }
}
