import Foundation
import Softmax
import SoftmaxLayers
import Testing

@testable import SoftmaxTraining

/// Settings errors name the `TrainingSettings` property (a front end words them with its own
/// names), and model-structure errors are `ModelError`, not `DataError`.
@Suite("Setting and model errors")
struct SettingAndModelErrorTests {
    @Test func everySettingRuleNamesItsProperty() {
        let cases: [((inout TrainingSettings) -> Void, String)] = [
            ({ $0.epochs = 0 }, "epochs 0: must be 1...100000"),
            ({ $0.epochs = 100_001 }, "epochs 100001: must be 1...100000"),
            ({ $0.batchSize = 0 }, "batchSize 0: must be at least 1"),
            ({ $0.learningRate = -1 }, "learningRate -1.0: must be positive"),
            ({ $0.learningRate = .nan }, "learningRate nan: must be positive"),
            ({ $0.momentum = 1 }, "momentum 1.0: must be in [0, 1)"),
            ({ $0.weightDecay = -1 }, "weightDecay -1.0: must be 0 or more"),
            ({ $0.labelSmoothing = 2 }, "labelSmoothing 2.0: must be in [0, 1]"),
            ({ $0.learningRateStepEpochs = 0 }, "learningRateStepEpochs 0: must be at least 1"),
            ({ $0.learningRateGamma = 0 }, "learningRateGamma 0.0: must be positive"),
            ({ $0.hidden = 65537 }, "hidden 65537: must be 1...65536"),
            ({ $0.patchSize = 2 }, "patchSize 2: must be odd, 1...15"),
            ({ $0.testSplit = 1 }, "testSplit 1.0: must be in [0, 1)"),
            ({ $0.classWeights = [1, -2] }, "classWeights: -2.0 is not a finite non-negative weight"),
        ]
        var named: Set<TrainingSettings.Setting> = []
        for (change, message) in cases {
            var settings = TrainingSettings()
            change(&settings)
            do {
                try settings.validate()
                Issue.record("accepted: \(message)")
            } catch let error as TrainingSettingError {
                #expect(error.description == message)
                #expect(error.description(naming: "--x").hasPrefix("--x"))
                named.insert(error.setting)
            } catch {
                Issue.record("\(message): unexpected \(error)")
            }
        }
        #expect(named == Set(TrainingSettings.Setting.allCases))
        #expect(throws: Never.self) { try TrainingSettings().validate() }
    }

    /// The trainer's settings check and the solver use the same rule: a value refused by one is
    /// refused by the other, and a value one accepts the other accepts.
    @Test func settingsAndSolverAgreeOnEveryValue() {
        let values: [Double] = [-1, -1e-300, 0, 1e-300, 0.5, 0.999_999, 1, 2, .infinity, -.infinity, .nan]
        for value in values {
            for (path, name) in [
                (\TrainingSettings.learningRate, "lr"), (\.momentum, "momentum"), (\.weightDecay, "decay"),
            ] {
                var settings = TrainingSettings()
                settings[keyPath: path] = value
                let settingsAccept = (try? settings.validate()) != nil
                let solverAccepts =
                    (try? SGDSolver(
                        parameters: [], learningRate: settings.learningRate, momentum: settings.momentum,
                        weightDecay: settings.weightDecay)) != nil
                #expect(settingsAccept == solverAccepts, "\(name) \(value)")
            }
        }
    }

    @Test func classWeightsOfTheWrongCountNameTheSetting() {
        let data = separableData(samples: 20, features: 2, classes: 4, seed: 1)
        var settings = TrainingSettings()
        settings.classWeights = [1, 2, 3]
        let expected = TrainingSettingError(.classWeights, .wrongCount(count: 3, expected: 4, unit: "classes"))
        #expect(throws: expected) {
            try Trainer(settings: settings).train(
                data, samples: Array(0..<20), testSet: nil, testSamples: [],
                data: DataDescription(kind: "t", samples: 20))
        }
        #expect(expected.description == "classWeights has 3 values for 4 classes")
        #expect(expected.description(naming: "--class-weights") == "--class-weights has 3 values for 4 classes")
    }

    @Test func bothAreUserInputErrors() {
        let errors: [any Error] = [
            TrainingSettingError(.momentum, .outOfRange(value: "1.0", requirement: "must be in [0, 1)")),
            ModelError.version(9),
        ]
        #expect(
            errors.map { ($0 as? any UserInputError)?.description } == [
                "momentum 1.0: must be in [0, 1)", "format version 9 is not supported (this tool reads 1)",
            ])
    }

    @Test func networkStructureErrorsAreModelErrors() throws {
        var generator = SplitMix64(seed: 1)
        let a = try InnerProductLayer(inputs: 3, outputs: 4, generator: &generator)
        let b = try InnerProductLayer(inputs: 5, outputs: 2, generator: &generator)
        #expect(throws: ModelError.layerCount(0)) { try Network(layers: []) }
        #expect(throws: ModelError.layerCount(3)) { try Network(layers: [a, a, a]) }
        #expect(throws: ModelError.layersDoNotChain(outputs: 4, inputs: 5)) { try Network(layers: [a, b]) }
        #expect(
            ModelError.layersDoNotChain(outputs: 4, inputs: 5).description
                == "layer sizes do not chain: 4 outputs feed 5 inputs")
    }

    @Test func modelValidationThrowsModelErrors() throws {
        let layer = SoftmaxModel.DenseLayer(
            inputs: 2, outputs: 3, weights: [Float](repeating: 0.5, count: 6), bias: [0, 0, 0])
        let good = SoftmaxModel(
            task: .classification, classNames: ["a", "b", "c"], inputCount: 2, inputMean: [0, 0], inputScale: [1, 1],
            patchSize: nil, layers: [layer])
        try good.validate()
        var bad = good
        bad.layers = [layer, layer]
        #expect(throws: ModelError.layersDoNotChain(outputs: 3, inputs: 2)) { try bad.validate() }
        bad = good
        bad.layers[0].bias = [0]
        #expect(throws: ModelError.layerParameters(inputs: 2, outputs: 3, weights: 6, biases: 1)) { try bad.validate() }
        bad = good
        bad.task = .segmentation
        #expect(throws: ModelError.missingPatchSize) { try bad.validate() }
        bad = good
        bad.layers[0].weights[2] = .nan
        #expect(throws: ModelError.nonFiniteParameters) { try bad.validate() }
        #expect(
            ModelError.inFile(path: "m.json", .layerCount(3)).description
                == "model 'm.json': 3 layers; a model has 1 or 2")
    }
}

/// The loader's request errors name the `DataRequest` properties.
@Suite("Data request errors")
struct DataRequestErrorTests {
    @Test func labelsWithoutDataNameTheProperty() {
        var request = DataRequest()
        request.labelsPath = "y.npy"
        #expect(throws: DataRequestError.labelsWithoutData) { try DataLoader.load(request) }
        #expect(DataRequestError.labelsWithoutData.description == "labelsPath needs a data file")
        #expect(
            DataRequestError.labelsForCSV.description(naming: { "<\($0.rawValue)>" })
                == "<labelsPath> is for .npy and IDX data; a CSV file holds its labels in <labelColumn>")
        #expect(
            DataRequestError.missingLabels(source: "x.npy", task: .segmentation).description
                == "x.npy: no masks (give them with labelsPath MASKS.npy)")
    }
}
