import Foundation
import Softmax
import SoftmaxLayers

/// A trained classifier as stored in a model file: JSON, documented in `docs/model-format.md`.
///
/// The model maps raw features (classification) or raw pixel channels (segmentation) to class
/// probabilities: standardise with `inputMean` / `inputScale`, (segmentation) gather the
/// `patchSize × patchSize` neighbourhood of every pixel, then the inner-product layers
/// (ReLU between them) and softmax.
public struct SoftmaxModel: Codable, Sendable, Equatable {
    /// What the model classifies.
    public enum Task: String, Codable, Sendable, CaseIterable {
        /// One class per sample (a row of features).
        case classification
        /// One class per pixel of an image.
        case segmentation
    }

    /// One inner-product layer: `y = x · Wᵀ + b`, then ReLU unless it is the last layer.
    public struct DenseLayer: Codable, Sendable, Equatable {
        /// Inputs per row.
        public var inputs: Int
        /// Outputs per row.
        public var outputs: Int
        /// `[outputs, inputs]`, row-major.
        public var weights: [Float]
        /// `[outputs]`.
        public var bias: [Float]
    }

    /// The file's format name, always `swift-softmax-model`.
    public var format: String = SoftmaxModel.formatName
    /// The format version, 1.
    public var version: Int = 1
    /// Classification or segmentation.
    public var task: Task
    /// One name per class, in score order (a CSV's label strings, or "0", "1", … for numbers).
    public var classNames: [String]
    /// Raw features per sample (classification) or channels per pixel (segmentation).
    public var inputCount: Int
    /// Per raw feature / channel: subtracted first.
    public var inputMean: [Float]
    /// Per raw feature / channel: multiplied after the mean is subtracted (1 / standard
    /// deviation, or 1 for a constant feature).
    public var inputScale: [Float]
    /// Segmentation: the side of the square neighbourhood gathered per pixel (odd; 1 = the
    /// pixel alone).  Absent for classification.
    public var patchSize: Int?
    /// The inner-product layers, first to last.
    public var layers: [DenseLayer]
    /// How the model was trained, and its per-epoch history.
    public var training: TrainingRecord?

    /// A model from its parts (checked by `validate()`, not here).
    public init(
        task: Task, classNames: [String], inputCount: Int, inputMean: [Float], inputScale: [Float], patchSize: Int?,
        layers: [DenseLayer], training: TrainingRecord? = nil
    ) {
        self.task = task
        self.classNames = classNames
        self.inputCount = inputCount
        self.inputMean = inputMean
        self.inputScale = inputScale
        self.patchSize = patchSize
        self.layers = layers
        self.training = training
    }

    /// `swift-softmax-model`.
    public static let formatName = "swift-softmax-model"

    /// Features per row the first layer takes: `inputCount` for classification,
    /// `inputCount · patchSize²` for segmentation.
    public var rowFeatures: Int { inputCount * (patchSize ?? 1) * (patchSize ?? 1) }

    /// The network the layers describe.
    ///
    /// - Throws: `ModelError` when the layer sizes are inconsistent; `SoftmaxError` when a
    ///   layer's parameter counts do not match its sizes.
    public func network() throws -> Network {
        try Network(
            layers: layers.map {
                try InnerProductLayer(inputs: $0.inputs, outputs: $0.outputs, weights: $0.weights, bias: $0.bias)
            })
    }

    /// The layers of a trained network.
    static func layers(of network: Network) -> [DenseLayer] {
        network.dense.map {
            DenseLayer(inputs: $0.inputs, outputs: $0.outputs, weights: $0.weights.data, bias: $0.bias.data)
        }
    }

    /// Reads and checks a model file.
    ///
    /// - Throws: `FileError` when the file cannot be read; `ModelError` naming the file for
    ///   malformed (`.notAModelFile`) or inconsistent (`.inFile`) models.
    public init(contentsOf path: String) throws {
        let data = Data(try FileIO.read(path))
        do {
            self = try JSONDecoder().decode(SoftmaxModel.self, from: data)
        } catch let error as DecodingError {
            throw ModelError.notAModelFile(path: path, reason: Self.describe(error))
        } catch {
            throw ModelError.notAModelFile(path: path, reason: "\(error)")
        }
        do { try validate() } catch let error as ModelError {
            throw ModelError.inFile(path: path, error)
        }
    }

    /// Writes the model as JSON with ``writeAtomically(_:to:)`` (`-` is standard output).
    ///
    /// - Throws: `FileError` when the file cannot be written.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(self)
        try writeAtomically(Array(data), to: path)
    }

    /// Throws unless the parts agree with each other.
    ///
    /// - Throws: `ModelError` naming the first part that does not fit.
    /// - Complexity: O(parameters).
    public func validate() throws {
        guard format == Self.formatName else { throw ModelError.format(format) }
        guard version == 1 else { throw ModelError.version(version) }
        guard classNames.count >= 2 else { throw ModelError.classCount(classNames.count) }
        guard inputCount > 0, inputMean.count == inputCount, inputScale.count == inputCount else {
            throw ModelError.inputNormalization(means: inputMean.count, scales: inputScale.count, inputs: inputCount)
        }
        if let patchSize {
            guard patchSize > 0, patchSize % 2 == 1, patchSize <= 15 else { throw ModelError.patchSize(patchSize) }
        }
        guard task == .classification || patchSize != nil else { throw ModelError.missingPatchSize }
        guard let first = layers.first, let last = layers.last, layers.count <= 2 else {
            throw ModelError.layerCount(layers.count)
        }
        guard first.inputs == rowFeatures else {
            throw ModelError.firstLayerInputs(first.inputs, rowFeatures: rowFeatures)
        }
        guard last.outputs == classNames.count else {
            throw ModelError.lastLayerOutputs(last.outputs, classes: classNames.count)
        }
        for layer in layers {
            let (count, overflow) = layer.inputs.multipliedReportingOverflow(by: layer.outputs)
            guard layer.inputs > 0, layer.outputs > 0, !overflow, layer.weights.count == count,
                layer.bias.count == layer.outputs
            else {
                throw ModelError.layerParameters(
                    inputs: layer.inputs, outputs: layer.outputs, weights: layer.weights.count,
                    biases: layer.bias.count)
            }
            guard layer.weights.allSatisfy(\.isFinite), layer.bias.allSatisfy(\.isFinite) else {
                throw ModelError.nonFiniteParameters
            }
        }
        // Checked here rather than by building the network, which copies every weight.
        try Network.checkChained(layers.map { ($0.inputs, $0.outputs) })
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _): return "missing '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "bad value at '\(path(context))': \(context.debugDescription)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at '\(path(context))'"
        @unknown default: return "\(error)"
        }
    }
}

/// Writes `bytes` to `path` with `FileIO.write(_:to:)`: a regular file through a temporary
/// file in the same directory and a rename, so a failed write never leaves a partial file
/// behind; `-` (standard output), devices and FIFOs directly.
///
/// - Throws: `FileError` naming the path.
public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    try FileIO.write(bytes, to: path)
}
