import MemoryHints

/// The training call of the strided cross-entropy — scores as logits, class-index targets, the
/// gradient as the only element-wise output (the loss of an NCHW segmentation step), with or
/// without label smoothing — written once per element.
///
/// `crossEntropy(_:targets:…)` keeps the exponentials in the gradient buffer between its
/// passes, so every gradient line is first read from memory (the write-allocate) and later
/// written back: three trips to memory per element besides the scores.  Here the last pass
/// writes each gradient element once — with streaming stores when `streaming`.  Two kernels
/// by size:
///
/// - where `usesTwoPasses` (outputs larger than the caches, vectors of 256 bits or more):
///   two passes (`StridedKernels+TwoPass`), each position's exp shift and sum in one read from
///   memory, then each exponential taken again from the scores in L2.
/// - otherwise three: the maximum, then the exponentials summed and written into a stage
///   (reused for every panel, so it stays in L2), then the gradient from the stage.  One
///   exponential per element: with the scores in cache, arithmetic is what costs.
///
/// Per-position terms are folded into scalar arrays that the last pass reads at any offset,
/// so the stores can start at an aligned address whatever the buffer's alignment.  Both
/// kernels perform the general kernel's operations in its order for their size, so the loss
/// and gradient have the same bits whichever kernel runs.
extension StridedKernels {
    /// Whether `crossEntropyGradient` computes this call (the training call of
    /// `crossEntropy(_:targets:…)`, without a z-loss; class numbers exact in `Scalar`).
    @inlinable @inline(__always)
    public static func stagesGradient(
        parameters k: CrossEntropyParameters<Scalar>, outputs: CrossEntropyOutputPointers<Scalar>
    ) -> Bool {
        !k.inputIsLogProbability && k.zLoss == 0 && outputs.gradient != nil && outputs.probabilities == nil
            && outputs.logProbabilities == nil && k.classes <= 1 << Scalar.significandBitCount
    }

    /// `crossEntropy(_:targets:…)` for calls where `stagesGradient` holds: the same losses and
    /// gradient.
    ///
    /// - Parameter streaming: write the gradient with streaming stores, in two passes where
    ///   `usesTwoPasses` (for outputs larger than the caches, which the next reader takes
    ///   from memory anyway).
    /// - Complexity: O(classes · count): the scores read from memory once, the gradient
    ///   written once; one exponential per element (two in two passes).
    @inlinable
    public static func crossEntropyGradient(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>, stride: Int, count: Int,
        parameters k: CrossEntropyParameters<Scalar>, gradient: UnsafeMutablePointer<Scalar>,
        losses: UnsafeMutablePointer<Scalar>, streaming: Bool
    ) {
        let twoPass = usesTwoPasses(streaming: streaming)
        let width = panelWidth(twoPass: twoPass, classes: k.classes, count: count)
        let padded = vectorCount(width) * V.scalarCount
        // Per position: the exp shift and the sum (and pass 1's scratch); as scalars, the shift; the
        // target score, then 1/sum; the target's coefficient, then the gradient's scale times
        // it; the target class (−1 when ignored).  The stage only for three passes.
        // With label smoothing also: Σ_c w_c·(x_c − shift), the gradient's scale times the sum
        // of the coefficients, and the gradient's scale.
        let (scratch, shift, sum, top, shiftScalars, stage) = allocatePanelScratch(
            width: width, classes: twoPass ? 0 : k.classes, scalarArrays: k.smoothing > 0 ? 7 : 4)
        defer { scratch.deallocate() }
        let (factor, oneHot, targetClass) = (
            shiftScalars + padded, shiftScalars + 2 * padded, shiftScalars + 3 * padded
        )
        let smoothing = (
            weighted: shiftScalars + 4 * padded, scaledSum: shiftScalars + 5 * padded, scale: shiftScalars + 6 * padded
        )
        var start = 0
        while start < count {
            let panel = Swift.min(width, count - start)
            gradientPanel(
                x + start, targets: targets + start, stride: stride, count: panel, parameters: k,
                gradient: gradient + start, losses: losses + start, streaming: streaming, twoPass: twoPass,
                scratch: (shift, sum, top, shiftScalars, factor, oneHot, targetClass, stage), smoothing: smoothing)
            start += panel
        }
        if streaming { softmax_store_fence() }
    }

    /// One panel of `crossEntropyGradient` (`count` at most the scratch's width).
    @inlinable @inline(__always)
    static func gradientPanel(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>, stride: Int, count: Int,
        parameters k: CrossEntropyParameters<Scalar>, gradient: UnsafeMutablePointer<Scalar>,
        losses: UnsafeMutablePointer<Scalar>, streaming: Bool, twoPass: Bool,
        scratch: (
            shift: UnsafeMutablePointer<V>, sum: UnsafeMutablePointer<V>, top: UnsafeMutablePointer<V>,
            shiftScalars: UnsafeMutablePointer<Scalar>,
            factor: UnsafeMutablePointer<Scalar>, oneHot: UnsafeMutablePointer<Scalar>,
            targetClass: UnsafeMutablePointer<Scalar>, stage: UnsafeMutablePointer<Scalar>
        ),
        smoothing smoothed: (
            weighted: UnsafeMutablePointer<Scalar>, scaledSum: UnsafeMutablePointer<Scalar>,
            scale: UnsafeMutablePointer<Scalar>
        )
    ) {
        let (shift, sum, top, shiftScalars, factor, oneHot, targetClass, stage) = scratch
        let n = k.classes
        let w = V.scalarCount
        panelSums(
            twoPass: twoPass, x, classes: n, stride: stride, count: count, shift: shift, sum: sum, top: top,
            stage: stage)
        gatherTargets(
            x, targets: targets, stride: stride, count: count, parameters: k, into: (factor, oneHot, targetClass))
        let smoothing = k.smoothing > 0
        if smoothing {
            weightedSums(
                x, classes: n, stride: stride, count: count, shift: shift, parameters: k, into: smoothed.weighted)
        }
        let (zero, infinity) = (V(repeating: 0), V(repeating: Scalar.infinity))
        let (gradientScale, weightSum) = (V(repeating: k.gradientScale), V(repeating: k.weightSum))
        let epsPerClass = V(repeating: k.smoothingPerClass)
        for g in 0..<vectorCount(count) {
            let o = g * w
            let s = sum[g]
            let active = (targetClass + o).loadVector(V.self).selectGreater(
                than: V(repeating: -0.5), then: V(repeating: 1), else: zero)
            // (1 − ε)·w_t, 0 where ignored.
            let coefficient = (oneHot + o).loadVector(V.self)
            let logSum = s.vectorLog()
            let d = ((factor + o).loadVector(V.self) - shift[g]) - logSum
            let targetLogp = s.selectEqual(to: zero, then: -infinity, else: d)
            var loss = zero - coefficient.weightedTerm(targetLogp)
            if smoothing {
                // − ε/C·Σ_c w_c·logp_c, with Σ_c w_c·logp_c = Σ_c w_c·(x_c − shift) − logSum·Σ_c w_c
                // (a fully masked position: every term −infinity, already in the sum).
                let weighted = (smoothed.weighted + o).loadVector(V.self)
                let ws = s.selectEqual(to: zero, then: weighted, else: weighted - logSum * weightSum)
                loss = loss - epsPerClass * ws
            }
            loss = active.selectEqual(to: zero, then: zero, else: loss)
            (losses + o).storeLanes(loss, Swift.min(w, count - o))
            // gradient_c = scale·Σcoef·(e_c·(1/s)) − scale·ε/C·w_c − [c = t]·scale·(1 − ε)·w_t,
            // 0 for ignored positions (Σcoef = (1 − ε)·w_t + ε/C·Σ_c w_c): the general kernel's
            // operations in its order, so both give the same bits.
            let scale = active * gradientScale
            (shiftScalars + o).storeVector(shift[g])
            (factor + o).storeVector(laneInverse(s))
            (oneHot + o).storeVector(scale * coefficient)
            if smoothing {
                (smoothed.scaledSum + o).storeVector(scale * (coefficient + epsPerClass * weightSum))
                (smoothed.scale + o).storeVector(scale)
            }
            // A zero gradient scale zeroes the whole gradient, even where a score is NaN.
            if k.gradientScale == 0 { (targetClass + o).storeVector(V(repeating: -1)) }
        }
        for c in 0..<n {
            if !twoPass { prefetchNextPanel(x + c * stride, count: count) }
            let probability = ProbabilityRun<V>(
                source: twoPass ? x + c * stride : UnsafePointer(stage + c * count),
                shift: twoPass ? shiftScalars : nil,
                inverse: factor)
            let run = GradientRun(
                probability: probability, oneHot: oneHot, targetClass: targetClass, classNumber: c)
            if smoothing {
                let smoothedRun = SmoothedGradientRun(
                    gradient: run, scaledSum: smoothed.scaledSum, scale: smoothed.scale,
                    classCoefficient: k.weight(c) * k.smoothingPerClass)
                writeRun(to: gradient + c * stride, count: count, streaming: streaming, smoothedRun)
            } else {
                writeRun(to: gradient + c * stride, count: count, streaming: streaming, run)
            }
        }
    }

    /// `Σ_c w_c·(x_c − shift)` per position of a panel (in L2 after pass 1), term by term as
    /// the general kernel takes it (`weightedTerm`: a zero weight adds 0, even for `-inf`).
    @inlinable @inline(__always)
    static func weightedSums(
        _ x: UnsafePointer<Scalar>, classes n: Int, stride: Int, count: Int, shift: UnsafeMutablePointer<V>,
        parameters k: CrossEntropyParameters<Scalar>, into weighted: UnsafeMutablePointer<Scalar>
    ) {
        // Four vectors of positions at a time, over the classes, so that the sums stay in
        // registers (class by class they went through memory for every score) and four
        // chains of additions overlap.  The same additions in the same order per position.
        let w = V.scalarCount
        var g = 0
        while g + 4 <= count / w {
            var sums = (V(repeating: 0), V(repeating: 0), V(repeating: 0), V(repeating: 0))
            for c in 0..<n {
                let (xc, weight) = (x + c * stride + g * w, V(repeating: k.weight(c)))
                sums.0 += weight.weightedTerm(xc.loadVector(V.self) - shift[g])
                sums.1 += weight.weightedTerm((xc + w).loadVector(V.self) - shift[g + 1])
                sums.2 += weight.weightedTerm((xc + 2 * w).loadVector(V.self) - shift[g + 2])
                sums.3 += weight.weightedTerm((xc + 3 * w).loadVector(V.self) - shift[g + 3])
            }
            (weighted + g * w).storeVector(sums.0)
            (weighted + (g + 1) * w).storeVector(sums.1)
            (weighted + (g + 2) * w).storeVector(sums.2)
            (weighted + (g + 3) * w).storeVector(sums.3)
            g += 4
        }
        while g < vectorCount(count) {
            let (o, lanes) = (g * w, Swift.min(w, count - g * w))
            var sum = V(repeating: 0)
            for c in 0..<n {
                sum += V(repeating: k.weight(c)).weightedTerm((x + c * stride + o).loadLanes(lanes, V.self) - shift[g])
            }
            (weighted + o).storeVector(sum)
            g += 1
        }
    }
}

extension StridedKernels {
    /// Per position of a panel: the target's score (in L2 after pass 1), its coefficient
    /// `(1 − ε)·w_t`, and its class number (−1 when ignored); read before anything is written, as the
    /// gradient may be the scores' buffer.  Lanes past `count` are ignored positions.
    ///
    /// An ignored position reads its class-0 score, which the loss never takes: no branch and
    /// no overflow check in a loop that runs once per position.  Kept out of line: inlined, it
    /// changed how the compiler vectorised the loss loop after it (scalar logarithms).
    @inlinable @inline(never)
    static func gatherTargets(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>, stride: Int, count: Int,
        parameters k: CrossEntropyParameters<Scalar>,
        into out: (
            score: UnsafeMutablePointer<Scalar>, weight: UnsafeMutablePointer<Scalar>,
            targetClass: UnsafeMutablePointer<Scalar>
        )
    ) {
        // With no classes every position is ignored, and there is no class-0 score to read.
        let gathered = k.classes > 0 ? count : 0
        for i in 0..<gathered {
            let t = Int(targets[i])
            let ignored = t < 0
            out.targetClass[i] = ignored ? -1 : Scalar(t)
            out.score[i] = x[(ignored ? 0 : t) &* stride &+ i]
            out.weight[i] = ignored ? 0 : (1 - k.smoothing) * k.weight(t)
        }
        for i in gathered..<(vectorCount(count) * V.scalarCount) {
            (out.targetClass[i], out.score[i], out.weight[i]) = (-1, 0, 0)
        }
    }
}

/// Cross-entropy gradient of one class run without label smoothing: `scale·w_t·p`, less the
/// one-hot term `scale·w_t` at the target class, 0 at ignored positions; `p` is the
/// probability run's `e·(1/sum)`.
@frozen
public struct GradientRun<V: SIMD>: PanelRun where V.Scalar: KernelScalar {
    /// The class's probabilities.
    @usableFromInline let probability: ProbabilityRun<V>
    /// Per position, padded to whole vectors: the one-hot term `scale·(1 − ε)·w_t` and the
    /// target class (−1 when ignored).
    @usableFromInline let oneHot: UnsafePointer<V.Scalar>
    @usableFromInline let targetClass: UnsafePointer<V.Scalar>
    /// This run's class number, in every lane.
    @usableFromInline let classNumber: V

    @inlinable @inline(__always)
    init(
        probability: ProbabilityRun<V>, oneHot: UnsafeMutablePointer<V.Scalar>,
        targetClass: UnsafeMutablePointer<V.Scalar>, classNumber: Int
    ) {
        self.probability = probability
        (self.oneHot, self.targetClass) = (UnsafePointer(oneHot), UnsafePointer(targetClass))
        self.classNumber = V(repeating: V.Scalar(classNumber))
    }

    @inlinable @inline(__always)
    public func vector(at i: Int, lanes: Int) -> V {
        withOneHot((oneHot + i).loadVector(V.self) * probability.vector(at: i, lanes: lanes), at: i)
    }

    /// `value` less the one-hot term where this is the target class, 0 at ignored positions.
    @inlinable @inline(__always)
    func withOneHot(_ value: V, at i: Int) -> V {
        let t = (targetClass + i).loadVector(V.self)
        let g = t.selectEqual(to: classNumber, then: value - (oneHot + i).loadVector(V.self), else: value)
        return t.selectGreater(than: V(repeating: -0.5), then: g, else: V(repeating: 0))
    }
}

/// Cross-entropy gradient of one class run with label smoothing:
/// `scale·Σcoef·p − scale·ε/C·w_c`, less the one-hot term at the target class, 0 at ignored
/// positions (the general kernel's operations in its order).
@frozen
public struct SmoothedGradientRun<V: SIMD>: PanelRun where V.Scalar: KernelScalar {
    /// The run without smoothing: its probabilities, one-hot term and target classes.
    @usableFromInline let gradient: GradientRun<V>
    /// Per position, padded to whole vectors: the gradient's scale times the sum of the
    /// coefficients, and the gradient's scale.
    @usableFromInline let scaledSum: UnsafePointer<V.Scalar>
    @usableFromInline let scale: UnsafePointer<V.Scalar>
    /// `ε/C·w_c` of this run's class, in every lane.
    @usableFromInline let classCoefficient: V

    @inlinable @inline(__always)
    init(
        gradient: GradientRun<V>, scaledSum: UnsafeMutablePointer<V.Scalar>, scale: UnsafeMutablePointer<V.Scalar>,
        classCoefficient: V.Scalar
    ) {
        self.gradient = gradient
        (self.scaledSum, self.scale) = (UnsafePointer(scaledSum), UnsafePointer(scale))
        self.classCoefficient = V(repeating: classCoefficient)
    }

    @inlinable @inline(__always)
    public func vector(at i: Int, lanes: Int) -> V {
        let p = gradient.probability.vector(at: i, lanes: lanes)
        let value = (scaledSum + i).loadVector(V.self) * p - (scale + i).loadVector(V.self) * classCoefficient
        return gradient.withOneHot(value, at: i)
    }
}
