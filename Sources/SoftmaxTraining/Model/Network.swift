import Softmax
import SoftmaxLayers

/// The classifier's layers: inner product → (ReLU → inner product) → scores, over rows of
/// features (one row per sample, or per pixel for segmentation).  The loss is applied by the
/// caller (`Trainer`), so the same network serves training, evaluation and prediction.
public final class Network {
    /// The inner-product layers, first to last.
    public let dense: [InnerProductLayer]
    private let relu = ReLULayer()
    /// `input → dense[0] → activations[0] → relu (in place) → dense[1] → activations[1]`.
    private let input: Blob<Float>
    private let activations: [Blob<Float>]

    /// A network over existing layers (1 or 2 of them, each one's inputs the previous one's outputs).
    ///
    /// - Throws: `DataError` when the sizes do not chain.
    public init(layers: [InnerProductLayer]) throws {
        guard (1...2).contains(layers.count) else {
            throw DataError("a model has 1 or 2 inner-product layers, not \(layers.count)")
        }
        try Self.checkChained(layers.map { ($0.inputs, $0.outputs) })
        dense = layers
        input = try Blob(shape: [0, layers[0].inputs])
        activations = try layers.map { try Blob(shape: [0, $0.outputs]) }
    }

    /// Throws unless each layer's inputs are the previous layer's outputs.
    static func checkChained(_ sizes: [(inputs: Int, outputs: Int)]) throws {
        for (a, b) in zip(sizes, sizes.dropFirst()) where a.outputs != b.inputs {
            throw DataError("layer sizes do not chain: \(a.outputs) outputs feed \(b.inputs) inputs")
        }
    }

    /// A freshly initialised network (Caffe's xavier filler, from `generator`).
    ///
    /// - Parameters:
    ///   - hidden: the width of the optional hidden layer (ReLU), or `nil` for softmax regression.
    public convenience init(inputs: Int, classes: Int, hidden: Int?, generator: inout SplitMix64) throws {
        var layers: [InnerProductLayer] = []
        if let hidden {
            layers.append(try InnerProductLayer(inputs: inputs, outputs: hidden, generator: &generator))
            layers.append(try InnerProductLayer(inputs: hidden, outputs: classes, generator: &generator))
        } else {
            layers.append(try InnerProductLayer(inputs: inputs, outputs: classes, generator: &generator))
        }
        try self.init(layers: layers)
    }

    /// Features per row.
    public var inputs: Int { dense[0].inputs }
    /// Scores per row (the number of classes).
    public var classes: Int { dense[dense.count - 1].outputs }

    /// The solver's view of the parameters: weights decay, biases do not (the usual Caffe
    /// setting, `decay_mult: 0` on biases).
    public var solverParameters: [SGDSolver.Parameter] {
        dense.flatMap { [SGDSolver.Parameter($0.weights), SGDSolver.Parameter($0.bias, decayMultiplier: 0)] }
    }

    /// Scores for `rows` rows of features (row-major, `rows × inputs`).  The returned blob is
    /// the network's own, valid until the next call; its `diff` is where `backward` reads
    /// the gradient.
    ///
    /// - Throws: `SoftmaxError` when the feature count does not match.
    public func forward(_ features: ArraySlice<Float>, rows: Int) throws -> Blob<Float> {
        try input.reshape([rows, inputs])
        guard features.count == input.count else {
            throw DataError("\(features.count) feature values for \(rows) rows of \(inputs)")
        }
        input.data.replaceSubrange(0..<input.count, with: features)
        try dense[0].forward(bottom: [input], top: [activations[0]])
        if dense.count == 2 {
            try relu.forward(bottom: [activations[0]], top: [activations[0]])
            try dense[1].forward(bottom: [activations[0]], top: [activations[1]])
        }
        return activations[activations.count - 1]
    }

    /// Back-propagates the scores' `diff` (set by the caller after `forward`) into the
    /// parameters' diffs.
    public func backward() throws {
        if dense.count == 2 {
            try dense[1].backward(top: [activations[1]], propagateDown: true, bottom: [activations[0]])
            // In place: ReLU's output is its input, so `data > 0` is the mask.
            try relu.backward(top: [activations[0]], bottom: [activations[0]])
        }
        try dense[0].backward(top: [activations[0]], propagateDown: false, bottom: [input])
    }
}
