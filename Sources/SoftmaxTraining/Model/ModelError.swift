import Softmax

/// Why a model — a model file, a `SoftmaxModel` or the layers given to a `Network` — is not a
/// usable classifier: the file is not a model, or its parts do not fit together.  Bad *data*
/// for a model (the wrong number of features, an unknown label) is a `DataError`.
///
/// The description is one line fit to print after `error:`, e.g.
/// `model 'm.json': layer sizes do not chain: 10 outputs feed 64 inputs`.
public indirect enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file at `path` is not a model file (not JSON, or a field missing or of the wrong
    /// type); `reason` says which.
    case notAModelFile(path: String, reason: String)
    /// The model read from `path` failed a check.
    case inFile(path: String, ModelError)
    /// The `format` field is not `swift-softmax-model`.
    case format(String)
    /// The format version is not one this library reads.
    case version(Int)
    /// Fewer than two class names.
    case classCount(Int)
    /// The input normalisation does not have one mean and one scale per input.
    case inputNormalization(means: Int, scales: Int, inputs: Int)
    /// The patch size is not odd and in `1...15`.
    case patchSize(Int)
    /// A segmentation model without a patch size.
    case missingPatchSize
    /// Not 1 or 2 inner-product layers.
    case layerCount(Int)
    /// The first layer does not take the features the model gives it.
    case firstLayerInputs(Int, rowFeatures: Int)
    /// The last layer does not have one output per class.
    case lastLayerOutputs(Int, classes: Int)
    /// A layer's parameter counts do not match its sizes (or the sizes are not positive).
    case layerParameters(inputs: Int, outputs: Int, weights: Int, biases: Int)
    /// A layer holds NaN or infinite parameters.
    case nonFiniteParameters
    /// A layer's outputs are not the next layer's inputs.
    case layersDoNotChain(outputs: Int, inputs: Int)

    /// The message, without the `error:` prefix.
    public var description: String {
        switch self {
        case .notAModelFile(let path, let reason): "'\(path)' is not a swift-softmax model file: \(reason)"
        case .inFile(let path, let error): "model '\(path)': \(error)"
        case .format(let format): "format is '\(format)', expected '\(SoftmaxModel.formatName)'"
        case .version(let version): "format version \(version) is not supported (this tool reads 1)"
        case .classCount(let count): "\(count) classes; a model needs at least 2"
        case .inputNormalization(let means, let scales, let inputs):
            "input normalisation has \(means)/\(scales) values for \(inputs) inputs"
        case .patchSize(let size): "patch size \(size) must be odd, 1...15"
        case .missingPatchSize: "a segmentation model needs a patch size"
        case .layerCount(let count): "\(count) layers; a model has 1 or 2"
        case .firstLayerInputs(let inputs, let rowFeatures):
            "the first layer takes \(inputs) inputs, the model gives it \(rowFeatures)"
        case .lastLayerOutputs(let outputs, let classes): "the last layer has \(outputs) outputs for \(classes) classes"
        case .layerParameters(let inputs, let outputs, let weights, let biases):
            "a \(inputs)→\(outputs) layer has \(weights) weights and \(biases) biases"
        case .nonFiniteParameters: "a layer holds non-finite parameters"
        case .layersDoNotChain(let outputs, let inputs):
            "layer sizes do not chain: \(outputs) outputs feed \(inputs) inputs"
        }
    }
}

extension ModelError: UserInputError {}
