/// A small owned N-dimensional array: a shape and its elements in C order.
///
/// The convenience API of the package (`x.softmax(axis:)`, `crossEntropy(_:classIndices:)`)
/// works on it; the buffer API works on caller memory without copies.
public struct NDArray<Element: Sendable>: Sendable {
    /// The dimensions; `[]` for a 0-d array holding one element.
    public private(set) var shape: [Int]
    /// The elements in C order (last index fastest).
    public var scalars: [Element]

    /// An array of `scalars` with `shape`.
    ///
    /// - Throws: `SoftmaxError` when a dimension is negative, the count overflows, or
    ///   `scalars.count` is not the product of the dimensions.
    public init(shape: [Int], scalars: [Element]) throws {
        try checkCount(scalars.count, try Layout.elementCount(shape), "array")
        self.shape = shape
        self.scalars = scalars
    }

    /// An array of `shape` with every element `value`.
    ///
    /// - Throws: `SoftmaxError.invalidShape`.
    public init(repeating value: Element, shape: [Int]) throws {
        self.shape = shape
        self.scalars = [Element](repeating: value, count: try Layout.elementCount(shape))
    }

    /// An array built from already validated parts.
    init(validShape shape: [Int], scalars: [Element]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// The number of elements.
    public var count: Int { scalars.count }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The element at a multi-index (one index per dimension, each in range).
    public subscript(_ index: Int...) -> Element {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "NDArray: \(index.count) indices for rank \(shape.count)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "NDArray: index \(i) out of range 0..<\(d)")
            flat = flat * d + i
        }
        return flat
    }
}

extension NDArray: Equatable where Element: Equatable {}

extension NDArray where Element: SoftmaxScalar {
    /// Softmax along `axis` (default: the last).
    ///
    /// - Throws: `SoftmaxError.axisOutOfRange`.
    /// - Complexity: O(n).
    public func softmax(axis: Int = -1) throws -> NDArray {
        try mapped { try Softmax.softmax($0, shape: shape, axis: axis, into: $1) }
    }

    /// Log-softmax along `axis` (default: the last).
    ///
    /// - Throws: `SoftmaxError.axisOutOfRange`.
    /// - Complexity: O(n).
    public func logSoftmax(axis: Int = -1) throws -> NDArray {
        try mapped { try Softmax.logSoftmax($0, shape: shape, axis: axis, into: $1) }
    }

    /// `logsumexp` along `axis`; the result drops that axis (`-infinity` where it is empty).
    ///
    /// - Throws: `SoftmaxError.axisOutOfRange`, or `.tooLarge` when the result would exceed
    ///   `ResourceLimits.maximumBytes` (an empty axis beside huge dimensions), before allocating.
    /// - Complexity: O(n + positions).
    public func logSumExp(axis: Int = -1) throws -> NDArray {
        let layout = try Layout(shape: shape, axis: axis)
        var outShape = shape
        outShape.remove(at: try Layout.normalizedAxis(axis, rank: rank))
        try ResourceLimits.check(
            ResourceLimits.bytes(count: layout.positions, size: MemoryLayout<Element>.stride),
            for: "the logsumexp of shape \(SoftmaxError.shapeText(shape)) along axis \(axis)")
        var out = [Element](repeating: 0, count: layout.positions)
        try scalars.withUnsafeBufferPointer { x in
            try out.withUnsafeMutableBufferPointer { try Softmax.logSumExp(x, shape: shape, axis: axis, into: $0) }
        }
        return NDArray(validShape: outShape, scalars: out)
    }

    /// The softmax backward pass, with `self` the softmax output `y`: `y ⊙ (dy − Σ dy·y)`.
    ///
    /// - Parameters:
    ///   - gradient: `dy`, the gradient with respect to `y` (same shape).
    ///   - axis: the axis the softmax ran along.
    /// - Throws: `SoftmaxError` for a bad axis or a shape mismatch.
    public func softmaxBackward(gradient: NDArray, axis: Int = -1) throws -> NDArray {
        try checkSameShape(gradient, "gradient")
        return try gradient.scalars.withUnsafeBufferPointer { dy in
            try mapped { try Softmax.softmaxBackward(output: $0, gradient: dy, shape: shape, axis: axis, into: $1) }
        }
    }

    /// The log-softmax backward pass, with `self` the log-softmax output `y`: `dy − exp(y)·Σ dy`.
    ///
    /// - Parameters:
    ///   - gradient: `dy`, the gradient with respect to `y` (same shape).
    ///   - axis: the axis the log-softmax ran along.
    /// - Throws: `SoftmaxError` for a bad axis or a shape mismatch.
    public func logSoftmaxBackward(gradient: NDArray, axis: Int = -1) throws -> NDArray {
        try checkSameShape(gradient, "gradient")
        return try gradient.scalars.withUnsafeBufferPointer { dy in
            try mapped { try Softmax.logSoftmaxBackward(output: $0, gradient: dy, shape: shape, axis: axis, into: $1) }
        }
    }

    func checkSameShape(_ other: NDArray, _ argument: String) throws {
        guard other.shape == shape else {
            throw SoftmaxError.shapeMismatch(argument: argument, expected: shape, actual: other.shape)
        }
    }

    /// A new array of the same shape filled by `body(input, output)`.
    private func mapped(
        _ body: (UnsafeBufferPointer<Element>, UnsafeMutableBufferPointer<Element>) throws -> Void
    ) throws -> NDArray {
        var out = [Element](repeating: 0, count: count)
        try scalars.withUnsafeBufferPointer { x in try out.withUnsafeMutableBufferPointer { try body(x, $0) } }
        return NDArray(validShape: shape, scalars: out)
    }
}
