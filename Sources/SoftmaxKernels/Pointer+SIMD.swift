/// Vector loads and stores at any alignment, and partial ones for row tails.
extension UnsafePointer where Pointee: KernelScalar {
    /// Loads `V.scalarCount` consecutive scalars.
    @inlinable @inline(__always)
    public func loadVector<V: SIMD>(_: V.Type = V.self) -> V where V.Scalar == Pointee {
        UnsafeRawPointer(self).loadUnaligned(as: V.self)
    }

    /// Loads `count < V.scalarCount` scalars; the other lanes hold `fill`.
    @inlinable @inline(__always)
    public func loadVector<V: SIMD>(count: Int, fill: Pointee, _: V.Type = V.self) -> V
    where V.Scalar == Pointee {
        var v = V(repeating: fill)
        for k in 0..<count { v[k] = self[k] }
        return v
    }

    /// Loads `lanes` scalars: a full vector when `lanes == V.scalarCount`, else a partial one
    /// whose other lanes are 0.  Kernels whose lanes are independent use it for tails.
    @inlinable @inline(__always)
    public func loadLanes<V: SIMD>(_ lanes: Int, _: V.Type = V.self) -> V where V.Scalar == Pointee {
        lanes == V.scalarCount ? loadVector(V.self) : loadVector(count: lanes, fill: 0, V.self)
    }
}

extension UnsafeMutablePointer where Pointee: KernelScalar {
    /// Stores all lanes of `v` at consecutive addresses.
    @inlinable @inline(__always)
    public func storeVector<V: SIMD>(_ v: V) where V.Scalar == Pointee {
        UnsafeMutableRawPointer(self).storeBytes(of: v, as: V.self)
    }

    /// Stores the first `count` lanes of `v`.
    @inlinable @inline(__always)
    public func storeVector<V: SIMD>(_ v: V, count: Int) where V.Scalar == Pointee {
        for k in 0..<count { self[k] = v[k] }
    }

    /// Stores the first `lanes` lanes of `v` (all of them with one vector store when full).
    @inlinable @inline(__always)
    public func storeLanes<V: SIMD>(_ v: V, _ lanes: Int) where V.Scalar == Pointee {
        if lanes == V.scalarCount { storeVector(v) } else { storeVector(v, count: lanes) }
    }

    /// Loads `V.scalarCount` consecutive scalars.
    @inlinable @inline(__always)
    public func loadVector<V: SIMD>(_: V.Type = V.self) -> V where V.Scalar == Pointee {
        UnsafePointer(self).loadVector(V.self)
    }

    /// Loads `lanes` scalars; see `UnsafePointer.loadLanes`.
    @inlinable @inline(__always)
    public func loadLanes<V: SIMD>(_ lanes: Int, _: V.Type = V.self) -> V where V.Scalar == Pointee {
        UnsafePointer(self).loadLanes(lanes, V.self)
    }
}
