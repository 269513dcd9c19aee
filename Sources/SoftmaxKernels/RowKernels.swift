/// Kernels over one contiguous row of `count` scores (the class axis is the last one,
/// `inner == 1`), vectorised along the row with vectors of type `V`.
///
/// Every function is `@inlinable` so that the module instantiating it compiles it with its own
/// instruction-set flags.
public enum RowKernels<V: SIMD> where V.Scalar: KernelScalar {
    /// The element type.
    public typealias Scalar = V.Scalar

    /// Elements per block of the online normaliser: a block is reduced to its maximum, then
    /// re-read from L1 for the exponentials, so the row is read from memory once.
    @inlinable static var blockLength: Int { 2048 }

    /// Maximum and sum of exponentials of a row in one read (online normaliser: a running
    /// maximum per lane, the lane's sum rescaled when the maximum grows).
    ///
    /// Sums are accumulated per block, then across blocks, which bounds the rounding error like
    /// a two-level pairwise sum.
    ///
    /// - Complexity: O(count), one read of the row.
    @inlinable
    public static func normalizer(_ x: UnsafePointer<Scalar>, count n: Int) -> Normalizer<Scalar> {
        let w = V.scalarCount
        var runningMax = V(repeating: -.infinity)
        var runningSum = V(repeating: 0)
        var start = 0
        while start < n {
            let end = Swift.min(start + blockLength, n)
            let blockMax = blockMaximum(x, from: start, to: end, startingWith: runningMax)
            let shift = blockMax.maskedShift()
            var blockSum0 = V(repeating: 0)
            var blockSum1 = V(repeating: 0)
            var i = start
            while i + 2 * w <= end {
                blockSum0 += ((x + i).loadVector(V.self) - shift).vectorExpNonPositive()
                blockSum1 += ((x + i + w).loadVector(V.self) - shift).vectorExpNonPositive()
                i += 2 * w
            }
            while i + w <= end {
                blockSum0 += ((x + i).loadVector(V.self) - shift).vectorExpNonPositive()
                i += w
            }
            if i < end {
                blockSum1 += ((x + i).loadVector(count: end - i, fill: -.infinity, V.self) - shift)
                    .vectorExpNonPositive()
            }
            runningSum = runningSum * (runningMax - shift).vectorExpNonPositive() + (blockSum0 + blockSum1)
            runningMax = blockMax
            start = end
        }
        let m = runningMax.horizontalMax()
        let total = (runningSum * (runningMax - V(repeating: m).maskedShift()).vectorExpNonPositive()).horizontalSum()
        return Normalizer(max: m, sum: total)
    }

    /// `logsumexp` of a row: `-infinity` when fully masked, `+infinity` when a score is
    /// `+infinity` (unless a score is NaN: then NaN).
    @inlinable
    public static func logSumExp(
        _ x: UnsafePointer<Scalar>, count n: Int, normalizer: Normalizer<Scalar>
    ) -> Scalar {
        if normalizer.max == .infinity {
            for i in 0..<n where x[i].isNaN { return .nan }
            return .infinity
        }
        return normalizer.max + normalizer.logSum
    }

    /// Softmax backward (Caffe's formula): `dx = y ⊙ (dy − Σ dy·y)`.
    @inlinable
    public static func softmaxBackward(
        output y: UnsafePointer<Scalar>, gradient dy: UnsafePointer<Scalar>,
        into dx: UnsafeMutablePointer<Scalar>, count n: Int
    ) {
        var acc = V(repeating: 0)
        forEachVector(count: n) { i, lanes in
            acc += (y + i).loadLanes(lanes, V.self) * (dy + i).loadLanes(lanes, V.self)
        }
        let dot = V(repeating: acc.horizontalSum())
        forEachVector(count: n) { i, lanes in
            (dx + i).storeLanes((y + i).loadLanes(lanes, V.self) * ((dy + i).loadLanes(lanes, V.self) - dot), lanes)
        }
    }

    /// Log-softmax backward: `dx = dy − exp(y) · Σ dy`, with `y` the log-softmax output.
    @inlinable
    public static func logSoftmaxBackward(
        output y: UnsafePointer<Scalar>, gradient dy: UnsafePointer<Scalar>,
        into dx: UnsafeMutablePointer<Scalar>, count n: Int
    ) {
        var acc = V(repeating: 0)
        forEachVector(count: n) { i, lanes in acc += (dy + i).loadLanes(lanes, V.self) }
        let total = V(repeating: acc.horizontalSum())
        forEachVector(count: n) { i, lanes in
            (dx + i).storeLanes(
                (dy + i).loadLanes(lanes, V.self) - (y + i).loadLanes(lanes, V.self).vectorExp() * total, lanes)
        }
    }

    // MARK: - Loop helpers

    /// The lane-wise maximum of `x[start..<end]` and `initial` (a tail lane past `end` counts as
    /// `-infinity`).
    @inlinable @inline(__always)
    static func blockMaximum(
        _ x: UnsafePointer<Scalar>, from start: Int, to end: Int, startingWith initial: V
    ) -> V {
        let w = V.scalarCount
        // Four independent running maxima: with one, each compare waited for the previous
        // one's result (2 cycles a vector on a row in L1 instead of ~1).
        var m0 = initial
        var m1 = initial
        var m2 = initial
        var m3 = initial
        var i = start
        while i + 4 * w <= end {
            m0 = m0.laneMax((x + i).loadVector(V.self))
            m1 = m1.laneMax((x + i + w).loadVector(V.self))
            m2 = m2.laneMax((x + i + 2 * w).loadVector(V.self))
            m3 = m3.laneMax((x + i + 3 * w).loadVector(V.self))
            i += 4 * w
        }
        while i + w <= end {
            m0 = m0.laneMax((x + i).loadVector(V.self))
            i += w
        }
        if i < end { m1 = m1.laneMax((x + i).loadVector(count: end - i, fill: -.infinity, V.self)) }
        return m0.laneMax(m1).laneMax(m2.laneMax(m3))
    }

    /// Calls `body(offset, lanes)` for each vector of the row: full ones (`lanes ==
    /// V.scalarCount`), then the tail.  One call site, so that the body is inlined into the loop
    /// (with a second call site for the tail the compiler kept it out of line: a call per vector).
    @inlinable @inline(__always)
    static func forEachVector(count n: Int, _ body: (Int, Int) -> Void) {
        forEachVector(from: 0, to: n, body)
    }
}
