import Foundation
import SoftmaxTraining
import Testing

/// The README's library example, so that it keeps compiling and working.
@Suite("README example")
struct ReadmeExampleTests {
    @Test func trainingFromSwift() throws {
        var settings = TrainingSettings()
        settings.hidden = 64
        settings.epochs = 3
        let data = try PreparedData(DataRequest(), test: nil, settings: settings, classNames: nil)
        var epochs = 0
        let result = try Trainer(settings: settings).train(
            data.dataset, samples: data.trainSamples, testSet: data.testSet, testSamples: data.testSamples,
            data: data.description
        ) { event in if case .epoch = event { epochs += 1 } }
        #expect(epochs == 3)
        #expect(result.test!.accuracy > 0.9)
        #expect(result.test!.confusion.counts.count == 10)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try result.model.write(to: path)
        let probabilities = try Predictor(model: result.model).probabilities(data.testSet)
        #expect(probabilities.count == data.testSet.samples * 10)
    }
}
