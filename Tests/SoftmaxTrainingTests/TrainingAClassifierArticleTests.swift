import Foundation
import SoftmaxTestSupport
import SoftmaxTraining
import Testing

/// The code of `TrainingAClassifier.md` (SoftmaxTraining's DocC catalog), region by region,
/// each followed by checks against figures worked out here: the stratified split counted by
/// class, the model's probabilities recomputed in Double from its parameters (standardise,
/// inner product, ReLU, inner product, softmax), the mean cross-entropy and the metrics
/// counted from those, and pixel accuracy and IoU counted from the predicted masks.
@Suite("Training a classifier article")
struct TrainingAClassifierArticleTests {
    @Test func digits() throws {
        // docs: TrainingAClassifier.md
        var settings = TrainingSettings()  // the defaults of `softmax train`
        settings.hidden = 32
        settings.epochs = 5
        let data = try PreparedData(DataRequest(), test: nil, settings: settings, classNames: nil)
        print(data.dataset.samples, data.dataset.inputCount)  // 1797 samples of 64 pixels
        print(data.dataset.classNames)  // ["0", "1", …, "9"]
        print(data.trainSamples.count, data.testSamples.count)  // 80 % and 20 % of each class
        // docs: end
        #expect(data.dataset.samples == 1797 && data.dataset.inputCount == 64)
        #expect(data.dataset.classNames == (0...9).map(String.init))
        #expect(Set(data.trainSamples).isDisjoint(with: data.testSamples))
        #expect(data.trainSamples.count + data.testSamples.count == 1797)
        for k in 0..<10 {
            let ofClass = (0..<1797).filter { data.dataset.labels[$0] == k }
            let held = data.testSamples.filter { data.dataset.labels[$0] == k }.count
            #expect(held == Int((Double(ofClass.count) * 0.2).rounded()), "class \(k)")
        }

        // docs: TrainingAClassifier.md
        let result = try Trainer(settings: settings).train(
            data.dataset, samples: data.trainSamples, testSet: data.testSet, testSamples: data.testSamples,
            data: data.description
        ) { event in
            if case .epoch(let record) = event {
                print(record.epoch, record.trainLoss, record.testAccuracy ?? 0)
            }
        }
        print(result.test!.accuracy)  // the fraction of held-out digits recognised
        // docs: end
        let model = result.model
        let history = try #require(model.training?.history)
        #expect(history.map(\.epoch) == [1, 2, 3, 4, 5])
        #expect(history.last!.trainLoss < history.first!.trainLoss)
        #expect(model.layers.map(\.outputs) == [32, 10] && model.inputCount == 64)
        let test = try #require(result.test)
        #expect(test.confusion.total == data.testSamples.count)
        // The model recomputed by hand: its test accuracy and mean loss.
        let reference = data.testSamples.map { probabilitiesByHand(model, data.dataset, sample: $0) }
        let truth = data.testSamples.map { Int(data.dataset.labels[$0]) }
        let correct = zip(reference, truth).filter { argmax($0) == $1 }.count
        #expect(abs(test.accuracy - Double(correct) / Double(truth.count)) <= 1.0 / Double(truth.count))
        #expect(test.accuracy > 0.9, "a 64-32-10 network recognises the digits")
        #expect(history.last!.testAccuracy == test.accuracy)

        // docs: TrainingAClassifier.md
        let predictor = try Predictor(model: result.model)
        let evaluation = try predictor.evaluate(data.testSet, samples: data.testSamples, ignoreIndex: nil)
        print(evaluation.loss, evaluation.accuracy)  // the mean cross-entropy and the accuracy
        for k in 0..<10 {
            print(k, evaluation.confusion.precision(k) ?? 0, evaluation.confusion.recall(k) ?? 0)
        }
        // docs: end
        let meanLoss = zip(reference, truth).map { -log($0[$1]) }.reduce(0, +) / Double(truth.count)
        #expect(Tolerance(rtol: 1e-4, atol: 1e-6).accepts(evaluation.loss, meanLoss))
        #expect(evaluation.accuracy == test.accuracy)
        let predicted = try predictor.predictedClasses(data.testSet.subset(data.testSamples)).map(Int.init)
        for k in 0..<10 {
            let hits = zip(predicted, truth).filter { $0 == k && $1 == k }.count
            let predictedK = predicted.filter { $0 == k }.count
            let actualK = truth.filter { $0 == k }.count
            #expect(evaluation.confusion.precision(k) == (predictedK == 0 ? nil : Double(hits) / Double(predictedK)))
            #expect(evaluation.confusion.recall(k) == Double(hits) / Double(actualK))
        }

        // docs: TrainingAClassifier.md
        let probabilities = try predictor.probabilities(data.testSet)  // samples × 10, row by row
        let classes = try predictor.predictedClasses(data.testSet)  // the most probable class of each
        print(classes[0], probabilities[0..<10])
        // docs: end
        #expect(probabilities.count == 1797 * 10 && classes.count == 1797)
        for n in stride(from: 0, to: 1797, by: 7) {
            let row = probabilities[(10 * n)..<(10 * n + 10)]
            let want = probabilitiesByHand(model, data.dataset, sample: n)
            #expect(abs(row.reduce(0, +) - 1) < 1e-5)
            #expect(zip(row, want).allSatisfy { Tolerance(rtol: 1e-4, atol: 1e-6).accepts(Double($0), $1) }, "\(n)")
            let sorted = want.sorted()
            if sorted[9] - sorted[8] > 1e-4 { #expect(Int(classes[n]) == argmax(want), "sample \(n)") }
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("article-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // docs: TrainingAClassifier.md
        let path = directory.appendingPathComponent("digits-model.json").path
        try result.model.write(to: path)
        let reloaded = try SoftmaxModel(contentsOf: path)
        print(reloaded == result.model, reloaded.training!.history.count)  // true 5
        // docs: end
        #expect(reloaded == model)
        #expect(reloaded.training?.settings == settings)
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        #expect(json?["format"] as? String == "swift-softmax-model")
        #expect(try Predictor(model: reloaded).probabilities(data.testSet) == probabilities)
    }

    @Test func segmentation() throws {
        // docs: TrainingAClassifier.md
        var shapeSettings = TrainingSettings()
        shapeSettings.ignoreIndex = 255  // the generated masks mark object boundaries 255
        shapeSettings.epochs = 10
        var request = DataRequest(task: .segmentation)  // generated images of disks and squares
        request.generatedCount = 60
        request.generatedSide = 16
        let shapes = try PreparedData(request, test: nil, settings: shapeSettings, classNames: nil)
        let segmenter = try Trainer(settings: shapeSettings).train(
            shapes.dataset, samples: shapes.trainSamples, testSet: shapes.testSet, testSamples: shapes.testSamples,
            data: shapes.description)
        let confusion = segmenter.test!.confusion
        print(confusion.accuracy, confusion.meanIntersectionOverUnion)  // pixel accuracy, mean IoU
        let mask = try Predictor(model: segmenter.model).predictedMask(shapes.testSet, sample: shapes.testSamples[0])
        print(mask.count)  // 16 × 16 class indices, row by row
        // docs: end
        #expect(shapes.dataset.classNames == ["background", "disk", "square"])
        #expect(mask.count == 256)
        #expect(segmenter.model.patchSize == 3 && segmenter.model.task == .segmentation)
        // Pixel accuracy and IoU counted from the predicted masks, boundary pixels left out.
        let predictor = try Predictor(model: segmenter.model)
        var (correct, counted) = (0, 0)
        var (intersection, truthCount, predictedCount) = ([0, 0, 0], [0, 0, 0], [0, 0, 0])
        for sample in shapes.testSamples {
            let predicted = try predictor.predictedMask(shapes.testSet, sample: sample)
            let truth = shapes.testSet.labels[(sample * 256)..<((sample + 1) * 256)]
            for (p, t) in zip(predicted, truth) where t != 255 {
                counted += 1
                truthCount[Int(t)] += 1
                predictedCount[Int(p)] += 1
                if p == t {
                    correct += 1
                    intersection[Int(t)] += 1
                }
            }
        }
        #expect(confusion.total == counted)
        #expect(confusion.accuracy == Double(correct) / Double(counted))
        let ious = (0..<3).compactMap { k -> Double? in
            let union = truthCount[k] + predictedCount[k] - intersection[k]
            return union == 0 ? nil : Double(intersection[k]) / Double(union)
        }
        #expect(abs(confusion.meanIntersectionOverUnion - ious.reduce(0, +) / Double(ious.count)) < 1e-12)
        let background = Double(truthCount[0]) / Double(counted)
        #expect(confusion.accuracy > background, "better than calling every pixel background (\(background))")
    }
}

/// The model's class probabilities for one sample of a classification set, in Double:
/// standardise, then each inner-product layer (ReLU between them), then softmax.
private func probabilitiesByHand(_ model: SoftmaxModel, _ dataset: Dataset, sample n: Int) -> [Double] {
    var x = (0..<model.inputCount).map { i in
        (Double(dataset.values[n * model.inputCount + i]) - Double(model.inputMean[i])) * Double(model.inputScale[i])
    }
    for (index, layer) in model.layers.enumerated() {
        var y: [Double] = []
        for o in 0..<layer.outputs {
            var sum = Double(layer.bias[o])
            for i in 0..<layer.inputs { sum += Double(layer.weights[o * layer.inputs + i]) * x[i] }
            y.append(index < model.layers.count - 1 ? max(sum, 0) : sum)
        }
        x = y
    }
    let m = x.max()!
    let lse = m + log(x.map { exp($0 - m) }.reduce(0, +))
    return x.map { exp($0 - lse) }
}

/// The index of the largest value (the first on ties).
private func argmax(_ values: [Double]) -> Int {
    values.indices.reduce(0) { values[$1] > values[$0] ? $1 : $0 }
}
