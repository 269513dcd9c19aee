import MemoryHints

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
        // A row that fits one block is compute-bound in its exponential pass; asking for the
        // next row's lines meanwhile overlaps its memory traffic with this row's arithmetic
        // (the prefetchers start each row late).  Addresses past the buffer are harmless: a
        // prefetch never faults.
        let prefetchNextRow = blocks == 1
        var blockMax = InlineArray<16, V>(repeating: V(repeating: -.infinity))
        var blockSum = InlineArray<16, V>(repeating: V(repeating: 0))
        var rowMax = V(repeating: -.infinity)
        for b in 0..<blocks {
            let start = b * length
            let end = Swift.min(start + length, n)
            // A partial last vector is handled as the full vector ending at `end` when the
            // block holds one (lane-by-lane loads and stores cost ~5% of a 1000-score row): its
            // lanes that overlap the previous vector are stored again with the same value and
            // left out of the sum.  Loaded before any store, since `y` may be `x`.
            let partial = (end - start) % w
            let overlapTail = partial != 0 && end - start >= w
            let tailVector = overlapTail ? (x + end - w).loadVector(V.self) : V(repeating: -.infinity)
            let m = blockMaximum(x, from: start, to: overlapTail ? end - partial : end, startingWith: tailVector)
            let shift = m.maskedShift()
            var s0 = V(repeating: 0)
            var s1 = V(repeating: 0)
            var i = start
            while i + 2 * w <= end {
                if prefetchNextRow {
                    for line in stride(from: 0, to: 2 * w, by: scalarsPerLine) {
                        softmax_prefetch_read(x + n + i + line)
                        softmax_prefetch_write(y + n + i + line)
                    }
                }
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
            while i + w <= end {
                let d = (x + i).loadVector(V.self) - shift
                let e = d.vectorExpNonPositive()
                (y + i).storeVector(logarithmic ? d : e)
                s1 += e
                i += w
            }
            if overlapTail {
                let d = tailVector - shift
                let e = d.vectorExpNonPositive()
                (y + end - w).storeVector(logarithmic ? d : e)
                s0 += e.keepingLanes(from: w - partial)
            } else if i < end {
                let lanes = end - i
                // Lanes past the row are -infinity, so their exponential is 0.  Filling them
                // with 0 (as `loadLanes` does) gave `0 − shift`, which is positive when the
                // lane's maximum is below 0: for a maximum below about −88 the exponential
                // overflowed, and `∞·0` made the whole row NaN (found by the fuzzer).
                let d = (x + i).loadVector(count: lanes, fill: -.infinity, V.self) - shift
                let e = d.vectorExpNonPositive()
                (y + i).storeVector(logarithmic ? d : e, count: lanes)
                s0 += e
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
            let start = b * length
            let end = Swift.min(start + length, n)
            // The overlapping last vector as in pass 1, read before the loop rescales its
            // first lanes.
            let overlapTail = (end - start) % w != 0 && end - start >= w
            let tailVector = overlapTail ? (y + end - w).loadVector(V.self) : V(repeating: 0)
            var i = start
            while i + w <= end {
                (y + i).storeVector(apply((y + i).loadVector(V.self)))
                i += w
            }
            if overlapTail {
                (y + end - w).storeVector(apply(tailVector))
            } else if i < end {
                (y + i).storeVector(apply((y + i).loadLanes(end - i, V.self)), count: end - i)
            }
        }
        return Normalizer(max: top, sum: sum)
    }

    /// Scalars per 64-byte cache line.
    @inlinable static var scalarsPerLine: Int { 64 / MemoryLayout<Scalar>.stride }

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
