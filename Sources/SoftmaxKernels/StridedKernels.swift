import MemoryHints

/// Kernels over a panel of up to `panelLength` neighbouring positions of a strided layout
/// (`inner > 1`, e.g. the pixels of an NCHW image): position `i` of the panel, class `c` is at
/// `base[c·stride + i]`, so each class of the panel is one contiguous run of `count` scalars.
/// Vectorised across positions, looping over classes; nothing is transposed.
///
/// Each pass walks the panel class by class, so memory is read in runs of `count` scalars that
/// the hardware prefetchers follow, and a panel (`count · classes` scalars) stays in L2 between
/// passes: the scores are read from memory once and the output written once.  Per-position
/// state (maximum, sum) lives in a small scratch array of vectors.
///
/// Lanes past `count` in the last vector are computed on zeros and never stored.
///
/// The per-vector loops are written out, not passed as closures to a loop helper: the
/// compiler kept such closure bodies out of line (a call per vector), which cost a third of
/// the speed here.
public enum StridedKernels<V: SIMD> where V.Scalar: KernelScalar {
    /// The element type.
    public typealias Scalar = V.Scalar

    /// Positions per panel: long enough runs for the prefetchers, short enough that the panel
    /// stays in L2 for a few hundred classes and the scratch stays on the stack.
    @inlinable public static var panelLength: Int { 4096 }

    /// Writes softmax of each position; fully masked positions give zeros.
    ///
    /// `x` and `y` may be the same buffer.
    ///
    /// - Complexity: O(classes · count): one exponential per element; `x` is read twice and `y`
    ///   written twice, the second time of each from cache.
    @inlinable
    public static func softmax(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, classes: Int, stride: Int, count: Int
    ) {
        let (shift, n) = allocateScratch(count, arrays: 2)
        defer { shift.deallocate() }
        let sum = shift + n
        columnShift(x, classes: classes, stride: stride, count: count, into: shift)
        clear(sum, count)
        for c in 0..<classes {
            let (xc, yc) = (x + c * stride, y + c * stride)
            let nextY = c + 1 < classes ? yc + stride : yc  // its lines are written next
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                let e = ((xc + i).loadLanes(lanes, V.self) - shift[g]).vectorExpNonPositive()
                softmax_prefetch_write(nextY + i)
                (yc + i).storeLanes(e, lanes)
                sum[g] += e
                i += lanes
            }
        }
        for g in 0..<vectorCount(count) { sum[g] = laneInverse(sum[g]) }
        for c in 0..<classes {
            let yc = y + c * stride
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                (yc + i).storeLanes((yc + i).loadLanes(lanes, V.self) * sum[g], lanes)
                i += lanes
            }
        }
    }

    /// Writes log-softmax of each position; fully masked positions give `-infinity`.
    ///
    /// `x` and `y` may be the same buffer.
    @inlinable
    public static func logSoftmax(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, classes: Int, stride: Int, count: Int
    ) {
        let (shift, n) = allocateScratch(count, arrays: 2)
        defer { shift.deallocate() }
        let sum = shift + n
        columnSums(x, classes: classes, stride: stride, count: count, shift: shift, sum: sum)
        for g in 0..<vectorCount(count) {
            // log(sum), or 0 where fully masked (x − 0 − 0 is then -infinity).  Subtracted
            // after the shift: shift + log(sum) would round away digits of large scores.
            sum[g] = sum[g].selectEqual(to: V(repeating: 0), then: V(repeating: 0), else: sum[g].vectorLog())
        }
        for c in 0..<classes {
            let (xc, yc) = (x + c * stride, y + c * stride)
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                (yc + i).storeLanes(((xc + i).loadLanes(lanes, V.self) - shift[g]) - sum[g], lanes)
                i += lanes
            }
        }
    }

    /// Writes `logsumexp` of each position to `out[0..<count]`.
    @inlinable
    public static func logSumExp(
        _ x: UnsafePointer<Scalar>, into out: UnsafeMutablePointer<Scalar>, classes: Int, stride: Int, count: Int
    ) {
        let (shift, n) = allocateScratch(count, arrays: 2)
        defer { shift.deallocate() }
        let sum = shift + n
        columnSums(x, classes: classes, stride: stride, count: count, shift: shift, sum: sum)
        for i in 0..<count {
            let (g, k) = (i / V.scalarCount, i % V.scalarCount)
            if shift[g][k] == .infinity {
                var value = Scalar.infinity
                for c in 0..<classes where x[c * stride + i].isNaN { value = .nan }
                out[i] = value
            } else {
                // A fully masked position has shift 0 and sum 0: 0 + log 0 = -infinity.
                out[i] = shift[g][k] + Scalar.scalarLog(sum[g][k])
            }
        }
    }

    /// Softmax backward per position: `dx = y ⊙ (dy − Σ_c dy·y)`.
    ///
    /// `dx` may be the same buffer as `y` or `dy`.
    @inlinable
    public static func softmaxBackward(
        output y: UnsafePointer<Scalar>, gradient dy: UnsafePointer<Scalar>,
        into dx: UnsafeMutablePointer<Scalar>, classes: Int, stride: Int, count: Int
    ) {
        let (dot, _) = allocateScratch(count, arrays: 1)
        defer { dot.deallocate() }
        clear(dot, count)
        for c in 0..<classes {
            let (yc, dyc) = (y + c * stride, dy + c * stride)
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                dot[g] += (yc + i).loadLanes(lanes, V.self) * (dyc + i).loadLanes(lanes, V.self)
                i += lanes
            }
        }
        for c in 0..<classes {
            let o = c * stride
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                let value = (y + o + i).loadLanes(lanes, V.self) * ((dy + o + i).loadLanes(lanes, V.self) - dot[g])
                (dx + o + i).storeLanes(value, lanes)
                i += lanes
            }
        }
    }

    /// Log-softmax backward per position: `dx = dy − exp(y) · Σ_c dy`.
    ///
    /// `dx` may be the same buffer as `y` or `dy`.
    @inlinable
    public static func logSoftmaxBackward(
        output y: UnsafePointer<Scalar>, gradient dy: UnsafePointer<Scalar>,
        into dx: UnsafeMutablePointer<Scalar>, classes: Int, stride: Int, count: Int
    ) {
        let (total, _) = allocateScratch(count, arrays: 1)
        defer { total.deallocate() }
        clear(total, count)
        for c in 0..<classes {
            let dyc = dy + c * stride
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                total[g] += (dyc + i).loadLanes(lanes, V.self)
                i += lanes
            }
        }
        for c in 0..<classes {
            let o = c * stride
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                let value =
                    (dy + o + i).loadLanes(lanes, V.self) - (y + o + i).loadLanes(lanes, V.self).vectorExp()
                    * total[g]
                (dx + o + i).storeLanes(value, lanes)
                i += lanes
            }
        }
    }

    // MARK: - Passes shared by the kernels

    /// Pass 1: each position's maximum over the classes, stored as the exp shift (0 for a fully
    /// masked position, see `maskedShift`).
    @inlinable @inline(__always)
    static func columnShift(
        _ x: UnsafePointer<Scalar>, classes: Int, stride: Int, count: Int, into shift: UnsafeMutablePointer<V>
    ) {
        for g in 0..<vectorCount(count) { shift[g] = V(repeating: -.infinity) }
        for c in 0..<classes {
            let xc = x + c * stride
            // The run two classes on, ahead of the hardware prefetcher, which restarts its
            // stream at every jump of `stride` (one class on: 2–3% slower on 8×21×256×256,
            // four: 3% slower).
            let next = c + 2 < classes ? xc + 2 * stride : xc
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                shift[g] = shift[g].laneMax((xc + i).loadLanes(lanes, V.self))
                softmax_prefetch_read(next + i)
                i += lanes
            }
        }
        for g in 0..<vectorCount(count) { shift[g] = shift[g].maskedShift() }
    }

    /// Passes 1 and 2 without writing: each position's exp shift and `Σ_c exp(x − shift)`.
    @inlinable @inline(__always)
    static func columnSums(
        _ x: UnsafePointer<Scalar>, classes: Int, stride: Int, count: Int,
        shift: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>
    ) {
        columnShift(x, classes: classes, stride: stride, count: count, into: shift)
        clear(sum, count)
        for c in 0..<classes {
            let xc = x + c * stride
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                sum[g] += ((xc + i).loadLanes(lanes, V.self) - shift[g]).vectorExpNonPositive()
                i += lanes
            }
        }
    }

    // MARK: - Helpers

    /// Vectors needed for `count` positions.
    @inlinable @inline(__always)
    static func vectorCount(_ count: Int) -> Int { (count + V.scalarCount - 1) / V.scalarCount }

    /// Zeros the per-position vectors of `count` positions.
    @inlinable @inline(__always)
    static func clear(_ p: UnsafeMutablePointer<V>, _ count: Int) {
        for g in 0..<vectorCount(count) { p[g] = V(repeating: 0) }
    }

    /// Allocates `arrays` per-position scratch arrays of `n = vectorCount(count)` vectors each
    /// (array `k` starts at `scratch + k·n`); the caller deallocates `scratch`.
    ///
    /// A heap block per panel (a few microseconds of work) rather than a temporary allocation:
    /// kernel bodies inside its closure were compiled as separate functions and the per-vector
    /// loop bodies were no longer inlined (a call per vector, half the speed).
    @inlinable @inline(__always)
    static func allocateScratch(_ count: Int, arrays: Int) -> (scratch: UnsafeMutablePointer<V>, n: Int) {
        let n = vectorCount(count)
        return (UnsafeMutablePointer<V>.allocate(capacity: Swift.max(1, n * arrays)), n)
    }

    /// `1 / sum` per lane, 0 where the sum is 0 (fully masked), so probabilities come out 0.
    @inlinable @inline(__always)
    static func laneInverse(_ sum: V) -> V {
        sum.selectEqual(to: V(repeating: 0), then: V(repeating: 0), else: V(repeating: 1) / sum)
    }

}
