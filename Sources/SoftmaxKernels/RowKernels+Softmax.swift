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
        let blocks = (n + blockLength - 1) / blockLength
        return withUnsafeTemporaryAllocation(of: V.self, capacity: 2 * Swift.max(blocks, 1)) { scratch in
            let blockMax = scratch.baseAddress!
            let blockSum = blockMax + blocks
            var rowMax = V(repeating: -.infinity)
            for b in 0..<blocks {
                let start = b * blockLength
                let end = Swift.min(start + blockLength, n)
                let m = blockMaximum(x, from: start, to: end, startingWith: V(repeating: -.infinity))
                let shift = m.maskedShift()
                var s = V(repeating: 0)
                forEachVector(from: start, to: end) { i, lanes in
                    let e = ((x + i).loadLanes(lanes, V.self) - shift).vectorExp()
                    (y + i).storeLanes(e, lanes)
                    s += lanes == w ? e : e * V.firstLanes(lanes, 1)
                }
                blockMax[b] = m
                blockSum[b] = s
                rowMax = rowMax.laneMax(m)
            }
            let top = rowMax.horizontalMax()
            let topShift = V(repeating: top).maskedShift()
            // Per block and lane: exp(blockMax − max), 0 for masked lanes (whose shift was 0).
            func factor(_ b: Int) -> V {
                blockMax[b].selectEqual(
                    to: V(repeating: -.infinity), then: V(repeating: 0),
                    else: (blockMax[b].maskedShift() - topShift).vectorExp())
            }
            var total = V(repeating: 0)
            for b in 0..<blocks { total += blockSum[b] * factor(b) }
            let sum = total.horizontalSum()
            let inverse = sum == 0 ? Scalar(0) : scale / sum
            for b in 0..<blocks {
                let blockScale = factor(b) * V(repeating: inverse)
                forEachVector(from: b * blockLength, to: Swift.min((b + 1) * blockLength, n)) { i, lanes in
                    (y + i).storeLanes((y + i).loadLanes(lanes, V.self) * blockScale, lanes)
                }
            }
            return Normalizer(max: top, sum: sum)
        }
    }

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
