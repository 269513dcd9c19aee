@_exported import struct SoftmaxKernels.Layout

extension Layout {
    /// The geometry of `shape` around `axis` (negative counts from the end).
    ///
    /// - Throws: `SoftmaxError.axisOutOfRange` or `.invalidShape` (negative dimension, or an
    ///   element count that overflows `Int`).
    public init(shape: [Int], axis: Int) throws {
        let axis = try Self.normalizedAxis(axis, rank: shape.count)
        let count = try Self.elementCount(shape)
        let classes = shape[axis]
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        self.init(outer: outer, classes: classes, inner: inner)
        assert(count == self.count)
    }

    /// `axis` in `0..<rank`, or an error naming it.
    public static func normalizedAxis(_ axis: Int, rank: Int) throws -> Int {
        guard rank > 0, axis >= -rank, axis < rank else {
            throw SoftmaxError.axisOutOfRange(axis: axis, rank: rank)
        }
        return axis < 0 ? axis + rank : axis
    }

    /// The number of elements of `shape`, or an error when a dimension is negative or the
    /// product overflows `Int`.
    ///
    /// Zero dimensions are skipped in the overflow check, so that every partial product (the
    /// outer and inner counts) fits in `Int` too, even when the total is 0.
    public static func elementCount(_ shape: [Int]) throws -> Int {
        var count = 1
        for d in shape where d != 1 {
            if d == 0 { continue }
            guard d >= 0 else { throw SoftmaxError.invalidShape(shape: shape, reason: "dimension \(d) is negative") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw SoftmaxError.invalidShape(shape: shape, reason: "the element count overflows Int")
            }
            count = product
        }
        return shape.contains(0) ? 0 : count
    }
}

/// Throws unless `count` is what the shape needs.
package func checkCount(_ count: Int, _ expected: Int, _ argument: String) throws {
    guard count == expected else {
        throw SoftmaxError.countMismatch(argument: argument, expected: expected, actual: count)
    }
}

/// The C-order multi-index of flat index `flat` in `shape`.
func multiIndex(_ flat: Int, in shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rest = flat
    for d in shape.indices.reversed() where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}
