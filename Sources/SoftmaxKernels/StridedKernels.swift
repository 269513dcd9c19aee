/// Kernels over a group of up to `V.scalarCount` neighbouring positions of a strided layout
/// (`inner > 1`, e.g. the pixels of an NCHW image): lane `k` is position `i0 + k`, and class
/// `c` of every lane is one contiguous vector at `base + c·stride`.  Vectorised across
/// positions, looping over classes; nothing is transposed.
///
/// `lanes` (≤ `V.scalarCount`) is the number of valid positions; the other lanes are computed
/// on zeros and never stored.
public enum StridedKernels<V: SIMD> where V.Scalar: KernelScalar {
    /// The element type.
    public typealias Scalar = V.Scalar

    /// Per-lane maximum (as the exp shift: 0 for fully masked lanes) and sum of exponentials.
    ///
    /// - Complexity: O(classes · lanes); two reads of the group (the second from cache).
    @inlinable
    public static func normalizers(
        _ x: UnsafePointer<Scalar>, classes: Int, stride: Int, lanes: Int
    ) -> (max: V, shift: V, sum: V) {
        var m = V(repeating: -.infinity)
        for c in 0..<classes { m = m.laneMax((x + c * stride).loadLanes(lanes, V.self)) }
        let shift = m.maskedShift()
        var s = V(repeating: 0)
        for c in 0..<classes { s += ((x + c * stride).loadLanes(lanes, V.self) - shift).vectorExp() }
        return (m, shift, s)
    }

    /// Writes softmax of each lane's position; fully masked positions give zeros.
    @inlinable
    public static func softmax(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>,
        classes: Int, stride: Int, lanes: Int
    ) {
        let (_, shift, sum) = normalizers(x, classes: classes, stride: stride, lanes: lanes)
        let inverse = laneInverse(sum)
        for c in 0..<classes {
            let o = c * stride
            (y + o).storeLanes(((x + o).loadLanes(lanes, V.self) - shift).vectorExp() * inverse, lanes)
        }
    }

    /// Writes log-softmax of each lane's position; fully masked positions give `-infinity`.
    @inlinable
    public static func logSoftmax(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>,
        classes: Int, stride: Int, lanes: Int
    ) {
        let (_, shift, sum) = normalizers(x, classes: classes, stride: stride, lanes: lanes)
        let logSum = laneLog(sum)
        for c in 0..<classes {
            let o = c * stride
            var v = ((x + o).loadLanes(lanes, V.self) - shift) - logSum
            v = sum.selectEqual(to: V(repeating: 0), then: V(repeating: -.infinity), else: v)
            (y + o).storeLanes(v, lanes)
        }
    }

    /// Writes `logsumexp` of each lane's position to `out[0..<lanes]`.
    @inlinable
    public static func logSumExp(
        _ x: UnsafePointer<Scalar>, into out: UnsafeMutablePointer<Scalar>,
        classes: Int, stride: Int, lanes: Int
    ) {
        let (m, _, sum) = normalizers(x, classes: classes, stride: stride, lanes: lanes)
        for k in 0..<lanes {
            if m[k] == .infinity {
                var value = Scalar.infinity
                for c in 0..<classes where x[c * stride + k].isNaN { value = .nan }
                out[k] = value
            } else {
                out[k] = m[k] + Scalar.scalarLog(sum[k])
            }
        }
    }

    /// Softmax backward per lane: `dx = y ⊙ (dy − Σ_c dy·y)`.
    @inlinable
    public static func softmaxBackward(
        output y: UnsafePointer<Scalar>, gradient dy: UnsafePointer<Scalar>,
        into dx: UnsafeMutablePointer<Scalar>, classes: Int, stride: Int, lanes: Int
    ) {
        var dot = V(repeating: 0)
        for c in 0..<classes {
            dot += (y + c * stride).loadLanes(lanes, V.self) * (dy + c * stride).loadLanes(lanes, V.self)
        }
        for c in 0..<classes {
            let o = c * stride
            (dx + o).storeLanes((y + o).loadLanes(lanes, V.self) * ((dy + o).loadLanes(lanes, V.self) - dot), lanes)
        }
    }

    /// Log-softmax backward per lane: `dx = dy − exp(y) · Σ_c dy`.
    @inlinable
    public static func logSoftmaxBackward(
        output y: UnsafePointer<Scalar>, gradient dy: UnsafePointer<Scalar>,
        into dx: UnsafeMutablePointer<Scalar>, classes: Int, stride: Int, lanes: Int
    ) {
        var total = V(repeating: 0)
        for c in 0..<classes { total += (dy + c * stride).loadLanes(lanes, V.self) }
        for c in 0..<classes {
            let o = c * stride
            (dx + o).storeLanes(
                (dy + o).loadLanes(lanes, V.self) - (y + o).loadLanes(lanes, V.self).vectorExp() * total, lanes)
        }
    }

    // MARK: - Helpers

    /// `1 / sum` per lane, 0 where the sum is 0 (fully masked), so probabilities come out 0.
    @inlinable @inline(__always)
    static func laneInverse(_ sum: V) -> V {
        sum.selectEqual(to: V(repeating: 0), then: V(repeating: 0), else: V(repeating: 1) / sum)
    }

    /// What the loss kernels' second pass needs per lane: the exp shift, the sum of
    /// exponentials, its logarithm and `laneInverse`.  For log-probability input (`logits`
    /// false) the scores are used as they are: shift 0, sum 1, log 0, inverse 1.
    @inlinable @inline(__always)
    static func scoreTerms(
        _ x: UnsafePointer<Scalar>, classes: Int, stride: Int, lanes: Int, logits: Bool
    ) -> (shift: V, sum: V, logSum: V, inverse: V) {
        guard logits else { return (V(repeating: 0), V(repeating: 1), V(repeating: 0), V(repeating: 1)) }
        let (_, shift, sum) = normalizers(x, classes: classes, stride: stride, lanes: lanes)
        return (shift, sum, laneLog(sum), laneInverse(sum))
    }

    /// Lane-wise natural logarithm through the scalar function (once per position, not per
    /// element, so it stays off the hot loop).
    @inlinable @inline(__always)
    static func laneLog(_ v: V) -> V {
        var r = V(repeating: 0)
        for k in 0..<V.scalarCount { r[k] = Scalar.scalarLog(v[k]) }
        return r
    }
}
