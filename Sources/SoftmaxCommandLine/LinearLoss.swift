import ArgumentParser
import Softmax

/// `softmax linear-loss HIDDEN WEIGHT TARGETS [options]`.
struct LinearLoss: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear-loss",
        abstract:
            "Cross-entropy of a linear layer's logits (a language-model head), fused: the logits never exist in full.",
        discussion: """
            The loss of logits = HIDDEN · WEIGHTᵀ + BIAS against class indices, exactly as \
            `softmax loss` would give on the N×V logits, computed in chunks of rows whose logits \
            fit --memory-budget. HIDDEN is [..., D] (N positions), WEIGHT [V, D] (PyTorch's \
            nn.Linear layout), BIAS [V], TARGETS the shape of HIDDEN without D (any integer \
            type). HIDDEN, WEIGHT and BIAS share one float type, float32 or float64. The \
            reduced loss is printed on standard output (for --reduction none, one loss per line).

            The matrix products run on the system BLAS when one loads (SOFTMAX_BLAS: none for \
            the built-in kernel, or a library's path).

            Example: softmax linear-loss hidden.npy weight.npy tokens.npy --grad-weight-output dw.npy
            """)

    @Argument(help: "Hidden states [..., D], float32 or float64 .npy.")
    var hidden: String

    @Argument(help: "The weight [V, D] (.npy, the type of HIDDEN).")
    var weight: String

    @Argument(help: "Class indices, the shape of HIDDEN without its last dimension (.npy).")
    var targets: String

    @Option(help: "A bias [V] (.npy, the type of HIDDEN).")
    var bias: String?

    @Option(help: "none, sum or mean.")
    var reduction: LossReduction = .mean

    @Option(
        name: .customLong("ignore-index"), parsing: .unconditional,
        help: "A class index to ignore (PyTorch's default: -100).")
    var ignoreIndex: Int = -100

    @Option(help: "A .npy file with one weight per class.")
    var weights: String?

    @Option(name: .customLong("label-smoothing"), parsing: .unconditional, help: "Label smoothing in [0, 1].")
    var labelSmoothing: Double = 0

    @OptionGroup var transform: LogitTransformArguments

    @Option(
        name: .customLong("memory-budget"), parsing: .unconditional,
        help: "Bytes of logits one chunk of rows may hold (default: 56 MiB).")
    var memoryBudget: Int = LinearCrossEntropy.defaultMemoryBudget

    @Option(
        name: .customLong("gradient-filter"), parsing: .unconditional,
        help: "Skip blocks of 128 positions × 256 classes whose gradient stays below ε (default 0: exact).")
    var gradientFilter: Double = 0

    @Option(name: .customLong("loss-output"), help: "Write the loss (.npy: 0-d, or per position for none).")
    var lossOutput: String?

    @Option(
        name: .customLong("z-loss-output"),
        help: "Write the z-loss alone (.npy, shaped as the loss).")
    var zLossOutput: String?

    @Option(name: .customLong("grad-hidden-output"), help: "Write dHidden, the gradient of the hidden states (.npy).")
    var gradHiddenOutput: String?

    @Option(name: .customLong("grad-weight-output"), help: "Write dWeight (.npy).")
    var gradWeightOutput: String?

    @Option(name: .customLong("grad-bias-output"), help: "Write dBias (.npy; needs --bias).")
    var gradBiasOutput: String?

    func run() throws {
        let (text, report) = try execute()
        report.write(text)
    }

    /// Runs the loss, writes the requested files, and returns the text to print and where it
    /// goes (standard error when an output is standard output).
    func execute() throws -> (text: String, report: Report) {
        let report = try checkOutputs(
            [
                ("--loss-output", lossOutput), ("--z-loss-output", zLossOutput),
                ("--grad-hidden-output", gradHiddenOutput), ("--grad-weight-output", gradWeightOutput),
                ("--grad-bias-output", gradBiasOutput),
            ], inputs: [hidden, weight, targets] + [bias, weights].compactMap { $0 })
        if gradBiasOutput != nil && bias == nil {
            throw CommandLineError("--grad-bias-output needs --bias")
        }
        let hiddenArray = try NPYArray.readFloats(hidden, "hidden")
        let weightArray = try NPYArray.readFloats(weight, "weight")
        let biasArray = try bias.map { try NPYArray.readFloats($0, "bias") }
        let targetArray = try NPYArray(contentsOf: targets)
        for (name, array) in [("weight", weightArray), ("bias", biasArray)] {
            guard let array, array.dataType != hiddenArray.dataType else { continue }
            throw CommandLineError(
                "\(name) holds \(array.dataType.rawValue) but hidden holds \(hiddenArray.dataType.rawValue); "
                    + "they must share one float type")
        }
        var options = transform.applied(
            to: CrossEntropyOptions(
                axis: -1, reduction: reduction, ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing))
        if let weights { options.classWeights = try Loss.classWeights(from: weights) }
        // The inputs' file bytes and typed copies, and the gradients with their encoded bytes.
        let inputBytes = ResourceLimits.bytes(
            adding: hiddenArray.bytes.count, weightArray.bytes.count, biasArray?.bytes.count ?? 0,
            targetArray.bytes.count)
        try ResourceLimits.check(
            ResourceLimits.bytes(count: inputBytes, size: 4), for: "the linear cross-entropy of '\(hidden)'")
        switch hiddenArray.dataType {
        case .float32: return (try run(Float.self, hiddenArray, weightArray, biasArray, targetArray, options), report)
        case .float64: return (try run(Double.self, hiddenArray, weightArray, biasArray, targetArray, options), report)
        default:
            throw CommandLineError(
                "hidden '\(hidden)' holds \(hiddenArray.dataType.rawValue); float32 or float64 is required")
        }
    }

    private func run<T: LinearCrossEntropyScalar & NPYElement>(
        _: T.Type, _ hiddenArray: NPYArray, _ weightArray: NPYArray, _ biasArray: NPYArray?, _ targetArray: NPYArray,
        _ options: CrossEntropyOptions
    ) throws -> String {
        let h = try NDArray(shape: hiddenArray.shape, scalars: hiddenArray.scalars(as: T.self))
        let w = try NDArray(shape: weightArray.shape, scalars: weightArray.scalars(as: T.self))
        let b = try biasArray.map { try NDArray(shape: $0.shape, scalars: $0.scalars(as: T.self)) }
        var wanted: LinearCrossEntropyOutputSet = []
        if gradHiddenOutput != nil { wanted.insert(.hiddenGradient) }
        if gradWeightOutput != nil { wanted.insert(.weightGradient) }
        if gradBiasOutput != nil { wanted.insert(.biasGradient) }
        if reduction == .none { wanted.insert(.losses) }
        if reduction == .none && zLossOutput != nil { wanted.insert(.zLosses) }
        func typed<L: ClassLabel & NPYElement>(_: L.Type) throws -> LinearCrossEntropyResult<T> {
            let labels = try NDArray(shape: targetArray.shape, scalars: targetArray.scalars(as: L.self))
            return try linearCrossEntropy(
                hidden: h, weight: w, bias: b, classIndices: labels, options: options, outputs: wanted,
                memoryBudget: memoryBudget, gradientFilter: gradientFilter)
        }
        guard let labelType = targetArray.dataType.classLabelType else {
            throw CommandLineError("\(targetArray.dataType.rawValue) labels are not supported on this platform")
        }
        let result = try typed(labelType)

        if let path = gradHiddenOutput { try result.hiddenGradient?.write(to: path) }
        if let path = gradWeightOutput { try result.weightGradient?.write(to: path) }
        if let path = gradBiasOutput { try result.biasGradient?.write(to: path) }
        return try writeLosses(
            loss: result.loss, zLoss: result.zLoss, losses: result.losses, zLosses: result.zLosses,
            lossOutput: lossOutput, zLossOutput: zLossOutput)
    }
}
