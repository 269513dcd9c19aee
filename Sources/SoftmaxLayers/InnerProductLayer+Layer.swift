import Softmax

extension InnerProductLayer: Layer {
    /// `backward` with Caffe's one flag per bottom (one bottom here; no flag means `true`).
    ///
    /// - Throws: As `backward(top:propagateDown:bottom:)` with a single flag.
    /// - Complexity: O(N · inputs · outputs).
    public func backward(top: [Blob<Float>], propagateDown: [Bool], bottom: [Blob<Float>]) throws {
        try backward(top: top, propagateDown: propagateDown.first ?? true, bottom: bottom)
    }
}
