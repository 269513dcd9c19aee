import Softmax
import SoftmaxLayers

/// The classifier's layers, a list: inner product → (ReLU → inner product) → scores, over rows
/// of features (one row per sample, or per pixel for segmentation).  The loss is applied by the
/// caller (`Trainer`), so the same network serves training, evaluation and prediction.
///
/// Layer `i` reads `bottoms[i]` and writes `tops[i]`; each top is the next layer's bottom, and
/// ReLU runs in place (its top is its bottom, as Caffe allows), so a hidden layer costs one
/// activation blob, not two.
public final class Network {
    /// The inner-product layers, first to last (what a model file stores).
    public let dense: [InnerProductLayer]
    /// Every layer in the order `forward` runs them: the inner-product layers with a ReLU
    /// between each two.
    public let layers: [any Layer]
    /// The blob each layer reads, `bottoms[0]` the input rows.
    private let bottoms: [Blob<Float>]
    /// The blob each layer writes, the last one the scores.
    private let tops: [Blob<Float>]

    /// A network over existing inner-product layers (1 or 2 of them, each one's inputs the
    /// previous one's outputs), with a ReLU between each two.
    ///
    /// - Parameter layers: The inner-product layers, first to last; the network uses them (it
    ///   does not copy their parameters).
    /// - Throws: `ModelError.layerCount` or `.layersDoNotChain`.
    public init(layers: [InnerProductLayer]) throws {
        guard (1...2).contains(layers.count) else { throw ModelError.layerCount(layers.count) }
        try Self.checkChained(layers.map { ($0.inputs, $0.outputs) })
        dense = layers
        var all: [any Layer] = []
        var bottoms: [Blob<Float>] = []
        var tops: [Blob<Float>] = []
        var current = try Blob<Float>(shape: [0, layers[0].inputs])
        for (index, layer) in layers.enumerated() {
            if index > 0 {
                all.append(ReLULayer())
                bottoms.append(current)
                tops.append(current)
            }
            let output = try Blob<Float>(shape: [0, layer.outputs])
            all.append(layer)
            bottoms.append(current)
            tops.append(output)
            current = output
        }
        self.layers = all
        self.bottoms = bottoms
        self.tops = tops
    }

    /// Throws unless each layer's inputs are the previous layer's outputs.
    ///
    /// - Parameter sizes: Each layer's inputs and outputs, first to last.
    /// - Throws: `ModelError.layersDoNotChain` naming the first pair that does not fit.
    static func checkChained(_ sizes: [(inputs: Int, outputs: Int)]) throws {
        for (a, b) in zip(sizes, sizes.dropFirst()) where a.outputs != b.inputs {
            throw ModelError.layersDoNotChain(outputs: a.outputs, inputs: b.inputs)
        }
    }

    /// A freshly initialised network (Caffe's xavier filler, from `generator`).
    ///
    /// - Parameters:
    ///   - inputs: Features per row.
    ///   - classes: Scores per row.
    ///   - hidden: The width of the optional hidden layer (ReLU), or `nil` for softmax regression.
    ///   - generator: Draws the initial weights, first layer first.
    /// - Throws: `SoftmaxError.invalidShape` unless the sizes are positive.
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

    /// Every learnable blob, layer by layer (weights then bias of each inner-product layer): the
    /// order a `GradientReducer` sees them in.
    public var parameters: [Blob<Float>] { layers.flatMap(\.parameters) }

    /// The solver's view of the parameters, in the order of `parameters`: weights decay, biases
    /// do not (the usual Caffe setting, `decay_mult: 0` on biases).
    public var solverParameters: [SGDSolver.Parameter] {
        dense.flatMap { [SGDSolver.Parameter($0.weights), SGDSolver.Parameter($0.bias, decayMultiplier: 0)] }
    }

    /// Scores for `rows` rows of features (row-major, `rows × inputs`).  The returned blob is
    /// the network's own, valid until the next call; its `diff` is where `backward` reads
    /// the gradient.
    ///
    /// - Parameters:
    ///   - features: `rows × inputs` values.
    ///   - rows: The number of rows.
    /// - Returns: The scores, `[rows, classes]`.
    /// - Throws: `DataError` when the feature count does not match; `SoftmaxError` from the layers.
    /// - Complexity: O(rows · Σ inputs · outputs over the inner-product layers).
    public func forward(_ features: ArraySlice<Float>, rows: Int) throws -> Blob<Float> {
        let input = bottoms[0]
        try input.reshape([rows, inputs])
        guard features.count == input.count else {
            throw DataError("\(features.count) feature values for \(rows) rows of \(inputs)")
        }
        input.data.replaceSubrange(0..<input.count, with: features)
        for (index, layer) in layers.enumerated() {
            try layer.forward(bottom: [bottoms[index]], top: [tops[index]])
        }
        return tops[tops.count - 1]
    }

    /// Back-propagates the scores' `diff` (set by the caller after `forward`) into the
    /// parameters' diffs, last layer first.  The first layer does not propagate to the input
    /// rows: nothing reads their gradient.
    ///
    /// - Throws: `LayerError.backwardBeforeForward` when `forward` has not run.
    /// - Complexity: O(rows · Σ inputs · outputs over the inner-product layers).
    public func backward() throws {
        for index in layers.indices.reversed() {
            try layers[index].backward(top: [tops[index]], propagateDown: [index > 0], bottom: [bottoms[index]])
        }
    }
}
