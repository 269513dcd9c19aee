import ArgumentParser
import Softmax

/// `softmax apply OP INPUT --output OUT [--axis A]`.
struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply softmax, log-softmax or logsumexp along an axis of an array.",
        discussion: """
            softmax and log-softmax write an array of the input's shape; logsumexp drops the \
            axis. A position whose scores are all -inf gives zeros (softmax) or -inf \
            (log-softmax, logsumexp). The output has the input's float type.

            Example: softmax apply softmax logits.npy --output probs.npy --axis 1
            """)

    enum Operation: String, ExpressibleByArgument, CaseIterable {
        case softmax
        case logSoftmax = "log-softmax"
        case logsumexp
    }

    @Argument(help: "The operation: softmax, log-softmax or logsumexp.")
    var operation: Operation

    @Argument(help: "The input .npy file (float16, float32 or float64).")
    var input: String

    @Option(name: .shortAndLong, help: "Where to write the result (.npy).")
    var output: String

    @Option(parsing: .unconditional, help: "The axis to normalise along; negative counts from the end.")
    var axis: Int = -1

    func run() throws {
        try checkOutputs([("--output", output)], inputs: [input])
        let array = try NPYArray.readFloats(input, "input")
        // Sizes checked before anything is allocated: the result (logsumexp of an empty axis
        // can name far more positions than the file holds bytes), then memory for the file's
        // bytes and the typed copy, the result and its encoded bytes.
        let layout = try Layout(shape: array.shape, axis: axis)
        let resultCount = operation == .logsumexp ? layout.positions : layout.count
        let resultBytes = ResourceLimits.bytes(count: resultCount, size: array.dataType.itemSize)
        let what = "'\(operation.rawValue)' of shape \(SoftmaxError.shapeText(array.shape)) along axis \(axis)"
        try ResourceLimits.checkProportion(output: resultBytes, input: array.bytes.count, for: what)
        try ResourceLimits.check(
            ResourceLimits.bytes(
                adding: ResourceLimits.bytes(count: array.bytes.count, size: 2),
                ResourceLimits.bytes(count: resultBytes, size: 2)),
            for: what)
        try withFloatType(array.dataType) { try apply($0, array) }
    }

    /// Reads `array` as `T`, applies the operation and writes the result.
    private func apply<T: SoftmaxScalar & NPYElement>(_: T.Type, _ array: NPYArray) throws {
        let x = try NDArray(shape: array.shape, scalars: array.scalars(as: T.self))
        let y: NDArray<T> =
            switch operation {
            case .softmax: try x.softmax(axis: axis)
            case .logSoftmax: try x.logSoftmax(axis: axis)
            case .logsumexp: try x.logSumExp(axis: axis)
            }
        try y.write(to: output)
    }
}
