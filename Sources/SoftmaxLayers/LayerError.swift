import Softmax

/// Why a layer refused a call.
public enum LayerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The layer was given the wrong number of bottom or top blobs.
    case blobCount(layer: String, role: String, expected: String, actual: Int)
    /// Back-propagation to the label input was requested (labels have no gradient).
    case cannotBackpropagateToLabels
    /// `backward` was called before a `forward` that it could use.
    case backwardBeforeForward(layer: String)
    /// A `loss_weight` was given for a top that is not a loss, or too many were given.
    case invalidLossWeights([Double], reason: String)
    /// A solver setting (learning rate, momentum, weight decay, policy) is out of range.
    case invalidSolverSetting(name: String, value: Double, reason: String)

    /// The message naming the layer and what was wrong.
    public var description: String {
        switch self {
        case .blobCount(let layer, let role, let expected, let actual):
            "\(layer) takes \(expected) \(role) blob(s), got \(actual)"
        case .cannotBackpropagateToLabels:
            "SoftmaxWithLoss cannot back-propagate to its label input (propagateDown[1] must be false)"
        case .backwardBeforeForward(let layer):
            "\(layer).backward called before forward"
        case .invalidLossWeights(let weights, let reason):
            "invalid loss weights \(weights): \(reason)"
        case .invalidSolverSetting(let name, let value, let reason):
            "invalid \(name) \(value): \(reason)"
        }
    }
}

/// Throws `LayerError.blobCount` unless `blobs` has a count in `allowed`.
func checkBlobCount<E>(_ blobs: [Blob<E>], _ allowed: ClosedRange<Int>, layer: String, role: String) throws {
    guard allowed.contains(blobs.count) else {
        let expected = allowed.count == 1 ? "\(allowed.lowerBound)" : "\(allowed.lowerBound) or \(allowed.upperBound)"
        throw LayerError.blobCount(layer: layer, role: role, expected: expected, actual: blobs.count)
    }
}
extension LayerError: UserInputError {}
