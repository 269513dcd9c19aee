/// The Caffe geometry of an array around its class axis: element (o, c, i) is at
/// `o·classes·inner + c·inner + i`.  A position is one (o, i) pair, numbered `o·inner + i`.
public struct Layout: Sendable, Equatable {
    /// Product of the dimensions before the class axis.
    public var outer: Int
    /// The class-axis dimension `C`.
    public var classes: Int
    /// Product of the dimensions after the class axis.
    public var inner: Int

    /// A layout from its three counts.
    @inlinable @inline(__always)
    public init(outer: Int, classes: Int, inner: Int) {
        self.outer = outer
        self.classes = classes
        self.inner = inner
    }

    /// Number of positions, `outer · inner`.
    @inlinable @inline(__always) public var positions: Int { outer * inner }

    /// Number of elements, `outer · classes · inner`.
    @inlinable @inline(__always) public var count: Int { outer * classes * inner }

    /// Offset of class 0 of position `p`.
    @inlinable @inline(__always)
    public func offset(ofPosition p: Int) -> Int {
        inner == 1 ? p * classes : (p / inner) * classes * inner + p % inner
    }
}
