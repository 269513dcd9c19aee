import MemoryHints

/// The training call of the strided cross-entropy — scores as logits, class-index targets, no
/// label smoothing, the gradient as the only element-wise output (the loss of an NCHW
/// segmentation step) — with the exponentials staged in a scratch panel instead of the
/// gradient buffer.
///
/// `crossEntropy(_:targets:…)` keeps the exponentials in the gradient buffer between its
/// passes, so every gradient line is first read from memory (the write-allocate) and later
/// written back: three trips to memory per element besides the scores.  Here pass 2 writes
/// them into `stage` (reused for every panel, so it stays in L2), and pass 3 writes each
/// gradient element once — with streaming stores when `streaming`, which skip the read.
/// Per-position terms are folded into three scalar arrays that pass 3 reads at any offset,
/// so the stores can start at an aligned address whatever the buffer's alignment.
extension StridedKernels {
    /// Whether `crossEntropyGradient` computes this call (the training call of
    /// `crossEntropy(_:targets:…)`; class numbers exact in `Scalar`).
    @inlinable @inline(__always)
    public static func stagesGradient(
        parameters k: CrossEntropyParameters<Scalar>, outputs: CrossEntropyOutputPointers<Scalar>
    ) -> Bool {
        !k.inputIsLogProbability && k.smoothing == 0 && outputs.gradient != nil && outputs.probabilities == nil
            && outputs.logProbabilities == nil && k.classes <= 1 << Scalar.significandBitCount
    }

    /// `crossEntropy(_:targets:…)` for calls where `stagesGradient` holds: the same losses and
    /// gradient.
    ///
    /// - Parameter streaming: write the gradient with streaming stores (for outputs larger than
    ///   the caches, which the next reader takes from memory anyway).
    /// - Complexity: O(classes · count): the scores read from memory once, the gradient
    ///   written once; one exponential per element.
    @inlinable
    public static func crossEntropyGradient(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>, stride: Int, count: Int,
        parameters k: CrossEntropyParameters<Scalar>, gradient: UnsafeMutablePointer<Scalar>,
        losses: UnsafeMutablePointer<Scalar>, streaming: Bool
    ) {
        let width = stagedWidth(classes: k.classes, count: count)
        let padded = vectorCount(width) * V.scalarCount
        // Per position: the shift and the sum; as scalars, the target score, then 1/sum; the
        // target's coefficient, then the gradient's scale times it; the target class (−1 when
        // ignored).
        let (scratch, shift, sum, factor, stage) = allocateStagedScratch(
            width: width, classes: k.classes, scalarArrays: 3)
        defer { scratch.deallocate() }
        let (oneHot, targetClass) = (factor + padded, factor + 2 * padded)
        var start = 0
        while start < count {
            let panel = Swift.min(width, count - start)
            gradientPanel(
                x + start, targets: targets + start, stride: stride, count: panel, parameters: k,
                gradient: gradient + start, losses: losses + start, streaming: streaming,
                scratch: (shift, sum, factor, oneHot, targetClass, stage))
            start += panel
        }
        if streaming { softmax_store_fence() }
    }

    /// One panel of `crossEntropyGradient` (`count` at most the scratch's width).
    @inlinable @inline(__always)
    static func gradientPanel(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>, stride: Int, count: Int,
        parameters k: CrossEntropyParameters<Scalar>, gradient: UnsafeMutablePointer<Scalar>,
        losses: UnsafeMutablePointer<Scalar>, streaming: Bool,
        scratch: (
            shift: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>, factor: UnsafeMutablePointer<Scalar>,
            oneHot: UnsafeMutablePointer<Scalar>, targetClass: UnsafeMutablePointer<Scalar>,
            stage: UnsafeMutablePointer<Scalar>
        )
    ) {
        let (shift, sum, factor, oneHot, targetClass, stage) = scratch
        let n = k.classes
        let w = V.scalarCount
        columnShift(x, classes: n, stride: stride, count: count, into: shift)
        // The target's score and coefficient, read before anything is written (the gradient
        // may be the scores' buffer).  Lanes past `count` are ignored positions.
        for i in 0..<(vectorCount(count) * w) {
            let t = i < count ? Int(targets[i]) : -1
            targetClass[i] = t < 0 ? -1 : Scalar(t)
            factor[i] = t < 0 ? 0 : x[t * stride + i]
            oneHot[i] = t < 0 ? 0 : k.weight(t)
        }
        stageExponentials(x, classes: n, stride: stride, count: count, shift: shift, sum: sum, stage: stage)
        let (zero, infinity) = (V(repeating: 0), V(repeating: Scalar.infinity))
        let gradientScale = V(repeating: k.gradientScale)
        for g in 0..<vectorCount(count) {
            let o = g * w
            let s = sum[g]
            let active = (targetClass + o).loadVector(V.self).selectGreater(
                than: V(repeating: -0.5), then: V(repeating: 1), else: zero)
            let coefficient = (oneHot + o).loadVector(V.self)
            let d = ((factor + o).loadVector(V.self) - shift[g]) - s.vectorLog()
            let targetLogp = s.selectEqual(to: zero, then: -infinity, else: d)
            let loss = active.selectEqual(to: zero, then: zero, else: zero - coefficient.weightedTerm(targetLogp))
            (losses + o).storeLanes(loss, Swift.min(w, count - o))
            // gradient_c = scale·w_t·(e_c·(1/s)) − [c = t]·scale·w_t, 0 for ignored positions:
            // the general kernel's operations in its order, so both give the same bits.
            (factor + o).storeVector(laneInverse(s))
            (oneHot + o).storeVector(active * gradientScale * coefficient)
            // A zero gradient scale zeroes the whole gradient, even where a score is NaN.
            if k.gradientScale == 0 { (targetClass + o).storeVector(V(repeating: -1)) }
        }
        for c in 0..<n {
            let (gc, stageC) = (gradient + c * stride, stage + c * count)
            prefetchNextPanel(x + c * stride, count: count)
            let classNumber = V(repeating: Scalar(c))
            writeRun(to: gc, count: count, streaming: streaming) { i in
                let t = (targetClass + i).loadVector(V.self)
                let scaled = (oneHot + i).loadVector(V.self)
                let g = scaled * ((stageC + i).loadVector(V.self) * (factor + i).loadVector(V.self))
                let withOneHot = t.selectEqual(to: classNumber, then: g - scaled, else: g)
                return t.selectGreater(than: V(repeating: -0.5), then: withOneHot, else: V(repeating: 0))
            }
        }
    }
}
