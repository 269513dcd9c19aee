import ArgumentParser
import Softmax

/// `softmax loss SCORES TARGETS [options]`.
struct Loss: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cross-entropy (softmax + negative log-likelihood) of scores against targets.",
        discussion: """
            TARGETS holds either class indices, with the shape of SCORES without the class axis \
            (any integer type, or floats holding whole numbers), or probabilities, with the shape \
            of SCORES. The reduced loss is printed on standard output (for --reduction none, one \
            loss per line). Gradients include --loss-weight; the printed loss does not.

            Reductions: none (per-position), sum, mean (over the weights of non-ignored \
            positions; Caffe VALID), full (over all positions; Caffe FULL), batch-size (over \
            the dimensions before the class axis; Caffe BATCH_SIZE).

            Example: softmax loss logits.npy labels.npy --ignore-index 255 --grad-output grad.npy
            """)

    @Argument(help: "Scores: logits (or log-probabilities with --input log-probabilities), float .npy.")
    var scores: String

    @Argument(help: "Targets: class indices or probabilities (.npy).")
    var targets: String

    @Option(parsing: .unconditional, help: "The class axis (default: 1, or 0 for 1-D scores).")
    var axis: Int?

    @Option(help: "none, sum, mean, full or batch-size.")
    var reduction: LossReduction = .mean

    @Option(
        name: .customLong("ignore-index"), parsing: .unconditional,
        help: "A class index to ignore, which may lie outside 0..<C (PyTorch's default: -100).")
    var ignoreIndex: Int = -100

    @Option(help: "A .npy file with one weight per class.")
    var weights: String?

    @Option(name: .customLong("label-smoothing"), parsing: .unconditional, help: "Label smoothing in [0, 1].")
    var labelSmoothing: Double = 0

    @Option(
        name: .customLong("loss-weight"), parsing: .unconditional, help: "Scales the gradient (Caffe's loss_weight).")
    var lossWeight: Double = 1

    @Option(help: "What the scores are: logits or log-probabilities.")
    var input: ScoreKind = .logits

    @OptionGroup var transform: LogitTransformArguments

    @Option(name: .customLong("loss-output"), help: "Write the loss (.npy: 0-d, or per position for none).")
    var lossOutput: String?

    @Option(name: .customLong("z-loss-output"), help: "Write the z-loss alone (.npy, shaped as the loss).")
    var zLossOutput: String?

    @Option(name: .customLong("grad-output"), help: "Write the gradient with respect to the scores (.npy).")
    var gradOutput: String?

    @Option(name: .customLong("prob-output"), help: "Write the softmax probabilities (.npy).")
    var probOutput: String?

    @Option(name: .customLong("log-prob-output"), help: "Write the log-probabilities (.npy).")
    var logProbOutput: String?

    func run() throws {
        let (text, report) = try execute()
        report.write(text)
    }

    /// Runs the loss, writes the requested files, and returns the text to print and where it
    /// goes (standard error when an output is standard output).
    func execute() throws -> (text: String, report: Report) {
        let report = try checkOutputs(
            [
                ("--loss-output", lossOutput), ("--z-loss-output", zLossOutput), ("--grad-output", gradOutput),
                ("--prob-output", probOutput), ("--log-prob-output", logProbOutput),
            ], inputs: [scores, targets] + (weights.map { [$0] } ?? []))
        let scoreArray = try NPYArray.readFloats(scores, "scores")
        let targetArray = try NPYArray(contentsOf: targets)
        var options = transform.applied(
            to: CrossEntropyOptions(
                axis: axis, reduction: reduction, ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing,
                lossWeight: lossWeight, input: input))
        if let weights { options.classWeights = try Self.classWeights(from: weights) }
        // Sizes checked before anything is allocated.  Per-position losses (`none`) of an empty
        // class axis can be far more than the inputs (and are printed, a line each).
        let classAxis = options.resolvedAxis(rank: scoreArray.shape.count)
        let layout = try Layout(shape: scoreArray.shape, axis: classAxis)
        let lossBytes =
            reduction == .none ? ResourceLimits.bytes(count: layout.positions, size: scoreArray.dataType.itemSize) : 0
        try ResourceLimits.checkProportion(
            output: lossBytes, input: ResourceLimits.bytes(adding: scoreArray.bytes.count, targetArray.bytes.count),
            for: "the per-position losses of shape \(SoftmaxError.shapeText(scoreArray.shape)) along axis \(classAxis)")
        // The scores' file bytes and typed copy, the targets (probabilities are converted
        // through Double), each full-size output with its encoded bytes, and the losses with
        // their encoded bytes and printed lines.
        let outputs = [gradOutput, probOutput, logProbOutput].compactMap { $0 }.count
        let working = ResourceLimits.bytes(count: scoreArray.bytes.count, size: 2 + 2 * outputs)
        let targetsWorking = ResourceLimits.bytes(count: targetArray.count, size: 8 + targetArray.dataType.itemSize)
        let lossWorking = ResourceLimits.bytes(
            count: layout.positions, size: reduction == .none ? (zLossOutput == nil ? 48 : 64) : 0)
        try ResourceLimits.check(
            ResourceLimits.bytes(adding: working, targetsWorking, lossWorking), for: "the loss of '\(scores)'")
        let text = try withFloatType(scoreArray.dataType) { try run($0, scoreArray, targetArray, options) }
        return (text, report)
    }

    private func run<T: SoftmaxScalar & NPYElement>(
        _: T.Type, _ scoreArray: NPYArray, _ targetArray: NPYArray, _ options: CrossEntropyOptions
    ) throws -> String {
        let x = try NDArray(shape: scoreArray.shape, scalars: scoreArray.scalars(as: T.self))
        let axis = try Layout.normalizedAxis(options.resolvedAxis(rank: x.rank), rank: x.rank)
        var wanted: CrossEntropyOutputSet = []
        if gradOutput != nil { wanted.insert(.gradient) }
        if probOutput != nil { wanted.insert(.probabilities) }
        if logProbOutput != nil { wanted.insert(.logProbabilities) }
        if reduction == .none { wanted.insert(.losses) }
        if reduction == .none && zLossOutput != nil { wanted.insert(.zLosses) }

        let result: CrossEntropyResult<T>
        if targetArray.dataType.isFloatingPoint && targetArray.shape == x.shape {
            let q = try NDArray(shape: targetArray.shape, scalars: targetArray.doubles().map { T($0) })
            result = try crossEntropy(x, probabilities: q, options: options, outputs: wanted)
        } else {
            var indexShape = x.shape
            indexShape.remove(at: axis)
            guard targetArray.shape == indexShape else {
                throw CommandLineError(
                    "targets '\(targets)' have shape \(SoftmaxError.shapeText(targetArray.shape)); class indices need "
                        + "\(SoftmaxError.shapeText(indexShape)) and probabilities \(SoftmaxError.shapeText(x.shape)) (class axis \(axis))"
                )
            }
            result = try classIndexLoss(x, targetArray, options, wanted)
        }

        if let path = gradOutput { try result.gradient?.write(to: path) }
        if let path = probOutput { try result.probabilities?.write(to: path) }
        if let path = logProbOutput { try result.logProbabilities?.write(to: path) }
        return try writeLosses(
            loss: result.loss, zLoss: result.zLoss, losses: result.losses, zLosses: result.zLosses,
            lossOutput: lossOutput, zLossOutput: zLossOutput)
    }

    /// The loss with the targets read as their own label type (no conversion).
    private func classIndexLoss<T: SoftmaxScalar>(
        _ x: NDArray<T>, _ array: NPYArray, _ options: CrossEntropyOptions, _ wanted: CrossEntropyOutputSet
    ) throws -> CrossEntropyResult<T> {
        func typed<L: ClassLabel & NPYElement>(_: L.Type) throws -> CrossEntropyResult<T> {
            let labels = try NDArray(shape: array.shape, scalars: array.scalars(as: L.self))
            return try crossEntropy(x, classIndices: labels, options: options, outputs: wanted)
        }
        guard let labelType = array.dataType.classLabelType else {
            throw CommandLineError("\(array.dataType.rawValue) labels are not supported on this platform")
        }
        return try typed(labelType)
    }
}

/// Writes the loss and z-loss files of `loss` and `linear-loss` and returns the text to print:
/// per position (`losses` given, the `none` reduction) or the reduced loss.
func writeLosses<T: SoftmaxScalar & NPYElement>(
    loss: Double, zLoss: Double, losses: NDArray<T>?, zLosses: NDArray<T>?, lossOutput: String?, zLossOutput: String?
) throws -> String {
    if let losses {
        if let path = lossOutput { try losses.write(to: path) }
        if let path = zLossOutput {
            try (zLosses ?? NDArray(shape: losses.shape, scalars: [T](repeating: 0, count: losses.count)))
                .write(to: path)
        }
        return losses.scalars.map { "\($0)\n" }.joined()
    }
    if let path = lossOutput { try NPYArray(shape: [], scalars: [T(loss)]).write(to: path) }
    if let path = zLossOutput { try NPYArray(shape: [], scalars: [T(zLoss)]).write(to: path) }
    return "\(T(loss))\n"
}

extension Loss {
    /// The class weights in the 1-D `.npy` file at `path`.
    static func classWeights(from path: String) throws -> [Double] {
        let w = try NPYArray(contentsOf: path)
        guard w.shape.count == 1 else {
            throw CommandLineError("weights '\(path)' must be 1-D (one weight per class), got shape \(w.shape)")
        }
        return w.doubles()
    }
}

extension LossReduction: ExpressibleByArgument {}
extension ScoreKind: ExpressibleByArgument {}
