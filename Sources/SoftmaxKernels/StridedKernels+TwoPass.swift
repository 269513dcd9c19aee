import MemoryHints

/// Strided kernels in two passes for outputs too large for the caches (`usesTwoPasses`): pass 1
/// reads the scores from memory and keeps, per position, an exp shift and the sum of the
/// exponentials (`columnNormalizers`); pass 2 takes each exponential again from the scores,
/// now in L2, and writes the output once, with streaming stores (they skip reading each line
/// before writing it).
///
/// Pass 1 does half of the arithmetic while it waits on memory, which a three-pass kernel (a
/// maximum, then exponentials kept in a buffer, then the normalised output) cannot: its first
/// pass only compares, so each core alternates between waiting on memory and computing.  That
/// pays for the second exponential per element.  Keeping pass 1's exponentials in an L2 stage
/// for pass 2 does not (pass 2 is bound by its stores, pass 1 by arithmetic, and the stage's
/// stores slow pass 1), nor does running pass 1 of the next panel in pass 2's loop.  Used only
/// above the streaming threshold: with the scores in cache, arithmetic is what costs, and the
/// three-pass kernels are faster.  The figures: `docs/performance.md`.
///
/// A panel holds `panelCapacity` bytes of scores, so that they stay in L2 between the passes.
extension StridedKernels {
    /// Whether the strided kernels run in two passes: for outputs larger than the caches
    /// (`streaming`), with vectors of 256 bits or more (and FMA).  The 128-bit portable set is
    /// compute-bound there already, and a second exponential per element would cost it a
    /// third of its speed, so it keeps the staged three-pass kernels.  Every
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

    /// Allocates the scratch of a panel kernel over panels of `width` positions: `shift`, `sum`
    /// and `top` (a vector per vector of positions), `scalarArrays` per-position scalar arrays of
    /// `vectorCount(width)·w` scalars each from `scalars` on, then a stage of `classes·width`
    /// scalars (none with `classes` 0).  The last pass reads the scalar arrays and the stage at
    /// any offset, so one vector of padding follows.  The caller deallocates `raw`.
    @inlinable @inline(__always)
    static func allocatePanelScratch(width: Int, classes: Int, scalarArrays: Int) -> (
        raw: UnsafeMutableRawPointer, shift: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>,
        top: UnsafeMutablePointer<V>, scalars: UnsafeMutablePointer<Scalar>, stage: UnsafeMutablePointer<Scalar>
    ) {
        let w = V.scalarCount
        let vectors = vectorCount(width)
        let vectorBytes = 3 * vectors * MemoryLayout<V>.stride
        let scalarCount = scalarArrays * vectors * w + width * classes + w
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: vectorBytes + scalarCount * MemoryLayout<Scalar>.stride, alignment: MemoryLayout<V>.alignment)
        let shift = raw.bindMemory(to: V.self, capacity: 3 * vectors)
        let scalars = (raw + vectorBytes).bindMemory(to: Scalar.self, capacity: scalarCount)
        return (raw, shift, shift + vectors, shift + 2 * vectors, scalars, scalars + scalarArrays * vectors * w)
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
        // Per position: the exp shift, the sum and pass 1's scratch; as scalars, the shift and
        // 1/sum.  The stage only for three passes.
        let (scratch, shift, sum, top, shiftScalars, stage) = allocatePanelScratch(
            width: width, classes: twoPass ? 0 : n, scalarArrays: 2)
        defer { scratch.deallocate() }
        let inverse = shiftScalars + padded
        var start = 0
        while start < count {
            let panel = Swift.min(width, count - start)
            let (xp, yp) = (x + start, y + start)
            panelSums(
                twoPass: twoPass, xp, classes: n, stride: stride, count: panel, shift: shift, sum: sum, top: top,
                stage: stage)
            for g in 0..<vectorCount(panel) {
                (shiftScalars + g * w).storeVector(shift[g])
                (inverse + g * w).storeVector(laneInverse(sum[g]))
            }
            for c in 0..<n {
                if !twoPass { prefetchNextPanel(xp + c * stride, count: panel) }
                let run = ProbabilityRun<V>(
                    source: twoPass ? xp + c * stride : UnsafePointer(stage + c * panel),
                    shift: twoPass ? shiftScalars : nil, inverse: inverse)
                writeRun(to: yp + c * stride, count: panel, streaming: true, run)
            }
            start += panel
        }
        softmax_store_fence()
    }

    /// Each position's exp shift and sum of exponentials over a panel: in one read
    /// (`columnNormalizers`) for two passes, else the maximum as the shift (`columnShift`) then the
    /// exponentials summed and kept in `stage` (`stageExponentials`).
    @inlinable @inline(__always)
    static func panelSums(
        twoPass: Bool, _ x: UnsafePointer<Scalar>, classes n: Int, stride: Int, count: Int,
        shift: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>, top: UnsafeMutablePointer<V>,
        stage: UnsafeMutablePointer<Scalar>
    ) {
        if twoPass {
            columnNormalizers(x, classes: n, stride: stride, count: count, shift: shift, top: top, sum: sum)
        } else {
            columnShift(x, classes: n, stride: stride, count: count, into: shift)
            stageExponentials(x, classes: n, stride: stride, count: count, shift: shift, sum: sum, stage: stage)
        }
    }

    /// Pass 1 of the two-pass kernels: per position an exp shift `shift` and
    /// `sum = Σ_c exp(x_c − shift)`, in one read; `top` is scratch.
    ///
    /// The shift is the larger of the first two classes' scores, and each further score adds
    /// `exp(x − shift)` to the sum (`vectorExpShifted`: up to `e^64`) while the largest score
    /// is kept in `top`: one exponential and five other operations per score, no rescaling.
    /// Softmax does not depend on the shift; it only has to keep the exponentials finite,
    /// which a shift within 64 of the maximum does for any class count.  Where a position's
    /// maximum is 64 or more above the shift, or not a finite number above it (an infinity, a
    /// NaN in the first classes, a fully masked position), its lanes are computed again the
    /// careful way (`columnSums`: the maximum as the shift, read from L2), so scores
    /// of any spread give the same result to rounding.  Every lane depends only on its own
    /// position's scores, so no bit depends on how positions are grouped into vectors,
    /// panels or threads.
    @inlinable @inline(__always)
    static func columnNormalizers(
        _ x: UnsafePointer<Scalar>, classes n: Int, stride: Int, count: Int, shift: UnsafeMutablePointer<V>,
        top: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>
    ) {
        // No classes (possible with an empty output forced to stream): nothing to read.
        guard n > 0 else {
            for g in 0..<vectorCount(count) { (shift[g], sum[g]) = (V(repeating: 0), V(repeating: 0)) }
            return
        }
        let w = V.scalarCount
        let whole = count / w * w
        // Prefetches run two classes ahead of the sweep (see `columnShift` for the distance).
        @inline(__always) func ahead(_ c: Int) -> UnsafePointer<Scalar> { x + (c + 2 < n ? c + 2 : c) * stride }
        // Classes 0 and 1 give the shift.
        var i = 0
        while i < count {
            let (g, lanes) = (i / w, Swift.min(w, count - i))
            let v0 = (x + i).loadLanes(lanes, V.self)
            let v1 = n > 1 ? (x + stride + i).loadLanes(lanes, V.self) : v0
            let m = v0.laneMax(v1)
            (shift[g], top[g]) = (m, m)
            sum[g] = (v0 - m).vectorExpShifted() + (n > 1 ? (v1 - m).vectorExpShifted() : V(repeating: 0))
            softmax_prefetch_read(ahead(0) + i)
            softmax_prefetch_read(ahead(1) + i)
            i += lanes
        }
        // The other classes two at a time: each position's sum and maximum are loaded and
        // stored once per two scores (the kernel is compute-bound here).
        var c = 2
        while c + 1 < n {
            let (x0, x1, next0, next1) = (x + c * stride, x + (c + 1) * stride, ahead(c), ahead(c + 1))
            i = 0
            while i < whole {
                let g = i / w
                let (m, v0, v1) = (shift[g], (x0 + i).loadVector(V.self), (x1 + i).loadVector(V.self))
                sum[g] = sum[g] + (v0 - m).vectorExpShifted() + (v1 - m).vectorExpShifted()
                top[g] = top[g].laneMax(v0).laneMax(v1)
                softmax_prefetch_read(next0 + i)
                softmax_prefetch_read(next1 + i)
                i += w
            }
            if whole < count {
                let (g, lanes) = (whole / w, count - whole)
                let (m, v0, v1) = (
                    shift[g], (x0 + whole).loadLanes(lanes, V.self), (x1 + whole).loadLanes(lanes, V.self)
                )
                sum[g] = sum[g] + (v0 - m).vectorExpShifted() + (v1 - m).vectorExpShifted()
                top[g] = top[g].laneMax(v0).laneMax(v1)
            }
            c += 2
        }
        if c < n {
            let xc = x + c * stride
            i = 0
            while i < count {
                let (g, lanes) = (i / w, Swift.min(w, count - i))
                let v = (xc + i).loadLanes(lanes, V.self)
                sum[g] = sum[g] + (v - shift[g]).vectorExpShifted()
                top[g] = top[g].laneMax(v)
                i += lanes
            }
        }
        // Lanes whose maximum is not a finite number less than `shiftedExpBound` above the
        // shift (NaN compares false) are marked 1; one test per panel when none is.
        let bound = V(repeating: Scalar.shiftedExpBound)
        var outside = V(repeating: 0)
        for g in 0..<vectorCount(count) {
            outside = outside.laneMax(
                bound.selectGreater(than: top[g] - shift[g], then: V(repeating: 0), else: V(repeating: 1)))
        }
        guard outside.horizontalMax() > 0 else { return }
        for g in 0..<vectorCount(count) {
            let fast = bound.selectGreater(than: top[g] - shift[g], then: V(repeating: 1), else: V(repeating: 0))
            guard fast.horizontalSum() < Scalar(w) else { continue }
            // This vector's positions the staged kernels' way (`columnSums`: the maximum as the
            // shift, 0 where fully masked; a NaN or `+infinity` score makes the sum NaN), its
            // shift written over `top[g]`, which is no longer needed.
            var exactSum = V(repeating: 0)
            withUnsafeMutablePointer(to: &exactSum) {
                columnSums(
                    x + g * w, classes: n, stride: stride, count: Swift.min(w, count - g * w), shift: top + g, sum: $0)
            }
            shift[g] = fast.selectEqual(to: V(repeating: 1), then: shift[g], else: top[g])
            sum[g] = fast.selectEqual(to: V(repeating: 1), then: sum[g], else: exactSum)
        }
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

/// Softmax output of one class run: `e · (1/sum)`, `e` being `exp(x − shift)` from the
/// scores or read from the stage.
@frozen
public struct ProbabilityRun<V: SIMD>: PanelRun where V.Scalar: KernelScalar {
    /// The class's scores (with `shift`) or exponentials (without), position 0 of the panel.
    @usableFromInline let source: UnsafePointer<V.Scalar>
    /// Per position: the exp shift (two passes only) and 1/sum, padded to whole vectors.
    @usableFromInline let shift: UnsafePointer<V.Scalar>?
    @usableFromInline let inverse: UnsafePointer<V.Scalar>

    @inlinable @inline(__always)
    init(
        source: UnsafePointer<V.Scalar>, shift: UnsafeMutablePointer<V.Scalar>?,
        inverse: UnsafeMutablePointer<V.Scalar>
    ) {
        (self.source, self.shift, self.inverse) = (source, shift.map { UnsafePointer($0) }, UnsafePointer(inverse))
    }

    @inlinable @inline(__always)
    public func vector(at i: Int, lanes: Int) -> V {
        let loaded = (source + i).loadLanes(lanes, V.self)
        let e = shift.map { (loaded - ($0 + i).loadVector(V.self)).vectorExpShifted() } ?? loaded
        return e * (inverse + i).loadVector(V.self)
    }
}
