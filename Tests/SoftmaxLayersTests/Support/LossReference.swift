import Foundation
import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// The four `LossParameter.NormalizationMode`s, as a test-side enum (the layer's
/// `Normalization` is nested in a generic class, so it is a different type per element type).
enum Mode: String, CaseIterable, CustomTestStringConvertible {
    case valid, full, batchSize, none

    var testDescription: String { rawValue }

    func layerValue<T: SoftmaxScalar>(_: T.Type = T.self) -> SoftmaxWithLossLayer<T>.Normalization {
        switch self {
        case .valid: .valid
        case .full: .full
        case .batchSize: .batchSize
        case .none: .none
        }
    }

    /// The reduction of the shared float64 cross-entropy reference that divides as this mode:
    /// VALID by the weight of the positions not ignored (their count without class weights),
    /// FULL by every position, BATCH_SIZE by the outer count, NONE by 1.
    var reduction: LossReduction {
        switch self {
        case .valid: .mean
        case .full: .full
        case .batchSize: .batchSize
        case .none: .sum
        }
    }
}

extension Reference {
    struct Loss {
        /// The normalised loss (Caffe's `top[0]`, before the loss weight).
        var loss: Double
        /// `∂loss/∂scores` for loss weight 1: `(p − onehot) / normalizer`, 0 where ignored.
        var gradient: [Double]
        /// Σ per-position `logsumexp − x_label`.
        var sum: Double
        /// Positions whose label is not ignored.
        var valid: Int
    }

    /// The multinomial logistic loss of softmax(scores) against whole-number `labels` (the
    /// shared cross-entropy reference, with the layer's normalization as its reduction).
    static func loss(
        scores: [Double], labels: [Double], shape: [Int], axis: Int = 1, ignoreLabel: Int? = nil, mode: Mode
    ) -> Loss {
        let classes = labels.map { Int(exactly: $0)! }
        let options = CrossEntropyOptions(axis: axis, reduction: mode.reduction, ignoreIndex: ignoreLabel)
        let result = crossEntropy(scores, shape, .indices(classes), options)
        return Loss(
            loss: result.loss, gradient: result.gradient, sum: result.losses.reduce(0, +),
            valid: classes.filter { $0 != ignoreLabel }.count)
    }
}
