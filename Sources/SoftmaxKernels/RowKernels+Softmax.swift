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
    /// - Parameters:
    ///   - scale: multiplies every output (the fused loss writes `scale · p`).
    ///   - lseScale: adds `lseScale · logsumexp(x)` to `scale` once the row's normaliser is
    ///     known (the z-loss's gradient term); 0 leaves `scale` as it is.
    /// - Returns: the row's normaliser.
    /// - Complexity: O(count): one read of `x`, one write of `y`, one in-cache pass over `y`.
    @inlinable @discardableResult
    public static func softmaxOnePass(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count n: Int, scale: Scalar = 1,
        lseScale: Scalar = 0
    ) -> Normalizer<Scalar> {
        onePass(ProbabilityOutput.self, x, y, count: n, scale: scale, lseScale: lseScale)
    }

    /// `scale + lseScale · lse` for a row of maximum `top` and shifted sum `sum` (`scale`
    /// itself when `lseScale` is 0, or the row is fully masked).
    @inlinable @inline(__always)
    static func scaleWithLogSumExp(_ scale: Scalar, _ lseScale: Scalar, top: Scalar, sum: Scalar) -> Scalar {
        if lseScale == 0 || sum == 0 { return scale }
        return scale + lseScale * (Normalizer(max: top, sum: sum).shift + Scalar.scalarLog(sum))
    }

    /// Writes `y = log_softmax(x)` reading `x` once: pass 1 writes `x − blockMax` and sums
    /// its exponentials, pass 2 adds `(blockMax − max) − log(sum)` in cache.  A fully masked
    /// row gives `-infinity` everywhere.  `x` and `y` may be the same buffer.
    ///
    /// - Complexity: O(count): one read of `x`, one write of `y`, one in-cache pass over `y`.
    @inlinable
    public static func logSoftmaxOnePass(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count n: Int) {
        _ = onePass(LogProbabilityOutput.self, x, y, count: n, scale: 1, lseScale: 0)
    }

    /// The two one-pass kernels.  The output kind is a type, not a `Bool`, so that each
    /// specialisation has its `logarithmic` branches folded away: as a `Bool` argument the
    /// compiler kept a test and a branch per vector in every loop.
    @inlinable @inline(__always)
    static func onePass<Output: RowOutputKind>(
        _: Output.Type, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count n: Int,
        scale: Scalar, lseScale: Scalar
    ) -> Normalizer<Scalar> {
        if n <= blockLength { return singleBlock(Output.self, x, y, count: n, scale: scale, lseScale: lseScale) }
        let logarithmic = Output.logarithmic
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
            let tail = OverlappingTail<V>(x, from: start, to: end)
            let m = blockMaximum(x, from: start, to: tail.fullEnd, startingWith: tail.vector)
            blockMax[b] = m
            blockSum[b] = writeExponentials(
                Output.self, x, y, from: start, to: end, shift: m.maskedShift(), tail: tail, prefetch: false)
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
        let inverse = sum == 0 ? Scalar(0) : scaleWithLogSumExp(scale, lseScale, top: top, sum: sum) / sum
        for b in 0..<blocks {
            let term = logarithmic ? blockMax[b] - V(repeating: logSum) : blockMax[b] * V(repeating: inverse)
            rescale(Output.self, y, from: b * length, to: Swift.min((b + 1) * length, n), by: term)
        }
        return Normalizer(max: top, sum: sum)
    }

    /// `onePass` for a row of at most `blockLength` scores, which stays in L1 between the
    /// passes: the maximum, then `exp(x − max)` written and summed, then the rescale.  With
    /// one block the row's maximum is known before the exponentials, so there are no
    /// per-block shifts to reconcile.
    @inlinable @inline(__always)
    static func singleBlock<Output: RowOutputKind>(
        _: Output.Type, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count n: Int,
        scale: Scalar, lseScale: Scalar
    ) -> Normalizer<Scalar> {
        let tail = OverlappingTail<V>(x, from: 0, to: n)
        let top = blockMaximum(x, from: 0, to: tail.fullEnd, startingWith: tail.vector).horizontalMax()
        // The row is compute-bound in its exponential pass: the next row's lines are asked
        // for meanwhile, overlapping its memory traffic with this row's arithmetic.
        let sum = writeExponentials(
            Output.self, x, y, from: 0, to: n, shift: V(repeating: top).maskedShift(), tail: tail, prefetch: true
        ).horizontalSum()
        normalize(
            Output.self, y, count: n, sum: sum, scale: scaleWithLogSumExp(scale, lseScale, top: top, sum: sum))
        return Normalizer(max: top, sum: sum)
    }

    /// The last pass of a one-block row whose exponentials (or shifted scores) sum to `sum`:
    /// `y · scale/sum`, or `y − log(sum)`; a fully masked row (`sum` 0) gives zeros, or
    /// `-infinity` everywhere.
    @inlinable @inline(__always)
    static func normalize<Output: RowOutputKind>(
        _: Output.Type, _ y: UnsafeMutablePointer<Scalar>, count n: Int, sum: Scalar, scale: Scalar
    ) {
        if Output.logarithmic && sum == 0 {
            y.update(repeating: -.infinity, count: n)
            return
        }
        let term = V(repeating: Output.logarithmic ? -Scalar.scalarLog(sum) : (sum == 0 ? 0 : scale / sum))
        rescale(Output.self, y, from: 0, to: n, by: term)
    }

    /// Softmax (or log-softmax) of `rows` consecutive rows of `n ≤ blockLength` scores, as
    /// `singleBlock` row by row, with each row's maximum taken during the previous row's
    /// exponentials: the separate maximum pass waited on memory while the arithmetic units
    /// idled, and the exponential pass left the load ports free.
    ///
    /// `x` and `y` may be the same buffer (row `r + 1` of `x` is read before row `r + 1` of
    /// `y` is written).
    @inlinable
    public static func forwardRows<Output: RowOutputKind>(
        _: Output.Type, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count n: Int, rows: Int
    ) {
        if rows <= 0 { return }
        var tail = OverlappingTail<V>(x, from: 0, to: n)
        var top = blockMaximum(x, from: 0, to: tail.fullEnd, startingWith: tail.vector).horizontalMax()
        for r in 0..<rows {
            let (xr, yr) = (x + r * n, y + r * n)
            let hasNext = r + 1 < rows
            let nextTail = hasNext ? OverlappingTail<V>(xr + n, from: 0, to: n) : tail
            let (lanes, nextLanes) = writeExponentials(
                Output.self, xr, yr, from: 0, to: n, shift: V(repeating: top).maskedShift(), tail: tail,
                prefetchAhead: 2 * n, maximumOf: hasNext ? xr + n : nil)
            normalize(Output.self, yr, count: n, sum: lanes.horizontalSum(), scale: 1)
            if hasNext {
                // The next row's lanes past its full vectors: its overlapping tail, or (a row
                // shorter than a vector) its scores with -infinity beyond.
                var m = nextLanes
                if nextTail.overlaps {
                    m = m.laneMax(nextTail.vector)
                } else if n < V.scalarCount {
                    m = blockMaximum(xr + n, from: 0, to: n, startingWith: m)
                }
                top = m.horizontalMax()
                tail = nextTail
            }
        }
    }

    /// Writes `exp(x − shift)` (or `x − shift` for log-softmax) over `start..<end` and returns
    /// the lane-wise sum of the exponentials.
    ///
    /// - Parameters:
    ///   - tail: the block's partial last vector, read before any store (`y` may be `x`).
    ///   - prefetch: also ask for the cache lines one row (`end − start` scalars) ahead.
    @inlinable @inline(__always)
    static func writeExponentials<Output: RowOutputKind>(
        _: Output.Type, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, from start: Int,
        to end: Int, shift: V, tail: OverlappingTail<V>, prefetch: Bool
    ) -> V {
        writeExponentials(
            Output.self, x, y, from: start, to: end, shift: shift, tail: tail,
            prefetchAhead: prefetch ? end - start : nil, maximumOf: nil
        ).sum
    }

    /// `writeExponentials`, also asking for the lines `prefetchAhead` scalars on and taking
    /// the lane-wise maximum of `next[i]` over the full vectors `i` of the block (`-infinity`
    /// lanes when `next` is `nil`): the next row's maximum pass, done while this row's
    /// exponentials keep the arithmetic units busy.
    @inlinable @inline(__always)
    static func writeExponentials<Output: RowOutputKind>(
        _: Output.Type, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, from start: Int,
        to end: Int, shift: V, tail: OverlappingTail<V>, prefetchAhead: Int?, maximumOf next: UnsafePointer<Scalar>?
    ) -> (sum: V, nextMaximum: V) {
        let logarithmic = Output.logarithmic
        let w = V.scalarCount
        var s0 = V(repeating: 0)
        var s1 = V(repeating: 0)
        var m0 = V(repeating: -.infinity)
        var m1 = V(repeating: -.infinity)
        var i = start
        while i + 2 * w <= end {
            if let ahead = prefetchAhead {
                // Addresses past the buffer are harmless: a prefetch never faults.
                for line in stride(from: 0, to: 2 * w, by: Scalar.scalarsPerCacheLine) {
                    softmax_prefetch_read(x + ahead + i + line)
                    softmax_prefetch_write(y + ahead + i + line)
                }
            }
            if let next {
                m0 = m0.laneMax((next + i).loadVector(V.self))
                m1 = m1.laneMax((next + i + w).loadVector(V.self))
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
        if i + w <= end {
            if let next { m0 = m0.laneMax((next + i).loadVector(V.self)) }
            let d = (x + i).loadVector(V.self) - shift
            let e = d.vectorExpNonPositive()
            (y + i).storeVector(logarithmic ? d : e)
            s1 += e
            i += w
        }
        if tail.overlaps {
            let d = tail.vector - shift
            let e = d.vectorExpNonPositive()
            (y + end - w).storeVector(logarithmic ? d : e)
            s0 += e.keepingLanes(from: w - tail.partial)
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
        return (s0 + s1, m0.laneMax(m1))
    }

    /// `y ⊙ term` (or `y + term` for log-softmax) in place over `start..<end`, the partial last
    /// vector as the overlapping full one (read before the loop rewrites its first lanes).
    @inlinable @inline(__always)
    static func rescale<Output: RowOutputKind>(
        _: Output.Type, _ y: UnsafeMutablePointer<Scalar>, from start: Int, to end: Int, by term: V
    ) {
        @inline(__always) func apply(_ v: V) -> V { Output.logarithmic ? v + term : v * term }
        let w = V.scalarCount
        let tail = OverlappingTail<V>(UnsafePointer(y), from: start, to: end)
        var i = start
        while i + 2 * w <= end {
            let v0 = (y + i).loadVector(V.self)
            let v1 = (y + i + w).loadVector(V.self)
            (y + i).storeVector(apply(v0))
            (y + i + w).storeVector(apply(v1))
            i += 2 * w
        }
        if i + w <= end {
            (y + i).storeVector(apply((y + i).loadVector(V.self)))
            i += w
        }
        if tail.overlaps {
            (y + end - w).storeVector(apply(tail.vector))
        } else if i < end {
            (y + i).storeVector(apply((y + i).loadLanes(end - i, V.self)), count: end - i)
        }
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

/// What a row kernel writes, as a type so that generic specialisation folds the choice.
public protocol RowOutputKind {
    /// `true` for log-probabilities, `false` for probabilities.
    static var logarithmic: Bool { get }
}

/// Row kernels write probabilities.
public enum ProbabilityOutput: RowOutputKind {
    @inlinable public static var logarithmic: Bool { false }
}

/// Row kernels write log-probabilities.
public enum LogProbabilityOutput: RowOutputKind {
    @inlinable public static var logarithmic: Bool { true }
}

/// The partial last vector of a block `start..<end` (`start` a multiple of the vector width),
/// handled as the full vector ending at `end` when the block holds one: lane-by-lane loads and
/// stores cost ~5% of a 1000-score row.  Its first lanes overlap the previous vector; kernels
/// store them again with the same value and leave them out of sums.
public struct OverlappingTail<V: SIMD> where V.Scalar: KernelScalar {
    /// Scalars past the last full vector (0 when the block ends on a vector boundary).
    public let partial: Int
    /// Whether the block has a partial vector and at least one full one.
    public let overlaps: Bool
    /// The full vector ending at `end` when `overlaps`, else all `-infinity`.
    public let vector: V
    /// Where the full vectors end: `end − partial` when `overlaps`, else `end`.
    public let fullEnd: Int

    @inlinable @inline(__always)
    public init(_ x: UnsafePointer<V.Scalar>, from start: Int, to end: Int) {
        let w = V.scalarCount
        partial = (end - start) % w
        overlaps = partial != 0 && end - start >= w
        vector = overlaps ? (x + end - w).loadVector(V.self) : V(repeating: -.infinity)
        fullEnd = overlaps ? end - partial : end
    }
}
