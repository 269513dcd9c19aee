import ArgumentParser
import Foundation
import Softmax
import SoftmaxTraining

extension SoftmaxModel.Task: ExpressibleByArgument {}

/// The data arguments shared by `train`, `evaluate` and `predict`.
struct DataArguments: ParsableArguments {
    @Option(help: "Labels for .npy or IDX data (.npy or IDX, optionally .gz); masks (N×H×W) for segmentation.")
    var labels: String?

    @Option(
        name: .customLong("label-column"),
        help: "CSV: the label column: last, first, none, a 0-based index (negative from the end) or a header name.")
    var labelColumn: String = "last"

    @Option(help: "CSV: whether the first line is a header: auto, yes or no.")
    var header: String = "auto"

    /// The request for `path` (or the built-in data when `nil`).
    func request(path: String?, task: SoftmaxModel.Task) throws -> DataRequest {
        guard let mode = HeaderMode(argument: header) else {
            throw CommandLineError("--header '\(header)': expected auto, yes or no")
        }
        var request = DataRequest(task: task)
        request.path = path
        request.labelsPath = labels
        request.labelColumn = LabelColumn(argument: labelColumn)
        request.header = mode
        return request
    }
}

extension DataRequestError.Setting {
    /// The data option that sets it: how the tool names the setting in errors (the library
    /// names the property).
    var flag: String {
        switch self {
        case .labelsPath: "--labels"
        case .labelColumn: "--label-column"
        }
    }
}

/// Writes progress to standard error: a bar redrawn in place on a terminal, nothing otherwise
/// (the per-epoch lines on standard output carry the same information).
struct ProgressBar {
    let enabled: Bool
    let width = 30

    init(enabled: Bool = isatty(STDERR_FILENO) == 1) { self.enabled = enabled }

    func show(epoch: Int, of epochs: Int, done: Int, total: Int) {
        guard enabled, done == total || done % Swift.max(1, total / 50) == 0 else { return }
        let filled = total == 0 ? width : done * width / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[2Kepoch \(epoch)/\(epochs) \(bar) \(done)/\(total)".utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}

/// `0.9667` → `96.67%`.
func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }

/// Whether a `--class-weights` argument names a `.npy` file rather than listing numbers.
func namesClassWeightsFile(_ argument: String) -> Bool {
    argument.hasSuffix(".npy") || argument.hasSuffix(".npy.gz")
}

/// Parses `--class-weights`: comma-separated numbers, or a `.npy` file of them.
func parseClassWeights(_ argument: String) throws -> [Double] {
    if namesClassWeightsFile(argument) {
        return try NPYArray(npyBytes: readDataFile(argument)).doubles()
    }
    let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
    return try parts.map {
        guard let value = Double($0.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            throw CommandLineError("--class-weights: '\($0)' is not a number (give w0,w1,… or a .npy file)")
        }
        return value
    }
}

/// The evaluation figures as text: accuracy, then one line per class, then the confusion matrix.
func evaluationReport(_ evaluation: Evaluation, classNames: [String], task: SoftmaxModel.Task) -> [String] {
    let confusion = evaluation.confusion
    var lines: [String] = []
    let what = task == .segmentation ? "pixels" : "samples"
    lines.append(
        "\(task == .segmentation ? "pixel accuracy" : "accuracy") \(percent(confusion.accuracy)) "
            + "(\(confusion.correct) of \(confusion.total) \(what)), loss \(String(format: "%.4f", evaluation.loss))"
            + (task == .segmentation ? ", mean IoU \(String(format: "%.4f", confusion.meanIntersectionOverUnion))" : "")
    )
    let nameWidth = Swift.max(5, classNames.map(\.count).max() ?? 0)
    func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: Swift.max(0, n - s.count)) + s }
    func figure(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
    lines.append(
        pad("class", nameWidth) + "  precision     recall" + (task == .segmentation ? "        IoU" : "")
            + "    support")
    for (k, name) in classNames.enumerated() {
        lines.append(
            pad(name, nameWidth) + pad(figure(confusion.precision(k)), 11) + pad(figure(confusion.recall(k)), 11)
                + (task == .segmentation ? pad(figure(confusion.intersectionOverUnion(k)), 11) : "")
                + pad(String(confusion.support(k)), 11))
    }
    lines.append("confusion matrix (rows: true class, columns: predicted):")
    let cell = Swift.max(
        5, String(confusion.counts.flatMap { $0 }.max() ?? 0).count + 1, (classNames.map(\.count).max() ?? 0) + 1)
    lines.append(pad("", nameWidth) + classNames.map { pad($0, cell) }.joined())
    for (k, name) in classNames.enumerated() {
        lines.append(pad(name, nameWidth) + confusion.counts[k].map { pad(String($0), cell) }.joined())
    }
    return lines
}
