import MemoryHints

/// Strided kernels in two passes for outputs too large for the caches (`usesTwoPasses`): pass 1 reads the
/// scores from memory and keeps, per position, a running maximum and the sum of exponentials
/// below it (rescaled when the maximum grows: the online normaliser); pass 2 takes each
/// exponential again from the scores, now in L2, and writes the output once, with streaming
/// stores (they skip reading each line before writing it).
///
/// Pass 1 does half of the arithmetic while it waits on memory, which a three-pass kernel (a
/// maximum, then exponentials kept in a buffer, then the normalised output) cannot: its first
/// pass only compares, so each core alternates between waiting on memory and computing.  On
/// 8×21×256×256 (two threads, alternating runs) this took softmax from 38–44 to 45–47 GB/s and
/// the cross-entropy training call from 28–30 to 30–33, although it takes two exponentials per
/// element instead of one.  Used only above the streaming threshold: with the scores in
/// cache, arithmetic is what costs, and the three-pass kernels are faster.
///
/// A panel holds `panelCapacity` bytes of scores, so that they stay in L2 between the passes.
extension StridedKernels {
    /// Whether the strided kernels run in two passes: for outputs larger than the caches
    /// (`streaming`), with vectors of 256 bits or more (and FMA).  The 128-bit portable set is
    /// compute-bound there already, and its second exponential cost a third of the speed
    /// (strided softmax 14 → 9 GB/s), so it keeps the staged three-pass kernels.  Every
    /// strided kernel asks this one question, so that they take their sums the same way.
    @inlinable @inline(__always)
    static func usesTwoPasses(streaming: Bool) -> Bool { streaming && MemoryLayout<V>.size >= 32 }

    /// Bytes of scores one panel of a two-pass kernel holds.
    @inlinable static var panelCapacity: Int { 256 * 1024 }

    /// Positions per panel so that `classes` runs of them fit `panelCapacity`, with `count`
    /// split evenly (a multiple of the vector width, at least one vector, at most `count`).
    @inlinable @inline(__always)
    static func twoPassWidth(classes: Int, count: Int) -> Int {
        let w = V.scalarCount
        let most = Swift.max(w, panelCapacity / MemoryLayout<Scalar>.stride / Swift.max(classes, 1) / w * w)
        let panels = (count + most - 1) / most
        return Swift.min(count, (vectorCount((count + panels - 1) / panels)) * w)
    }

    /// Positions per panel of the two-pass (`twoPassWidth`) or staged (`stagedWidth`) kernels.
    @inlinable @inline(__always)
    static func panelWidth(twoPass: Bool, classes: Int, count: Int) -> Int {
        twoPass ? twoPassWidth(classes: classes, count: count) : stagedWidth(classes: classes, count: count)
    }

    /// Allocates the scratch of a panel kernel over panels of `width` positions: `max` and
    /// `sum` (a vector per vector of positions), `scalarArrays` per-position scalar arrays of
    /// `vectorCount(width)·w` scalars each from `scalars` on, then a stage of `classes·width`
    /// scalars (none with `classes` 0).  The last pass reads the scalar arrays and the stage at
    /// any offset, so one vector of padding follows.  The caller deallocates `raw`.
    @inlinable @inline(__always)
    static func allocatePanelScratch(width: Int, classes: Int, scalarArrays: Int) -> (
        raw: UnsafeMutableRawPointer, max: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>,
        scalars: UnsafeMutablePointer<Scalar>, stage: UnsafeMutablePointer<Scalar>
    ) {
        let w = V.scalarCount
        let vectors = vectorCount(width)
        let vectorBytes = 2 * vectors * MemoryLayout<V>.stride
        let scalarCount = scalarArrays * vectors * w + width * classes + w
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: vectorBytes + scalarCount * MemoryLayout<Scalar>.stride, alignment: MemoryLayout<V>.alignment)
        let max = raw.bindMemory(to: V.self, capacity: 2 * vectors)
        let scalars = (raw + vectorBytes).bindMemory(to: Scalar.self, capacity: scalarCount)
        return (raw, max, max + vectors, scalars, scalars + scalarArrays * vectors * w)
    }

    /// Softmax of each position, as `softmax`, with `y` written once with streaming stores:
    /// in two passes where `usesTwoPasses`, else in three through the stage.
    ///
    /// `x` and `y` may be the same buffer.
    ///
    /// - Complexity: O(classes · count): `x` read from memory once, `y` written once, two
    ///   exponentials per element (one in three passes).
    @inlinable
    public static func softmaxStreaming(
        _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, classes n: Int, stride: Int, count: Int
    ) {
        let w = V.scalarCount
        let twoPass = usesTwoPasses(streaming: true)
        let width = panelWidth(twoPass: twoPass, classes: n, count: count)
        let padded = vectorCount(width) * w
        // Per position: the maximum and the sum; as scalars, the maximum and 1/sum.  The stage
        // only for three passes.
        let (scratch, max, sum, maxScalars, stage) = allocatePanelScratch(
            width: width, classes: twoPass ? 0 : n, scalarArrays: 2)
        defer { scratch.deallocate() }
        let inverse = maxScalars + padded
        var start = 0
        while start < count {
            let panel = Swift.min(width, count - start)
            let (xp, yp) = (x + start, y + start)
            panelSums(twoPass: twoPass, xp, classes: n, stride: stride, count: panel, max: max, sum: sum, stage: stage)
            for g in 0..<vectorCount(panel) {
                (maxScalars + g * w).storeVector(max[g])
                (inverse + g * w).storeVector(laneInverse(sum[g]))
            }
            for c in 0..<n {
                if !twoPass { prefetchNextPanel(xp + c * stride, count: panel) }
                let run = ProbabilityRun<V>(
                    source: twoPass ? xp + c * stride : UnsafePointer(stage + c * panel),
                    max: twoPass ? maxScalars : nil, inverse: inverse)
                writeRun(to: yp + c * stride, count: panel, streaming: true, run)
            }
            start += panel
        }
        softmax_store_fence()
    }

    /// Each position's maximum (the exp shift) and sum of exponentials over a panel: in one
    /// read (`columnNormalizers`) for two passes, else the maximum (`columnShift`) then the
    /// exponentials summed and kept in `stage` (`stageExponentials`).
    @inlinable @inline(__always)
    static func panelSums(
        twoPass: Bool, _ x: UnsafePointer<Scalar>, classes n: Int, stride: Int, count: Int,
        max: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>, stage: UnsafeMutablePointer<Scalar>
    ) {
        if twoPass {
            columnNormalizers(x, classes: n, stride: stride, count: count, max: max, sum: sum)
        } else {
            columnShift(x, classes: n, stride: stride, count: count, into: max)
            stageExponentials(x, classes: n, stride: stride, count: count, shift: max, sum: sum, stage: stage)
        }
    }

    /// Pass 1 of the two-pass kernels: per position the largest score `max` and
    /// `sum = Σ_c exp(x_c − max)`, in one read.
    ///
    /// Each score updates its position with one exponential, `exp(−|x − max|)`: the new term
    /// when `x` is not above the running maximum, else the factor that rescales the sum to
    /// the new maximum (and the new term is 1).  The maximum starts at the most negative
    /// finite number rather than `-infinity`, so that a `-infinity` score gives
    /// `exp(-infinity) = 0` instead of `exp(NaN)`; a fully masked position ends with sum 0,
    /// and pass 2's `exp(-infinity − max)` is 0 there.  A NaN score leaves the maximum and
    /// makes the sum NaN; so does a `+infinity` score.
    @inlinable @inline(__always)
    static func columnNormalizers(
        _ x: UnsafePointer<Scalar>, classes: Int, stride: Int, count: Int, max: UnsafeMutablePointer<V>,
        sum: UnsafeMutablePointer<V>
    ) {
        let one = V(repeating: 1)
        for g in 0..<vectorCount(count) { max[g] = V(repeating: -Scalar.greatestFiniteMagnitude) }
        clear(sum, count)
        for c in 0..<classes {
            let xc = x + c * stride
            // See `columnShift` for the distance.
            let next = c + 2 < classes ? xc + 2 * stride : xc
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                let (v, m, s) = ((xc + i).loadLanes(lanes, V.self), max[g], sum[g])
                let higher = v.selectGreater(than: m, then: v, else: m)
                let lower = v.selectGreater(than: m, then: m, else: v)
                let e = (lower - higher).vectorExpNonPositive()
                sum[g] = v.selectGreater(than: m, then: s.multiplyAdd(e, one), else: s + e)
                max[g] = higher
                softmax_prefetch_read(next + i)
                i += lanes
            }
        }
        // A `+infinity` score makes every exponential `exp(x − infinity)` 0 or NaN: the sum is
        // NaN there, as in the other kernels (the online sum would have stayed finite).
        let (infinity, nan) = (V(repeating: .infinity), V(repeating: .nan))
        for g in 0..<vectorCount(count) { sum[g] = max[g].selectEqual(to: infinity, then: nan, else: sum[g]) }
    }

    /// Writes `run.vector(at: i, lanes:)` (positions `i…`) to `destination[0..<count]`: with
    /// streaming stores from the first address aligned for them when `streaming` (the
    /// positions before it from one vector, stored lane by lane), else with ordinary stores.
    ///
    /// `run` is a generic value rather than a closure: closures holding an exponential were
    /// compiled out of line, a call per vector (half the speed).
    @inlinable @inline(__always)
    static func writeRun<Run: PanelRun>(
        to destination: UnsafeMutablePointer<Scalar>, count: Int, streaming: Bool, _ run: Run
    ) where Run.Vector == V {
        let w = V.scalarCount
        var i = 0
        if streaming {
            let head = Swift.min(count, destination.scalarsToStreamAlignment(V.self))
            if head > 0 { destination.storeLanes(run.vector(at: 0, lanes: Swift.min(w, count)), head) }
            i = head
            while i + w <= count {
                (destination + i).streamVector(run.vector(at: i, lanes: w))
                i += w
            }
        }
        while i < count {
            let lanes = Swift.min(w, count - i)
            (destination + i).storeLanes(run.vector(at: i, lanes: lanes), lanes)
            i += lanes
        }
    }
}

/// One class run of a panel kernel's output, computed a vector at a time by its last pass.
public protocol PanelRun {
    /// The vector type.
    associatedtype Vector: SIMD
    /// The output at positions `i..<i + lanes` (`lanes` at most the vector width; other
    /// lanes unused).
    func vector(at i: Int, lanes: Int) -> Vector
}

/// Softmax output of one class run: `e · (1/sum)`, `e` being `exp(x − max)` from the scores
/// or read from the stage.
@frozen
public struct ProbabilityRun<V: SIMD>: PanelRun where V.Scalar: KernelScalar {
    /// The class's scores (with `max`) or exponentials (without), position 0 of the panel.
    @usableFromInline let source: UnsafePointer<V.Scalar>
    /// Per position: the maximum (two passes only) and 1/sum, padded to whole vectors.
    @usableFromInline let max: UnsafePointer<V.Scalar>?
    @usableFromInline let inverse: UnsafePointer<V.Scalar>

    @inlinable @inline(__always)
    init(
        source: UnsafePointer<V.Scalar>, max: UnsafeMutablePointer<V.Scalar>?,
        inverse: UnsafeMutablePointer<V.Scalar>
    ) {
        (self.source, self.max, self.inverse) = (source, max.map { UnsafePointer($0) }, UnsafePointer(inverse))
    }

    @inlinable @inline(__always)
    public func vector(at i: Int, lanes: Int) -> V {
        let loaded = (source + i).loadLanes(lanes, V.self)
        let e = max.map { (loaded - ($0 + i).loadVector(V.self)).vectorExpNonPositive() } ?? loaded
        return e * (inverse + i).loadVector(V.self)
    }
}
