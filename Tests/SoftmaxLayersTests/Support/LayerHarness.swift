import Softmax
import SoftmaxLayers
import SoftmaxTestSupport

// Small wrappers that run a layer on plain arrays, for references and gradient checkers.

/// Caffe's softmax test bottom: 2×10×2×3.
let softmaxShape = [2, 10, 2, 3]
/// Caffe's loss test scores (10×5×2×3) and labels (10×1×2×3).
let lossScoresShape = [10, 5, 2, 3]
let lossLabelsShape = [10, 1, 2, 3]

/// `SoftmaxLayer.forward` on a fresh bottom and a top of an unrelated shape (so the reshape is
/// exercised); returns the top data after checking its shape.
func softmaxForward<T: SoftmaxScalar>(_ x: [T], shape: [Int], axis: Int) throws -> [T] {
    let bottom = try Blob<T>(shape: shape, data: x)
    let top = try Blob<T>(shape: [1])
    try SoftmaxLayer(axis: axis).forward(bottom: [bottom], top: [top])
    precondition(top.shape == shape, "top shape \(top.shape), bottom \(shape)")
    return top.data
}

/// Forward, then `SoftmaxLayer.backward` with top diff `dy`; returns the bottom diff.
func softmaxBackward<T: SoftmaxScalar>(_ x: [T], _ dy: [T], shape: [Int], axis: Int) throws -> [T] {
    let bottom = try Blob<T>(shape: shape, data: x)
    let top = try Blob<T>(shape: shape)
    let layer = SoftmaxLayer(axis: axis)
    try layer.forward(bottom: [bottom], top: [top])
    top.diff = dy
    try layer.backward(top: [top], bottom: [bottom])
    return bottom.diff
}

/// The same, in place: one blob is both bottom and top.
func softmaxForwardInPlace<T: SoftmaxScalar>(_ x: [T], shape: [Int], axis: Int) throws -> [T] {
    let blob = try Blob<T>(shape: shape, data: x)
    try SoftmaxLayer(axis: axis).forward(bottom: [blob], top: [blob])
    return blob.data
}

func softmaxBackwardInPlace<T: SoftmaxScalar>(_ x: [T], _ dy: [T], shape: [Int], axis: Int) throws -> [T] {
    let blob = try Blob<T>(shape: shape, data: x)
    let layer = SoftmaxLayer(axis: axis)
    try layer.forward(bottom: [blob], top: [blob])
    blob.diff = dy
    try layer.backward(top: [blob], bottom: [blob])
    return blob.diff
}

/// The blobs of one `SoftmaxWithLoss` test: scores, labels, and the tops.
struct LossFixture<T: SoftmaxScalar> {
    var scores: Blob<T>
    var labels: Blob<T>
    var loss: Blob<T>
    var probabilities: Blob<T>?

    var bottom: [Blob<T>] { [scores, labels] }
    var top: [Blob<T>] { probabilities.map { [loss, $0] } ?? [loss] }

    /// Caffe's fixture: Gaussian scores with std 10, random labels in `0..<classes`.
    init(
        scoresShape: [Int] = lossScoresShape, labelsShape: [Int]? = nil, axis: Int = 1, seed: UInt64,
        twoTops: Bool = false
    ) throws {
        var rng = SplitMix64(seed: seed)
        let g = Geometry(shape: scoresShape, axis: axis)
        scores = try Blob(shape: scoresShape, data: gaussianFill(g.count, std: 10, using: &rng))
        labels = try Blob(
            shape: labelsShape ?? [g.positions], data: labelFill(g.positions, classes: g.classes, using: &rng))
        loss = try Blob(shape: [1])
        probabilities = try twoTops ? Blob(shape: [1]) : nil
    }

    /// The float64 reference for the current blobs.
    func reference(axis: Int = 1, ignoreLabel: Int? = nil, mode: Mode) -> Reference.Loss {
        Reference.loss(
            scores: scores.data.doubles, labels: labels.data.doubles, shape: scores.shape, axis: axis,
            ignoreLabel: ignoreLabel, mode: mode)
    }
}
