/// Caffe's geometry of a shape around its class axis, computed here independently of the
/// library: element (o, c, i) is at `(o·C + c)·inner + i`, a position is one (o, i) pair.
public struct Geometry {
    public let outer: Int
    public let classes: Int
    public let inner: Int

    public init(shape: [Int], axis: Int) {
        let a = axis < 0 ? axis + shape.count : axis
        precondition(a >= 0 && a < shape.count, "test bug: axis \(axis) for rank \(shape.count)")
        outer = shape[..<a].reduce(1, *)
        classes = shape[a]
        inner = shape[(a + 1)...].reduce(1, *)
    }

    public var positions: Int { outer * inner }
    public var count: Int { outer * classes * inner }

    public func offset(_ o: Int, _ c: Int, _ i: Int) -> Int { (o * classes + c) * inner + i }

    /// Calls `body(position, offsets)` for every position, with the offsets of its classes.
    /// Positions are numbered `o·inner + i`, the order of Caffe's label blob.
    public func forEachPosition(_ body: (Int, [Int]) -> Void) {
        for o in 0..<outer {
            for i in 0..<inner { body(o * inner + i, (0..<classes).map { offset(o, $0, i) }) }
        }
    }
}
