import Softmax

/// Caffe's `SoftmaxWithLoss` layer: softmax and multinomial logistic loss fused, over
/// `bottom[0]` (scores) and `bottom[1]` (labels stored as whole-valued floats, Caffe's
/// convention), with the gradient `λ · (p − onehot) / norm`.
///
/// What differs from Caffe, on purpose:
/// - two tops (loss and probabilities) work with a loss weight per top (BVLC/caffe#2968);
/// - labels are range-checked in every build (Caffe checks only in debug builds), and the
///   error names the label and its position;
/// - the loss is computed by log-sum-exp, never `−log(max(p, FLT_MIN))`, so it does not stick
///   at 87.3365;
/// - back-propagating to the labels is an error, not a crash;
/// - class weights, label smoothing and the LLM options (temperature, softcap, z-loss) are
///   there for models ported from PyTorch.
public final class SoftmaxWithLossLayer<Element: SoftmaxScalar> {
    /// Caffe's `LossParameter.NormalizationMode`: what the summed loss is divided by.
    public enum Normalization: String, Sendable, CaseIterable {
        /// The number of positions, ignored ones included.
        case full
        /// The number of positions whose label is not ignored (Caffe's default).
        case valid
        /// The outer count: the product of the dimensions before `axis`.
        case batchSize = "batch_size"
        /// No normalisation: the sum.
        case none

        var reduction: LossReduction {
            switch self {
            case .full: .full
            case .valid: .mean
            case .batchSize: .batchSize
            case .none: .sum
            }
        }
    }

    /// The class axis (Caffe's `softmax_param.axis`, default 1).
    public let axis: Int
    /// Labels equal to this are ignored (Caffe's `loss_param.ignore_label`).
    public let ignoreLabel: Int?
    /// How the loss is normalised.
    public let normalization: Normalization
    /// One loss weight per top: the loss (default 1) and, with two tops, the probabilities
    /// (must be 0: they are an output, not a loss).
    public let lossWeights: [Double]
    /// One weight per class (PyTorch's `weight`), or `nil` for all 1.  Not in Caffe.
    public let classWeights: [Double]?
    /// Label smoothing ε in [0, 1] (PyTorch's `label_smoothing`).  Not in Caffe.
    public let labelSmoothing: Double
    /// The temperature `T > 0` the scores are divided by (1: none).  Not in Caffe.
    public let temperature: Double
    /// The softcap `c > 0`: `c·tanh(s/c)` after the temperature (`nil`: none).  Not in Caffe.
    public let softcap: Double?
    /// The z-loss `λ ≥ 0`: `λ·lse²` added per position not ignored, normalised like the loss
    /// except that `.valid` counts positions, not class weights.  Not in Caffe.
    public let zLoss: Double

    /// The gradient for loss weight 1, kept from `forward` for `backward`.
    private var unitGradient: [Element]?

    /// A loss layer.
    ///
    /// - Parameters:
    ///   - axis: the class axis.
    ///   - ignoreLabel: a label to ignore; any value, also outside `0..<C`.
    ///   - normalization: Caffe's `normalization` (default `.valid`).
    ///   - normalize: Caffe's legacy `normalize` flag, mapped as Caffe maps it (`true` →
    ///     `.valid`, `false` → `.batchSize`); when given it overrides `normalization`.  Caffe
    ///     ignores `normalize` when `normalization` is also set: port such a layer with
    ///     `normalization` alone.
    ///   - lossWeights: Caffe's `loss_weight`, one per top (default `[1]`, `[1, 0]` with two tops).
    ///   - classWeights: one weight per class (checked against the class count at `forward`).
    ///   - labelSmoothing: ε in [0, 1] (checked at `forward`).
    ///   - temperature: `T > 0` (checked at `forward`, as are the two below).
    ///   - softcap: `c > 0`, or `nil`.
    ///   - zLoss: `λ ≥ 0`; the loss top then holds the loss plus the z-loss.
    /// - Throws: `LayerError.invalidLossWeights` for more than two weights or a non-zero weight
    ///   on the probability top.
    public init(
        axis: Int = 1, ignoreLabel: Int? = nil, normalization: Normalization = .valid, normalize: Bool? = nil,
        lossWeights: [Double] = [], classWeights: [Double]? = nil, labelSmoothing: Double = 0,
        temperature: Double = 1, softcap: Double? = nil, zLoss: Double = 0
    ) throws {
        guard lossWeights.count <= 2 else {
            throw LayerError.invalidLossWeights(lossWeights, reason: "the layer has at most two tops")
        }
        guard lossWeights.count < 2 || lossWeights[1] == 0 else {
            throw LayerError.invalidLossWeights(
                lossWeights, reason: "top[1] (probabilities) is not a loss; its weight must be 0")
        }
        guard lossWeights.allSatisfy(\.isFinite) else {
            throw LayerError.invalidLossWeights(lossWeights, reason: "weights must be finite")
        }
        self.axis = axis
        self.ignoreLabel = ignoreLabel
        self.normalization = normalize.map { $0 ? .valid : .batchSize } ?? normalization
        self.lossWeights = lossWeights
        self.classWeights = classWeights
        self.labelSmoothing = labelSmoothing
        self.temperature = temperature
        self.softcap = softcap
        self.zLoss = zLoss
    }

    /// The loss weight of `top[0]`.
    public var lossWeight: Double { lossWeights.first ?? 1 }

    /// Computes the loss into `top[0]` (shape `[]`) and, with a second top, the probabilities
    /// into `top[1]`; keeps the gradient for `backward`.  Sets `top[0].diff` to the loss weight,
    /// as Caffe's `Net` does.
    ///
    /// - Parameters:
    ///   - bottom: `[scores, labels]`; the labels hold one whole number per position
    ///     (`outer · inner` of them, in any shape, as in Caffe).
    ///   - top: `[loss]` or `[loss, probabilities]`.
    /// - Returns: the loss times its loss weight (what Caffe's `Layer::Forward` returns).
    /// - Throws: `LayerError.blobCount`, `.invalidLossWeights` (more weights than tops), or
    ///   `SoftmaxError` (bad axis, label count, or a label outside `0..<C`).
    @discardableResult
    public func forward(bottom: [Blob<Element>], top: [Blob<Element>]) throws -> Double {
        unitGradient = nil  // a forward that throws must not leave the previous gradient for backward
        try checkBlobCount(bottom, 2...2, layer: "SoftmaxWithLoss", role: "bottom")
        try checkBlobCount(top, 1...2, layer: "SoftmaxWithLoss", role: "top")
        guard lossWeights.count <= top.count else {
            throw LayerError.invalidLossWeights(lossWeights, reason: "one per top blob at most (\(top.count) tops)")
        }
        let (scores, labels) = (bottom[0], bottom[1])
        let options = CrossEntropyOptions(
            axis: axis, reduction: normalization.reduction, ignoreIndex: ignoreLabel, classWeights: classWeights,
            labelSmoothing: labelSmoothing, lossWeight: 1, temperature: temperature, softcap: softcap, zLoss: zLoss)
        let layout = try Layout(shape: scores.shape, axis: axis)
        guard labels.count == layout.positions else {
            throw SoftmaxError.countMismatch(
                argument: "labels (bottom[1])", expected: layout.positions, actual: labels.count)
        }
        if top.count == 2 { try top[1].reshape(scores.shape) }
        let classIndices = labels.data.map { Double($0) }
        var gradient = [Element](repeating: 0, count: scores.count)
        var probabilities = top.count == 2 ? top[1].data : []
        let loss = try scores.data.withUnsafeBufferPointer { x in
            try classIndices.withUnsafeBufferPointer { t in
                try gradient.withUnsafeMutableBufferPointer { g in
                    try probabilities.withUnsafeMutableBufferPointer { p in
                        try crossEntropy(
                            scores: x, shape: scores.shape, classIndices: t, options: options,
                            outputs: CrossEntropyOutputs(gradient: g, probabilities: top.count == 2 ? p : nil))
                    }
                }
            }
        }
        if top.count == 2 { top[1].data = probabilities }
        try top[0].reshape([])
        top[0].data[0] = Element(loss)
        top[0].diff[0] = Element(lossWeight)
        unitGradient = gradient
        return loss * lossWeight
    }

    /// Writes `bottom[0].diff = top[0].diff[0] · (p − onehot) / norm` (ignored positions 0).
    ///
    /// - Parameters:
    ///   - top: the loss blob, whose diff (the loss weight after `forward`) scales the
    ///     gradient, and in the two-top form the probabilities.
    ///   - propagateDown: one flag per bottom; `propagateDown[1]` must be false.
    ///   - bottom: the scores, whose diff is written, and the labels.
    /// - Throws: `LayerError.cannotBackpropagateToLabels`, `.backwardBeforeForward`, or
    ///   `.blobCount`.
    public func backward(top: [Blob<Element>], propagateDown: [Bool] = [true, false], bottom: [Blob<Element>]) throws {
        try checkBlobCount(bottom, 2...2, layer: "SoftmaxWithLoss", role: "bottom")
        try checkBlobCount(top, 1...2, layer: "SoftmaxWithLoss", role: "top")
        if propagateDown.count > 1 && propagateDown[1] { throw LayerError.cannotBackpropagateToLabels }
        guard propagateDown.first ?? true else { return }
        guard let unitGradient, unitGradient.count == bottom[0].count, top[0].diff.count == 1 else {
            throw LayerError.backwardBeforeForward(layer: "SoftmaxWithLoss")
        }
        let scale = top[0].diff[0]
        bottom[0].diff = unitGradient.map { $0 * scale }
    }
}
