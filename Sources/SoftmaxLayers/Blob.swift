import Softmax

/// Caffe's blob: an N-dimensional array with a value (`data`) and a gradient (`diff`) of the
/// same shape, shared between the layer that writes it and the layers that read it.
public final class Blob<Element: SoftmaxScalar> {
    /// The dimensions.
    public private(set) var shape: [Int]
    /// The values, C order.
    public var data: [Element]
    /// The gradient of the loss with respect to `data`, C order.
    public var diff: [Element]

    /// A blob of `shape` filled with zeros.
    ///
    /// - Throws: `SoftmaxError.invalidShape`.
    public init(shape: [Int]) throws {
        let count = try Layout.elementCount(shape)
        self.shape = shape
        self.data = [Element](repeating: 0, count: count)
        self.diff = [Element](repeating: 0, count: count)
    }

    /// A blob holding `data` with `shape` and a zero gradient.
    ///
    /// - Throws: `SoftmaxError` when the count does not match the shape.
    public convenience init(shape: [Int], data: [Element]) throws {
        try self.init(shape: shape)
        guard data.count == self.data.count else {
            throw SoftmaxError.countMismatch(argument: "blob data", expected: self.data.count, actual: data.count)
        }
        self.data = data
    }

    /// The number of elements.
    public var count: Int { data.count }

    /// Changes the shape, keeping the contents when the count is unchanged and zero-filling
    /// otherwise (as Caffe's `Reshape`, which reallocates only when it must grow).
    ///
    /// - Throws: `SoftmaxError.invalidShape`.
    public func reshape(_ newShape: [Int]) throws {
        let count = try Layout.elementCount(newShape)
        shape = newShape
        // `data` and `diff` are public: a caller may have resized either, so check both.
        if count != data.count { data = [Element](repeating: 0, count: count) }
        if count != diff.count { diff = [Element](repeating: 0, count: count) }
    }
}
