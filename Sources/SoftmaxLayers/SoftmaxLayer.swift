import Softmax

/// Caffe's `Softmax` layer: `top = softmax(bottom)` along `axis`, and its backward pass.
public struct SoftmaxLayer: Sendable {
    /// The axis to normalise along (Caffe's `softmax_param.axis`, default 1); negative counts
    /// from the end.
    public var axis: Int

    /// A softmax layer over `axis`.
    public init(axis: Int = 1) {
        self.axis = axis
    }

    /// Reshapes `top[0]` like `bottom[0]` and writes the softmax into it.
    ///
    /// - Throws: `LayerError.blobCount` (one bottom, one top) or `SoftmaxError` (bad axis).
    public func forward<T: SoftmaxScalar>(bottom: [Blob<T>], top: [Blob<T>]) throws {
        try checkBlobCount(bottom, 1...1, layer: "Softmax", role: "bottom")
        try checkBlobCount(top, 1...1, layer: "Softmax", role: "top")
        let (x, y) = (bottom[0], top[0])
        _ = try Layout(shape: x.shape, axis: axis)
        if x !== y { try y.reshape(x.shape) }
        let shape = x.shape
        if x === y {
            try x.data.withUnsafeMutableBufferPointer {
                try softmax(UnsafeBufferPointer($0), shape: shape, axis: axis, into: $0)
            }
        } else {
            try x.data.withUnsafeBufferPointer { input in
                try y.data.withUnsafeMutableBufferPointer { try softmax(input, shape: shape, axis: axis, into: $0) }
            }
        }
    }

    /// Writes `bottom[0].diff = y ⊙ (dy − Σ dy·y)` from `top[0]`'s data `y` and diff `dy`.
    ///
    /// - Parameters:
    ///   - top: the layer's output, `y` in its data and `dy` in its diff.
    ///   - propagateDown: `[false]` skips the work, as in Caffe.
    ///   - bottom: the layer's input, whose diff is written.
    /// - Throws: `LayerError.blobCount` or `SoftmaxError` (shape mismatch).
    public func backward<T: SoftmaxScalar>(top: [Blob<T>], propagateDown: [Bool] = [true], bottom: [Blob<T>]) throws {
        try checkBlobCount(bottom, 1...1, layer: "Softmax", role: "bottom")
        try checkBlobCount(top, 1...1, layer: "Softmax", role: "top")
        guard propagateDown.first ?? true else { return }
        let (x, y) = (bottom[0], top[0])
        guard x.shape == y.shape else {
            throw SoftmaxError.shapeMismatch(argument: "softmax top", expected: x.shape, actual: y.shape)
        }
        let (output, gradient) = (y.data, y.diff)
        try output.withUnsafeBufferPointer { yData in
            try gradient.withUnsafeBufferPointer { dy in
                try x.diff.withUnsafeMutableBufferPointer {
                    try softmaxBackward(output: yData, gradient: dy, shape: y.shape, axis: axis, into: $0)
                }
            }
        }
    }
}
