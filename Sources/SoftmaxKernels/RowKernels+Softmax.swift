extension RowKernels {
    /// Writes `y = softmax(x)` with one exponential per element: pass 1 reads `x` once, block
    /// by block, and writes `exp(x − blockMax)` (lane-wise maximum of the block) into `y` while
    /// summing it; pass 2 rescales each block of `y` in place by `exp(blockMax − max) / sum`,
    /// from cache for rows up to L2 size.  Same results as `normalizer` + `softmax` (a fully
    /// masked row gives zeros, a NaN or `+infinity` makes the row NaN), about twice the speed
    /// when the exponential bounds the time.
    ///
    /// `x` and `y` may be the same buffer.
    ///
    /// - Parameter scale: multiplies every output (the fused loss writes `scale · p`).
    /// - Returns: the row's normaliser.
    /// - Complexity: O(count): one read of `x`, one write of `y`, one in-cache pass over `y`.
    @inlinable @discardableResult
    public static func softmaxOnePass(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count n: Int, scale: Scalar = 1
    ) -> Normalizer<Scalar> {
        let w = V.scalarCount
        // At most `maxBlocks` blocks: longer rows get longer blocks, so the per-block state
        // fits a fixed stack array (no closure-based temporary allocation in the hot path,
        // whose bodies the compiler kept out of line).
        let length = Swift.max(blockLength, ((n + maxBlocks - 1) / maxBlocks + w - 1) / w * w)
        let blocks = (n + length - 1) / length
        var blockMax = InlineArray<16, V>(repeating: V(repeating: -.infinity))
        var blockSum = InlineArray<16, V>(repeating: V(repeating: 0))
        var rowMax = V(repeating: -.infinity)
        for b in 0..<blocks {
            let start = b * length
            let end = Swift.min(start + length, n)
            let m = blockMaximum(x, from: start, to: end, startingWith: V(repeating: -.infinity))
            let shift = m.maskedShift()
            var s0 = V(repeating: 0)
            var s1 = V(repeating: 0)
            var i = start
            while i + 2 * w <= end {
                let e0 = ((x + i).loadVector(V.self) - shift).vectorExpNonPositive()
                let e1 = ((x + i + w).loadVector(V.self) - shift).vectorExpNonPositive()
                (y + i).storeVector(e0)
                (y + i + w).storeVector(e1)
                s0 += e0
                s1 += e1
                i += 2 * w
            }
            while i < end {
                let lanes = Swift.min(w, end - i)
                let e = ((x + i).loadLanes(lanes, V.self) - shift).vectorExpNonPositive()
                (y + i).storeLanes(e, lanes)
                s0 += lanes == w ? e : e * V.firstLanes(lanes, 1)
                i += lanes
            }
            blockMax[b] = m
            blockSum[b] = s0 + s1
            rowMax = rowMax.laneMax(m)
        }
        let top = rowMax.horizontalMax()
        let topShift = V(repeating: top).maskedShift()
        // Per block and lane: exp(blockMax − max), 0 for masked lanes (whose shift was 0).
        var total = V(repeating: 0)
        for b in 0..<blocks {
            let factor = blockMax[b].selectEqual(
                to: V(repeating: -.infinity), then: V(repeating: 0),
                else: (blockMax[b].maskedShift() - topShift).vectorExpNonPositive())
            blockMax[b] = factor
            total += blockSum[b] * factor
        }
        let sum = total.horizontalSum()
        let inverse = sum == 0 ? Scalar(0) : scale / sum
        for b in 0..<blocks {
            let blockScale = blockMax[b] * V(repeating: inverse)
            let end = Swift.min((b + 1) * length, n)
            var i = b * length
            while i + w <= end {
                (y + i).storeVector((y + i).loadVector(V.self) * blockScale)
                i += w
            }
            if i < end { (y + i).storeLanes((y + i).loadLanes(end - i, V.self) * blockScale, end - i) }
        }
        return Normalizer(max: top, sum: sum)
    }

    /// The most blocks `softmaxOnePass` splits a row into.
    @inlinable static var maxBlocks: Int { 16 }

    /// `forEachVector` over `start..<end` (`start` a multiple of the vector width).
    @inlinable @inline(__always)
    static func forEachVector(from start: Int, to end: Int, _ body: (Int, Int) -> Void) {
        let w = V.scalarCount
        var i = start
        while i < end {
            let lanes = Swift.min(w, end - i)
            body(i, lanes)
            i += lanes
        }
    }
}
