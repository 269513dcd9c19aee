import MemoryHints

/// The stage of the three-pass panel kernels (`softmaxStreaming` and `crossEntropyGradient`
/// where `usesTwoPasses` is false): the exponentials kept in a scratch panel instead of the
/// output, so that the output is written once, by the last pass.  The stage is sized to stay in L2 (`stageCapacity`); a panel with
/// more classes is processed in narrower sub-panels.
extension StridedKernels {
    /// Scalars of stage one call uses at most.
    @inlinable static var stageCapacity: Int { 128 * 1024 / MemoryLayout<Scalar>.stride }

    /// Positions per sub-panel so that `classes` runs of them fit the stage (a multiple of the
    /// vector width, at least one vector, at most `count`).
    @inlinable @inline(__always)
    static func stagedWidth(classes: Int, count: Int) -> Int {
        let w = V.scalarCount
        return Swift.min(count, Swift.max(w, stageCapacity / Swift.max(classes, 1) / w * w))
    }

    /// Pass 2 of the staged kernel: `exp(x − shift)` of class `c`, position `i` into
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
}
