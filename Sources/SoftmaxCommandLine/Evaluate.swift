import ArgumentParser
import Foundation
import SoftmaxTraining

/// `softmax evaluate MODEL [DATA] [options]`.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Accuracy, per-class precision/recall (and IoU) and the confusion matrix of a model on labelled data.",
        discussion: """
            Without DATA: the test samples the model was trained against (the same built-in set \
            or files and the same split, from the model's training record).

            Examples:
              softmax evaluate softmax-model.json
              softmax evaluate model.json test.csv --plot confusion.svg
            """)

    @Argument(help: "A model file written by 'softmax train'.")
    var model: String

    @Argument(help: "Labelled data (same formats as train); default: the model's own test samples.")
    var data: String?

    @OptionGroup var dataOptions: DataArguments

    @Option(
        name: .customLong("ignore-index"), parsing: .unconditional,
        help: "A label to ignore (default: the one the model was trained with).")
    var ignoreIndex: Int?

    @Option(help: "Write the confusion matrix as an SVG heat-map.")
    var plot: String?

    func run() throws {
        let report = try checkOutputs([("--plot", plot)], inputs: [model, data, dataOptions.labels].compactMap { $0 })
        let model = try SoftmaxModel(contentsOf: self.model)
        let predictor = try Predictor(model: model)
        var settings = model.training?.settings ?? TrainingSettings()
        settings.ignoreIndex = ignoreIndex ?? settings.ignoreIndex
        /// Every sample of `request`, with the model's classes.
        func everySample(of request: DataRequest, source: String) throws -> (Dataset, [Int]) {
            let loaded = try DataLoader.load(request)
            let set = try loaded.dataset(
                classNames: model.classNames, ignoreIndex: settings.ignoreIndex, source: source)
            return (set, Array(0..<set.samples))
        }
        let set: Dataset
        let samples: [Int]
        let source: String
        if let data {
            (set, samples) = try everySample(of: try dataOptions.request(path: data, task: model.task), source: data)
            source = inputName(data)
        } else {
            guard let record = model.training else {
                throw CommandLineError("the model has no training record; give the data to evaluate on")
            }
            let (request, test) = try PreparedData.requests(reproducing: record, task: model.task)
            source = "the model's test samples (\(test?.path ?? request.path ?? record.data.kind))"
            if let test {
                // A separate test set: the training data is not needed.
                (set, samples) = try everySample(of: test, source: test.path ?? source)
            } else {
                let prepared = try PreparedData(request, test: nil, settings: settings, classNames: model.classNames)
                (set, samples) = (prepared.testSet, prepared.testSamples)
            }
            guard !samples.isEmpty else {
                throw CommandLineError("the model was trained without test samples; give the data to evaluate on")
            }
        }
        try predictor.check(set, source: source)
        let evaluation = try predictor.evaluate(set, samples: samples, ignoreIndex: settings.ignoreIndex)
        report.line("\(source): \(samples.count) \(model.task == .segmentation ? "images" : "samples")")
        for line in evaluationReport(evaluation, classNames: model.classNames, task: model.task) { report.line(line) }
        if let plot {
            try writeText(
                confusionMatrixSVG(
                    evaluation.confusion.counts, classNames: model.classNames, title: "confusion matrix: \(source)"),
                to: plot)
            report.line("heat-map written to \(report.name(plot))")
        }
    }
}
