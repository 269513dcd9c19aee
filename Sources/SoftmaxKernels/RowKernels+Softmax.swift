extension RowKernels {
    /// Writes `y = softmax(x)` with one exponential per element: pass 1 reads `x` once, block
    /// by block, and writes `exp(x − blockMax)` (lane-wise maximum of the block) into `y` while
    /// summing it; pass 2 rescales each block of `y` in place by `exp(blockMax − max) / sum`,
    /// from cache for rows up to L2 size.  A fully masked row gives zeros, a NaN or `+infinity`
    /// makes the row NaN.
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
        onePass(logarithmic: false, x, y, count: n, scale: scale)
    }

    /// Writes `y = log_softmax(x)` reading `x` once: pass 1 writes `x − blockMax` and sums
    /// its exponentials, pass 2 adds `(blockMax − max) − log(sum)` in cache.  A fully masked
    /// row gives `-infinity` everywhere.  `x` and `y` may be the same buffer.
    ///
    /// - Complexity: O(count): one read of `x`, one write of `y`, one in-cache pass over `y`.
    @inlinable
    public static func logSoftmaxOnePass(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count n: Int) {
        _ = onePass(logarithmic: true, x, y, count: n, scale: 1)
    }

    /// The two one-pass kernels (`logarithmic` is a constant at each call site, so the
    /// branches fold away).
    @inlinable @inline(__always)
    static func onePass(
        logarithmic: Bool, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count n: Int,
        scale: Scalar
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
                let d0 = (x + i).loadVector(V.self) - shift
                let d1 = (x + i + w).loadVector(V.self) - shift
                let e0 = d0.vectorExpNonPositive()
                let e1 = d1.vectorExpNonPositive()
                (y + i).storeVector(logarithmic ? d0 : e0)
                (y + i + w).storeVector(logarithmic ? d1 : e1)
                s0 += e0
                s1 += e1
                i += 2 * w
            }
            while i < end {
                let lanes = Swift.min(w, end - i)
                // Lanes past the row are -infinity, so their exponential is 0.  Filling them
                // with 0 (as `loadLanes` does) gave `0 − shift`, which is positive when the
                // lane's maximum is below 0: for a maximum below about −88 the exponential
                // overflowed, and `∞·0` made the whole row NaN (found by the fuzzer).
                let tail =
                    lanes == w ? (x + i).loadVector(V.self) : (x + i).loadVector(count: lanes, fill: -.infinity, V.self)
                let d = tail - shift
                let e = d.vectorExpNonPositive()
                (y + i).storeLanes(logarithmic ? d : e, lanes)
                s0 += e
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
            total += blockSum[b] * factor
            // Pass 2's per-block term: the rescale factor, or for log-softmax the shift of
            // the stored differences (finite: masked lanes stay -infinity).
            blockMax[b] = logarithmic ? blockMax[b].maskedShift() - topShift : factor
        }
        let sum = total.horizontalSum()
        if logarithmic && sum == 0 {
            y.update(repeating: -.infinity, count: n)
            return Normalizer(max: top, sum: sum)
        }
        let logSum = logarithmic ? Scalar.scalarLog(sum) : 0
        let inverse = sum == 0 ? Scalar(0) : scale / sum
        for b in 0..<blocks {
            let term = logarithmic ? blockMax[b] - V(repeating: logSum) : blockMax[b] * V(repeating: inverse)
            @inline(__always) func apply(_ v: V) -> V { logarithmic ? v + term : v * term }
            let end = Swift.min((b + 1) * length, n)
            var i = b * length
            while i + w <= end {
                (y + i).storeVector(apply((y + i).loadVector(V.self)))
                i += w
            }
            if i < end { (y + i).storeLanes(apply((y + i).loadLanes(end - i, V.self)), end - i) }
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
