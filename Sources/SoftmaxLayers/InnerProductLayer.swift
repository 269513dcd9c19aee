import Softmax

/// Caffe's `InnerProduct` layer (PyTorch's `Linear`): `top = bottom · Wᵀ + b`.
///
/// `bottom` is `[N, …]`, flattened from axis 1 into `inputs` features per sample; `top` is
/// `[N, outputs]`.  The weights are `[outputs, inputs]` (Caffe's and PyTorch's layout) and the
/// bias `[outputs]`.  As in Caffe, `backward` *adds* to the parameters' `diff` (the solver
/// clears them after each update), and writes the bottom's `diff`.
///
/// Float only: training runs in `Float`.
public final class InnerProductLayer {
    /// Features per sample.
    public let inputs: Int
    /// Outputs per sample.
    public let outputs: Int
    /// `[outputs, inputs]`.
    public let weights: Blob<Float>
    /// `[outputs]`.
    public let bias: Blob<Float>

    /// A layer with Caffe's `xavier` weight filler (uniform in `±√(3 / inputs)`) drawn from
    /// `generator`, and a zero bias.
    ///
    /// - Throws: `SoftmaxError.invalidShape` unless both sizes are positive.
    public init(inputs: Int, outputs: Int, generator: inout SplitMix64) throws {
        guard inputs > 0, outputs > 0 else {
            throw SoftmaxError.invalidShape(
                shape: [outputs, inputs], reason: "an inner-product layer needs at least one input and one output")
        }
        self.inputs = inputs
        self.outputs = outputs
        weights = try Blob(shape: [outputs, inputs])
        bias = try Blob(shape: [outputs])
        let limit = (3 / Double(inputs)).squareRoot()
        for i in 0..<weights.count { weights.data[i] = Float((2 * generator.uniform() - 1) * limit) }
    }

    /// A layer with the given parameters.
    ///
    /// - Throws: `SoftmaxError` when the counts do not match the sizes.
    public init(inputs: Int, outputs: Int, weights: [Float], bias: [Float]) throws {
        guard inputs > 0, outputs > 0 else {
            throw SoftmaxError.invalidShape(
                shape: [outputs, inputs], reason: "an inner-product layer needs at least one input and one output")
        }
        self.inputs = inputs
        self.outputs = outputs
        self.weights = try Blob(shape: [outputs, inputs], data: weights)
        self.bias = try Blob(shape: [outputs], data: bias)
    }

    /// The learnable blobs, weights first (what a solver updates).
    public var parameters: [Blob<Float>] { [weights, bias] }

    /// `top = bottom · Wᵀ + b`.
    ///
    /// - Throws: `LayerError.blobCount`, or `SoftmaxError` when the bottom does not hold
    ///   `inputs` features per sample.
    /// - Complexity: O(N · inputs · outputs).
    public func forward(bottom: [Blob<Float>], top: [Blob<Float>]) throws {
        try checkBlobCount(bottom, 1...1, layer: "InnerProduct", role: "bottom")
        try checkBlobCount(top, 1...1, layer: "InnerProduct", role: "top")
        let samples = try sampleCount(bottom[0])
        try top[0].reshape([samples, outputs])
        // Y = X · Wᵀ + b: the bias fills Y, which the product then adds to (β = 1).
        let (inputs, outputs) = (inputs, outputs)
        top[0].data.withUnsafeMutableBufferPointer { y in
            for n in 0..<samples { (y.address + n * outputs).update(from: bias.data, count: outputs) }
            bottom[0].data.withUnsafeBufferPointer { x in
                weights.data.withUnsafeBufferPointer { w in
                    GEMM.multiply(
                        m: samples, n: outputs, k: inputs, MatrixOperand(x.address, rowStride: inputs),
                        MatrixOperand(w.address, rowStride: inputs, transpose: .transposed), beta: 1,
                        into: y.address, backend: Self.products)
                }
            }
        }
    }

    /// Adds `dW = dYᵀ · X` and `db = Σ dY` to the parameters' diffs and, when `propagateDown`,
    /// writes `bottom.diff = dY · W`.
    ///
    /// - Throws: `LayerError.blobCount`, or `.backwardBeforeForward` when the top does not
    ///   match the bottom.
    /// - Complexity: O(N · inputs · outputs).
    public func backward(top: [Blob<Float>], propagateDown: Bool = true, bottom: [Blob<Float>]) throws {
        try checkBlobCount(bottom, 1...1, layer: "InnerProduct", role: "bottom")
        try checkBlobCount(top, 1...1, layer: "InnerProduct", role: "top")
        let samples = try sampleCount(bottom[0])
        guard top[0].diff.count == samples * outputs else {
            throw LayerError.backwardBeforeForward(layer: "InnerProduct")
        }
        if propagateDown && bottom[0].diff.count != bottom[0].data.count {
            bottom[0].diff = [Float](repeating: 0, count: bottom[0].data.count)
        }
        let (inputs, outputs) = (inputs, outputs)
        top[0].diff.withUnsafeBufferPointer { dy in
            let dY = MatrixOperand(dy.address, rowStride: outputs)
            // dW += dYᵀ · X (β = 1: Caffe's layers add to the parameters' diffs).
            bottom[0].data.withUnsafeBufferPointer { x in
                weights.diff.withUnsafeMutableBufferPointer { dw in
                    GEMM.multiply(
                        m: outputs, n: inputs, k: samples,
                        MatrixOperand(dy.address, rowStride: outputs, transpose: .transposed),
                        MatrixOperand(x.address, rowStride: inputs), beta: 1, into: dw.address,
                        backend: Self.products)
                }
            }
            bias.diff.withUnsafeMutableBufferPointer { db in
                for n in 0..<samples {
                    for o in 0..<outputs { db[o] += dy[n * outputs + o] }
                }
            }
            guard propagateDown else { return }
            // dX = dY · W.
            weights.data.withUnsafeBufferPointer { w in
                bottom[0].diff.withUnsafeMutableBufferPointer { dx in
                    GEMM.multiply(
                        m: samples, n: inputs, k: outputs, dY, MatrixOperand(w.address, rowStride: inputs),
                        into: dx.address, backend: Self.products)
                }
            }
        }
    }

    /// The layer's products run on the built-in kernel, whatever BLAS the process found: its
    /// order of terms is fixed, so a seed trains the same model bit for bit on every machine
    /// (a BLAS's blocking depends on its build and the CPU), and the classifier's products
    /// are small enough that a BLAS's packing would not pay.
    private static let products = BuiltInGEMM()

    /// The number of samples of `blob`, checking it holds `inputs` features per sample.
    private func sampleCount(_ blob: Blob<Float>) throws -> Int {
        let samples = blob.shape.first ?? 1
        guard samples > 0 ? blob.count == samples * inputs : blob.count == 0 else {
            throw SoftmaxError.shapeMismatch(
                argument: "InnerProduct bottom", expected: [samples, inputs], actual: blob.shape)
        }
        return samples
    }
}
