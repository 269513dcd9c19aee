import Softmax

extension ReLULayer: Layer {
    /// None: ReLU has no learnable parameters.
    public var parameters: [Blob<Float>] { [] }

    /// `backward` with Caffe's one flag per bottom: `[false]` skips the work (no flag means
    /// `true`).
    ///
    /// - Throws: As `backward(top:bottom:)`.
    /// - Complexity: O(count).
    public func backward(top: [Blob<Float>], propagateDown: [Bool], bottom: [Blob<Float>]) throws {
        guard propagateDown.first ?? true else { return }
        try backward(top: top, bottom: bottom)
    }
}
