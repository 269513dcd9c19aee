import MemoryHints

/// Strided kernels that keep their intermediate exponentials in a scratch panel ("stage")
/// instead of the output, so that the output is written once, by the last pass — with
/// streaming stores when it is too large to stay in cache (`streaming`), which skip reading
/// each line before writing it.  The stage is sized to stay in L2 (`stageCapacity`); a panel
/// with more classes is processed in narrower sub-panels.
extension StridedKernels {
    /// Scalars of stage one call uses at most.
    @inlinable static var stageCapacity: Int { 128 * 1024 / MemoryLayout<Scalar>.stride }

    /// Allocates the scratch of a staged kernel over sub-panels of `width` positions: `shift`
    /// and `sum` (a vector per vector of positions), `scalarArrays` per-position scalar arrays
    /// of `vectorCount(width)·w` scalars each from `scalars` on, then the stage of
    /// `classes·width` scalars.  Pass 3 reads the scalar arrays and the stage at any offset,
    /// so one vector of padding follows.  The caller deallocates `raw`.
    @inlinable @inline(__always)
    static func allocateStagedScratch(width: Int, classes: Int, scalarArrays: Int) -> (
        raw: UnsafeMutableRawPointer, shift: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>,
        scalars: UnsafeMutablePointer<Scalar>, stage: UnsafeMutablePointer<Scalar>
    ) {
        let w = V.scalarCount
        let vectors = vectorCount(width)
        let vectorBytes = 2 * vectors * MemoryLayout<V>.stride
        let scalarCount = scalarArrays * vectors * w + width * classes + w
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: vectorBytes + scalarCount * MemoryLayout<Scalar>.stride, alignment: MemoryLayout<V>.alignment)
        let shift = raw.bindMemory(to: V.self, capacity: 2 * vectors)
        let scalars = (raw + vectorBytes).bindMemory(to: Scalar.self, capacity: scalarCount)
        return (raw, shift, shift + vectors, scalars, scalars + scalarArrays * vectors * w)
    }

    /// Positions per sub-panel so that `classes` runs of them fit the stage (a multiple of the
    /// vector width, at least one vector, at most `count`).
    @inlinable @inline(__always)
    static func stagedWidth(classes: Int, count: Int) -> Int {
        let w = V.scalarCount
        return Swift.min(count, Swift.max(w, stageCapacity / Swift.max(classes, 1) / w * w))
    }

    /// Softmax of each position, as `softmax`, with `y` written once with streaming stores.
    ///
    /// `x` and `y` may be the same buffer.
    ///
    /// - Complexity: O(classes · count): `x` read from memory once, `y` written once, one
    ///   exponential per element.
    @inlinable
    public static func softmaxStreaming(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, classes n: Int, stride: Int, count: Int
    ) {
        let w = V.scalarCount
        let width = stagedWidth(classes: n, count: count)
        // Per position: the shift and the sum, and 1/sum as scalars (read at any offset by
        // the aligned stores).
        let (scratch, shift, sum, inverse, stage) = allocateStagedScratch(width: width, classes: n, scalarArrays: 1)
        defer { scratch.deallocate() }
        var start = 0
        while start < count {
            let panel = Swift.min(width, count - start)
            let (xp, yp) = (x + start, y + start)
            columnShift(xp, classes: n, stride: stride, count: panel, into: shift)
            stageExponentials(xp, classes: n, stride: stride, count: panel, shift: shift, sum: sum, stage: stage)
            for g in 0..<vectorCount(panel) { (inverse + g * w).storeVector(laneInverse(sum[g])) }
            for c in 0..<n {
                let stageC = stage + c * panel
                prefetchNextPanel(xp + c * stride, count: panel)
                writeRun(to: yp + c * stride, count: panel, streaming: true) { i in
                    (stageC + i).loadVector(V.self) * (inverse + i).loadVector(V.self)
                }
            }
            start += panel
        }
        softmax_store_fence()
    }

    /// Pass 2 of the staged kernels: `exp(x − shift)` of class `c`, position `i` into
    /// `stage[c·count + i]`, and each position's sum of them into `sum`.
    @inlinable @inline(__always)
    static func stageExponentials(
        _ x: UnsafePointer<Scalar>, classes n: Int, stride: Int, count: Int, shift: UnsafeMutablePointer<V>,
        sum: UnsafeMutablePointer<V>, stage: UnsafeMutablePointer<Scalar>
    ) {
        let w = V.scalarCount
        clear(sum, count)
        for c in 0..<n {
            let (xc, stageC) = (x + c * stride, stage + c * count)
            var i = 0
            while i < count {
                let (g, lanes) = (i / w, Swift.min(w, count - i))
                let e = ((xc + i).loadLanes(lanes, V.self) - shift[g]).vectorExpNonPositive()
                sum[g] += e
                (stageC + i).storeLanes(e, lanes)
                i += lanes
            }
        }
    }

    /// Asks for the scores of the next sub-panel of a class run (`count` positions on) to be
    /// brought into L2 while the last pass computes, so that the next first pass finds them
    /// there instead of waiting on memory.  Past the end of the array it fetches lines nobody
    /// uses, which is harmless (a prefetch never faults).
    @inlinable @inline(__always)
    static func prefetchNextPanel(_ run: UnsafePointer<Scalar>, count: Int) {
        let next = run + count
        for line in Swift.stride(from: 0, to: count, by: Scalar.scalarsPerCacheLine) {
            softmax_prefetch_read_l2(next + line)
        }
    }

    /// Writes `value(i)` (a vector of positions `i…`) to `destination[0..<count]`: with
    /// streaming stores from the first address aligned for them (single positions before it)
    /// when `streaming`, else with ordinary stores.  `value` may be asked for a vector at any
    /// position below `count`, its lanes past `count` unused.
    @inlinable @inline(__always)
    static func writeRun(
        to destination: UnsafeMutablePointer<Scalar>, count: Int, streaming: Bool, _ value: (Int) -> V
    ) {
        let w = V.scalarCount
        var i = 0
        if streaming {
            let head = Swift.min(count, destination.scalarsToStreamAlignment(V.self))
            while i < head {
                destination[i] = value(i)[0]
                i += 1
            }
            while i + w <= count {
                (destination + i).streamVector(value(i))
                i += w
            }
        }
        while i < count {
            let lanes = Swift.min(w, count - i)
            (destination + i).storeLanes(value(i), lanes)
            i += lanes
        }
    }
}
