import Softmax

/// Caffe's `ReLU` layer: `top = max(bottom, 0)`; `bottom.diff = top.diff` where `bottom > 0`,
/// else 0.  May run in place (`top` the same blob as `bottom`), as Caffe allows.
public final class ReLULayer {
    /// A ReLU layer.
    public init() {}

    /// `top = max(bottom, 0)`.
    ///
    /// - Throws: `LayerError.blobCount`.
    public func forward(bottom: [Blob<Float>], top: [Blob<Float>]) throws {
        try checkBlobCount(bottom, 1...1, layer: "ReLU", role: "bottom")
        try checkBlobCount(top, 1...1, layer: "ReLU", role: "top")
        if top[0] !== bottom[0] { try top[0].reshape(bottom[0].shape) }
        let input = bottom[0].data
        top[0].data.withUnsafeMutableBufferPointer { y in
            for i in 0..<input.count { y[i] = input[i] > 0 ? input[i] : 0 }
        }
    }

    /// `bottom.diff = top.diff ⊙ [bottom > 0]` (in place: `top.data > 0`, the same condition).
    ///
    /// - Throws: `LayerError.blobCount` or `.backwardBeforeForward`.
    public func backward(top: [Blob<Float>], bottom: [Blob<Float>]) throws {
        try checkBlobCount(bottom, 1...1, layer: "ReLU", role: "bottom")
        try checkBlobCount(top, 1...1, layer: "ReLU", role: "top")
        guard top[0].diff.count == bottom[0].data.count else { throw LayerError.backwardBeforeForward(layer: "ReLU") }
        let x = bottom[0].data
        let dy = top[0].diff
        if bottom[0].diff.count != x.count { bottom[0].diff = [Float](repeating: 0, count: x.count) }
        bottom[0].diff.withUnsafeMutableBufferPointer { dx in
            for i in 0..<x.count { dx[i] = x[i] > 0 ? dy[i] : 0 }
        }
    }
}
