import MemoryHints

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

extension UnsafeMutablePointer where Pointee: KernelScalar {
    /// Stores `v` with a non-temporal (streaming) store where the vector type has one, which
    /// writes the line to memory without reading it into the cache first; an ordinary store
    /// otherwise.
    ///
    /// - Precondition: `self` is aligned to `MemoryLayout<V>.size`.
    @inlinable @inline(__always)
    public func streamVector<V: SIMD>(_ v: V) where V.Scalar == Pointee {
        #if arch(x86_64)
            let raw = UnsafeMutableRawPointer(self)
            if V.self == SIMD16<Float>.self {
                return softmax_stream_float16(
                    raw.assumingMemoryBound(to: Float.self), unsafeBitCast(v, to: SIMD16<Float>.self))
            }
            if V.self == SIMD8<Float>.self {
                return softmax_stream_float8(
                    raw.assumingMemoryBound(to: Float.self), unsafeBitCast(v, to: SIMD8<Float>.self))
            }
            if V.self == SIMD4<Float>.self {
                return softmax_stream_float4(
                    raw.assumingMemoryBound(to: Float.self), unsafeBitCast(v, to: SIMD4<Float>.self))
            }
            if V.self == SIMD8<Double>.self {
                return softmax_stream_double8(
                    raw.assumingMemoryBound(to: Double.self), unsafeBitCast(v, to: SIMD8<Double>.self))
            }
            if V.self == SIMD4<Double>.self {
                return softmax_stream_double4(
                    raw.assumingMemoryBound(to: Double.self), unsafeBitCast(v, to: SIMD4<Double>.self))
            }
            if V.self == SIMD2<Double>.self {
                return softmax_stream_double2(
                    raw.assumingMemoryBound(to: Double.self), unsafeBitCast(v, to: SIMD2<Double>.self))
            }
        #endif
        storeVector(v)
    }

    /// Scalars from `self` to the next address aligned for `streamVector` of `V` (0 when
    /// aligned; `V.scalarCount` or more if `self` is not even aligned to its scalar).
    @inlinable @inline(__always)
    public func scalarsToStreamAlignment<V: SIMD>(_: V.Type) -> Int where V.Scalar == Pointee {
        let size = MemoryLayout<V>.size
        let misalignment = Int(bitPattern: self) % size
        if misalignment == 0 { return 0 }
        let bytes = size - misalignment
        return bytes % MemoryLayout<Pointee>.stride == 0 ? bytes / MemoryLayout<Pointee>.stride : V.scalarCount
    }
}
