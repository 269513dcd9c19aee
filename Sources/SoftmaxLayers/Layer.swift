import Softmax

/// A `Float` layer in Caffe's sense: it reads bottom blobs, writes top blobs, and on the way
/// back turns the tops' gradients into gradients of its bottoms and of its learnable
/// parameters.  A network is a list of layers with the blobs between them.
///
/// As in Caffe, `backward` *adds* to the parameters' `diff` (a solver clears them after each
/// update) and *writes* the bottoms' `diff`.  `InnerProductLayer` and `ReLULayer` conform; the
/// loss layers do not, because their forward pass also returns the loss.
public protocol Layer {
    /// The learnable blobs in a fixed order (empty for a layer without parameters).  Their
    /// `diff` holds the gradient that `backward` accumulated.
    var parameters: [Blob<Float>] { get }

    /// Computes the tops from the bottoms, reshaping the tops as needed.
    ///
    /// - Parameters:
    ///   - bottom: The input blobs.
    ///   - top: The output blobs (for a layer that allows it, the same blob as its bottom).
    /// - Throws: `LayerError` or `SoftmaxError` when the blobs do not fit the layer.
    func forward(bottom: [Blob<Float>], top: [Blob<Float>]) throws

    /// Adds the parameters' gradients to their `diff` and writes the `diff` of each bottom
    /// whose flag is set, from the tops' `diff`.
    ///
    /// - Parameters:
    ///   - top: The blobs `forward` wrote, with their gradients in `diff`.
    ///   - propagateDown: One flag per bottom: whether to write its gradient (Caffe's
    ///     `propagate_down`; a network's first layer skips the gradient of its data).
    ///   - bottom: The blobs `forward` read.
    /// - Throws: `LayerError` when called before a `forward` it can use.
    func backward(top: [Blob<Float>], propagateDown: [Bool], bottom: [Blob<Float>]) throws
}
