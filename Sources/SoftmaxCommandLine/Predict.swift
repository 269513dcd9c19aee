import ArgumentParser
import Foundation
import Softmax
import SoftmaxTraining

/// `softmax predict MODEL DATA [--output FILE] [options]`.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Class probabilities of a model for new data.",
        discussion: """
            DATA holds features only, or features and a label column (CSV: the --label-column, \
            default last, is dropped when the file has one column more than the model's inputs). \
            --output FILE.npy writes float32 probabilities (N×K, or N×K×H×W for segmentation); \
            --output FILE.csv writes one row per sample: the predicted class, then one column per \
            class; --output - writes the .npy to standard output. Without --output the predicted \
            classes are printed, one per line.

            Examples:
              softmax predict softmax-model.json new.csv --output probs.csv
              softmax predict seg-model.json images.npy --output probs.npy --mask-output mask.png
            """)

    @Argument(help: "A model file written by 'softmax train'.")
    var model: String

    @Argument(help: "Data to classify (CSV, .npy or IDX, optionally .gz).")
    var data: String

    @OptionGroup var dataOptions: DataArguments

    @Option(name: [.short, .long], help: "Write probabilities to FILE.npy or FILE.csv.")
    var output: String?

    @Option(
        name: .customLong("mask-output"),
        help: "Segmentation: write the first image and its predicted mask side by side as PNG.")
    var maskOutput: String?

    func run() throws {
        let report = try checkOutputs(
            [("--output", output), ("--mask-output", maskOutput)],
            inputs: [model, data, dataOptions.labels].compactMap { $0 })
        // `-` (standard output) and devices take .npy, the binary form every other command writes.
        let csvOutput = output?.hasSuffix(".csv") ?? false
        if let output, !(output.hasSuffix(".npy") || csvOutput || FileIO.fileIdentity(output) == nil) {
            throw CommandLineError("--output '\(output)': the name must end in .npy or .csv")
        }
        let model = try SoftmaxModel(contentsOf: self.model)
        if model.task != .segmentation && maskOutput != nil {
            throw CommandLineError("--mask-output is for segmentation models")
        }
        if model.task == .segmentation, let output, csvOutput {
            throw CommandLineError("--output '\(output)': segmentation probabilities are written as .npy")
        }
        let predictor = try Predictor(model: model)
        var request = try dataOptions.request(path: data, task: model.task)
        var loaded = try DataLoader.load(request)
        if model.task == .classification && loaded.inputCount == model.inputCount - 1 && loaded.labelNames != nil {
            // The "label" column was a feature: the file has exactly the model's inputs.
            request.labelColumn = .none
            loaded = try DataLoader.load(request)
        }
        let set = Dataset(
            task: loaded.task, samples: loaded.samples, inputCount: loaded.inputCount, height: loaded.height,
            width: loaded.width, values: loaded.values, labels: [], classNames: model.classNames)
        try predictor.check(set, source: data)
        let classes = model.classNames.count
        let shape =
            model.task == .segmentation ? [set.samples, classes, set.height, set.width] : [set.samples, classes]
        let (predicted, computed) = try predictor.predictions(set, withProbabilities: output != nil)
        if let output, let probabilities = computed {
            if !csvOutput {
                try NDArray(shape: shape, scalars: probabilities).write(to: output)
            } else {
                var text = (["predicted"] + model.classNames).map(csvField).joined(separator: ",") + "\n"
                for n in 0..<set.samples {
                    text += csvField(model.classNames[Int(predicted[n])])
                    for k in 0..<classes { text += "," + String(probabilities[n * classes + k]) }
                    text += "\n"
                }
                try writeText(text, to: output)
            }
            report.line(
                "probabilities of \(set.samples) \(model.task == .segmentation ? "images" : "samples") written to \(report.name(output))"
            )
        } else if model.task == .classification {
            for n in 0..<set.samples { report.line(model.classNames[Int(predicted[n])]) }
        }
        if let maskOutput {
            let mask = Array(predicted[0..<(set.height * set.width)])
            try writeAtomically(try segmentationPanelPNG(set, sample: 0, predicted: mask, truth: nil), to: maskOutput)
            report.line("image 0 and its predicted mask written to \(report.name(maskOutput))")
        }
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
