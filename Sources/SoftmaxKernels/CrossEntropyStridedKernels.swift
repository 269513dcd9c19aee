import MemoryHints

/// The fused cross-entropy forward and backward over a panel of strided positions
/// (`inner > 1`); see `StridedKernels` for the layout and `CrossEntropyParameters` for the
/// formulas.
///
/// Three passes over the panel, class by class: (1) each position's maximum (with the sum of
/// exponentials too where `usesTwoPasses`); (2) the exponentials, summed (unless pass 1 did)
/// and kept in an output buffer (the probabilities, else the gradient unless it is the
/// scores' own buffer), together with `Σ_c coef_c·(x_c − shift)` for the
/// loss; then per position the loss, from `Σ_c coef_c·logp_c = Σ_c coef_c·(x_c − shift) −
/// log(s)·Σ_c coef_c`; (3) the gradient and the other outputs, from the kept exponentials.
/// One exponential per element, the scores read from memory once.
///
/// The gradient may be the scores' own buffer (in place): the target scores are read before
/// anything is written, and pass 3 reads each element before overwriting it.
extension StridedKernels {
    /// Losses and outputs of `count` neighbouring positions with class-index targets.
    ///
    /// - Parameters:
    ///   - x: scores of position 0, class 0; class `c` of position `i` is at `x[c·stride + i]`.
    ///   - targets: `count` classes, negative for ignored positions.
    ///   - losses: receives `count` per-position losses (0 where ignored).
    ///   - zLosses: receives `count` z terms `λ·lse²` (0 where ignored) when
    ///     `parameters.zLoss` is not 0.
    /// - Complexity: O(classes · count), one exponential per element (two when the gradient
    ///   overwrites the scores and no probabilities are requested).
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>, stride: Int, count: Int,
        parameters k: CrossEntropyParameters<Scalar>, outputs: CrossEntropyOutputPointers<Scalar>,
        losses: UnsafeMutablePointer<Scalar>, zLosses: UnsafeMutablePointer<Scalar>? = nil
    ) {
        // The training call goes to its own kernel (same bits, fewer trips to memory).
        if stagesGradient(parameters: k, outputs: outputs), let gradient = outputs.gradient {
            crossEntropyGradient(
                x, targets: targets, stride: stride, count: count, parameters: k, gradient: gradient, losses: losses,
                streaming: outputs.streaming)
            return
        }
        let n = k.classes
        let logits = !k.inputIsLogProbability
        let smoothing = k.smoothing > 0
        let epsPerClass = k.smoothingPerClass
        let (shift, m) = allocateScratch(count, arrays: 8)
        defer { shift.deallocate() }
        // Per position: the sum (then 1/sum), Σ w_c·(x_c − shift) (then the log-sum), the
        // target score (then scale·Σcoef), the target's coefficient (then times the scale), 1
        // or 0 for active or ignored (then the gradient scale), and the target class (−1 when
        // ignored) as a scalar, for the one-hot term.
        let (sum, weighted, targetScore) = (shift + m, shift + 2 * m, shift + 3 * m)
        let (targetCoefficient, active, targetClass) = (shift + 4 * m, shift + 5 * m, shift + 6 * m)
        // For outputs larger than the caches, each position's exp shift and sum in one read
        // (`columnNormalizers`), else the maximum here and the sum in pass 2: the same
        // operations as the training kernel of that size, so asking for more outputs changes
        // no bit of the loss or gradient.
        let onePass = logits && usesTwoPasses(streaming: outputs.streaming)
        if onePass {
            columnNormalizers(x, classes: n, stride: stride, count: count, shift: shift, top: shift + 7 * m, sum: sum)
        } else if logits {
            columnShift(x, classes: n, stride: stride, count: count, into: shift)
        } else {
            clear(shift, count)
        }
        // Read before anything is written: the gradient may overwrite the scores.
        clear(targetScore, count)
        clear(targetCoefficient, count)
        clear(active, count)
        for g in 0..<vectorCount(count) { targetClass[g] = V(repeating: -1) }
        // Stored as scalars: a lane assignment into a vector in memory compiled to a load, an
        // insert and a store of the whole vector (a store-forwarding stall per position).
        let keepTarget = 1 - k.smoothing
        for i in 0..<count {
            let t = Int(targets[i])
            if t < 0 { continue }
            setLane(i, of: targetScore, to: x[t * stride + i])
            setLane(i, of: targetCoefficient, to: keepTarget * k.weight(t))
            setLane(i, of: active, to: 1)
            setLane(i, of: targetClass, to: Scalar(t))
        }
        let kept = keptExponentials(x, outputs)
        if !onePass { clear(sum, count) }
        clear(weighted, count)
        if (logits && !onePass) || (onePass && kept != nil) || smoothing {
            for c in 0..<n {
                let (xc, keptC, w) = (x + c * stride, kept.map { $0 + c * stride }, V(repeating: k.weight(c)))
                var i = 0
                while i < count {
                    let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                    let d = (xc + i).loadLanes(lanes, V.self) - shift[g]
                    if logits {
                        let e = d.vectorExpShifted()
                        if !onePass { sum[g] += e }
                        if let keptC {
                            // The next class's lines are written next.
                            softmax_prefetch_write(keptC + (c + 1 < n ? stride : 0) + i)
                            (keptC + i).storeLanes(e, lanes)
                        }
                    }
                    if smoothing { weighted[g] += w.weightedTerm(d) }
                    i += lanes
                }
            }
        }
        let (zero, infinity) = (V(repeating: 0), V(repeating: Scalar.infinity))
        let (weightSum, gradientScale) = (V(repeating: k.weightSum), V(repeating: k.gradientScale))
        let zOn = logits && k.zLoss != 0
        for g in 0..<vectorCount(count) {
            let s = logits ? sum[g] : V(repeating: 1)
            let logSum = logits ? s.vectorLog() : zero
            let d = (targetScore[g] - shift[g]) - logSum
            let targetLogp = s.selectEqual(to: zero, then: -infinity, else: d)
            var loss = zero - targetCoefficient[g].weightedTerm(targetLogp)
            if smoothing {
                // Σ_c w_c·logp_c; when fully masked every logp is -infinity and `weighted`
                // already holds the sum (-infinity, or 0 with all weights 0).
                let ws = s.selectEqual(to: zero, then: weighted[g], else: weighted[g] - logSum * weightSum)
                loss = loss - V(repeating: epsPerClass) * ws
            }
            loss = active[g].selectEqual(to: zero, then: zero, else: loss)
            (losses + g * V.scalarCount).storeLanes(loss, Swift.min(V.scalarCount, count - g * V.scalarCount))
            let z =
                zOn
                ? zTerms(shift: shift[g], sum: s, active: active[g], parameters: k) : (value: zero, coefficient: zero)
            if zOn, let zLosses {
                (zLosses + g * V.scalarCount).storeLanes(z.value, Swift.min(V.scalarCount, count - g * V.scalarCount))
            }
            active[g] = active[g] * gradientScale
            let coefficientSum = targetCoefficient[g] + V(repeating: epsPerClass) * weightSum
            targetScore[g] = logits ? active[g] * coefficientSum + z.coefficient : zero
            targetCoefficient[g] = active[g] * targetCoefficient[g]
            sum[g] = laneInverse(s)
            weighted[g] = s.selectEqual(to: zero, then: zero, else: logSum)
        }
        guard outputs.writesElements else { return }
        // Class numbers are exact in `Scalar` below 2^(significand bits + 1).
        let exactClasses = n <= 1 << Scalar.significandBitCount
        let oneHotWritten = writeOutputs(
            x, stride: stride, count: count, parameters: k, outputs: outputs, kept: kept,
            shift: shift, inverse: sum, logSum: weighted, scaledCoefficientSum: targetScore,
            scale: active, probabilityTargets: nil,
            oneHot: exactClasses ? (targetClass, targetCoefficient) : nil)
        if !oneHotWritten, let gradient = outputs.gradient {
            for i in 0..<count where targets[i] >= 0 {
                let t = Int(targets[i])
                // The same product as `writeOutputs`' own one-hot term (scale times the
                // target's coefficient), so the gradient has the same bits either way.
                gradient[t * stride + i] -= k.gradientScale * ((1 - k.smoothing) * k.weight(t))
            }
        }
    }

    /// Losses and outputs of `count` neighbouring positions with probability targets laid out
    /// like the scores (`q[c·stride + i]`).
    ///
    /// - Complexity: O(classes · count), one exponential per element; the targets are read
    ///   twice (the second time from cache).
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, probabilities q: UnsafePointer<Scalar>, stride: Int, count: Int,
        parameters k: CrossEntropyParameters<Scalar>, outputs: CrossEntropyOutputPointers<Scalar>,
        losses: UnsafeMutablePointer<Scalar>, zLosses: UnsafeMutablePointer<Scalar>? = nil
    ) {
        let n = k.classes
        let logits = !k.inputIsLogProbability
        let keep = V(repeating: 1 - k.smoothing)
        let epsPerClass = V(repeating: k.smoothingPerClass)
        let (shift, m) = allocateScratch(count, arrays: 5)
        defer { shift.deallocate() }
        let (sum, weighted, coefficientSum, scale) = (shift + m, shift + 2 * m, shift + 3 * m, shift + 4 * m)
        if logits {
            columnShift(x, classes: n, stride: stride, count: count, into: shift)
        } else {
            clear(shift, count)
        }
        let kept = keptExponentials(x, outputs)
        clear(sum, count)
        clear(weighted, count)
        clear(coefficientSum, count)
        for c in 0..<n {
            let (xc, qc, keptC, w) = (x + c * stride, q + c * stride, kept.map { $0 + c * stride }, k.weight(c))
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                let d = (xc + i).loadLanes(lanes, V.self) - shift[g]
                let coef = V(repeating: w) * ((qc + i).loadLanes(lanes, V.self) * keep + epsPerClass)
                if logits {
                    let e = d.vectorExpShifted()
                    sum[g] += e
                    if let keptC {
                        softmax_prefetch_write(keptC + (c + 1 < n ? stride : 0) + i)
                        (keptC + i).storeLanes(e, lanes)
                    }
                }
                weighted[g] += coef.weightedTerm(d)
                coefficientSum[g] += coef
                i += lanes
            }
        }
        for g in 0..<vectorCount(count) {
            let s = logits ? sum[g] : V(repeating: 1)
            let logSum = logits ? s.vectorLog() : V(repeating: 0)
            let total = weighted[g] - logSum * coefficientSum[g]
            // Fully masked: every logp is -infinity, so the loss is +infinity where any
            // coefficient is non-zero (`weighted` already holds that) and 0 elsewhere.
            let lossTerm = s.selectEqual(to: V(repeating: 0), then: weighted[g], else: total)
            for lane in 0..<Swift.min(V.scalarCount, count - g * V.scalarCount) {
                losses[g * V.scalarCount + lane] = -lossTerm[lane]
            }
            let z =
                logits && k.zLoss != 0
                ? zTerms(shift: shift[g], sum: s, active: V(repeating: 1), parameters: k)
                : (value: V(repeating: 0), coefficient: V(repeating: 0))
            if logits && k.zLoss != 0, let zLosses {
                (zLosses + g * V.scalarCount).storeLanes(z.value, Swift.min(V.scalarCount, count - g * V.scalarCount))
            }
            scale[g] = V(repeating: k.gradientScale)
            coefficientSum[g] = logits ? scale[g] * coefficientSum[g] + z.coefficient : V(repeating: 0)
            sum[g] = laneInverse(s)
            weighted[g] = s.selectEqual(to: V(repeating: 0), then: V(repeating: 0), else: logSum)
        }
        guard outputs.writesElements else { return }
        _ = writeOutputs(
            x, stride: stride, count: count, parameters: k, outputs: outputs, kept: kept,
            shift: shift, inverse: sum, logSum: weighted, scaledCoefficientSum: coefficientSum,
            scale: scale, probabilityTargets: q, oneHot: nil)
    }

    // MARK: - Shared by both target kinds

    /// The z terms of a vector of positions (`CrossEntropyParameters.zTerm` lane-wise): values
    /// `λ·lse²` and gradient coefficients `zGradientScale·lse`, both 0 where `active` is 0
    /// (ignored) and the coefficient 0 where the position is fully masked (`sum` 0).
    @inlinable @inline(__always)
    static func zTerms(shift: V, sum: V, active: V, parameters k: CrossEntropyParameters<Scalar>) -> (
        value: V, coefficient: V
    ) {
        let zero = V(repeating: 0)
        let lse = shift + sum.vectorLog()
        let value = active.selectEqual(to: zero, then: zero, else: V(repeating: k.zLoss) * lse * lse)
        let coefficient = V(repeating: k.zGradientScale) * lse
        let live = sum.selectEqual(to: zero, then: zero, else: active)
        return (value, live.selectEqual(to: zero, then: zero, else: coefficient))
    }

    /// Sets the value of position `i` in the per-position vectors at `p`.
    @inlinable @inline(__always)
    static func setLane(_ i: Int, of p: UnsafeMutablePointer<V>, to value: Scalar) {
        UnsafeMutableRawPointer(p).storeBytes(of: value, toByteOffset: i * MemoryLayout<Scalar>.stride, as: Scalar.self)
    }

    /// Where pass 2 keeps `exp(x − shift)` for pass 3: the probabilities output, else the
    /// gradient (unless it is the scores' own buffer and the log-probabilities are wanted),
    /// else nowhere (pass 3 recomputes).
    @inlinable @inline(__always)
    static func keptExponentials(
        _ x: UnsafePointer<Scalar>, _ outputs: CrossEntropyOutputPointers<Scalar>
    ) -> UnsafeMutablePointer<Scalar>? {
        if let p = outputs.probabilities { return p }
        // Over the scores only when pass 3 needs no score: the log-probabilities read them.
        if let g = outputs.gradient, UnsafePointer(g) != x || outputs.logProbabilities == nil { return g }
        return nil
    }

    /// Pass 3: writes the requested outputs of a panel.
    ///
    /// The gradient is `scaledCoefficientSum·p − scale·coefficient(c)` (0 where `scale` is
    /// 0); probabilities are `kept·inverse` (`exp(x)` in log-probability mode); log-probabilities
    /// are `(x − shift) − logSum` (`logSum` 0 where fully masked).  The one-hot term of class
    /// index targets (`scale·(1−ε)·w_t` at class `t`) is subtracted here when `oneHot` is given
    /// and the fast loop runs.
    ///
    /// - Returns: whether the one-hot term was written (else the caller adds it).
    @inlinable @inline(__always)
    static func writeOutputs(
        _ x: UnsafePointer<Scalar>, stride: Int, count: Int, parameters k: CrossEntropyParameters<Scalar>,
        outputs: CrossEntropyOutputPointers<Scalar>, kept: UnsafeMutablePointer<Scalar>?,
        shift: UnsafeMutablePointer<V>, inverse: UnsafeMutablePointer<V>, logSum: UnsafeMutablePointer<V>,
        scaledCoefficientSum: UnsafeMutablePointer<V>, scale: UnsafeMutablePointer<V>,
        probabilityTargets q: UnsafePointer<Scalar>?,
        oneHot: (targetClass: UnsafeMutablePointer<V>, scaledCoefficient: UnsafeMutablePointer<V>)?
    ) -> Bool {
        let logits = !k.inputIsLogProbability
        let (keep, epsPerClass) = (V(repeating: 1 - k.smoothing), V(repeating: k.smoothingPerClass))
        if logits, q == nil, outputs.probabilities == nil, outputs.logProbabilities == nil,
            let kept, let gradient = outputs.gradient
        {
            // The training call: the gradient alone from the kept exponentials, with a
            // per-class coefficient and the one-hot term.  Its own loop, so that it stays a
            // handful of vector operations (the general loop below spills and scalarises).
            for c in 0..<k.classes {
                let o = c * stride
                let coefficient = V(repeating: k.weight(c)) * epsPerClass
                let classNumber = V(repeating: Scalar(c))
                var i = 0
                while i < count {
                    let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                    var value =
                        scaledCoefficientSum[g] * ((kept + o + i).loadLanes(lanes, V.self) * inverse[g]) - scale[g]
                        * coefficient
                    if let oneHot {
                        value -= oneHot.targetClass[g].selectEqual(
                            to: classNumber, then: oneHot.scaledCoefficient[g], else: V(repeating: 0))
                    }
                    (gradient + o + i).storeLanes(
                        scale[g].selectEqual(to: V(repeating: 0), then: V(repeating: 0), else: value), lanes)
                    i += lanes
                }
            }
            return oneHot != nil
        }
        for c in 0..<k.classes {
            let o = c * stride
            let w = V(repeating: k.weight(c))
            var i = 0
            while i < count {
                let (g, lanes) = (i / V.scalarCount, Swift.min(V.scalarCount, count - i))
                // Everything is read before anything is written: the gradient may be `x`.
                let needsScores = outputs.logProbabilities != nil || kept == nil || !logits
                let xv = needsScores ? (x + o + i).loadLanes(lanes, V.self) : V(repeating: 0)
                var p = V(repeating: 0)
                if logits {
                    let e = kept.map { ($0 + o + i).loadLanes(lanes, V.self) } ?? (xv - shift[g]).vectorExpShifted()
                    p = e * inverse[g]
                }
                if let probabilities = outputs.probabilities {
                    (probabilities + o + i).storeLanes(logits ? p : xv.vectorExp(), lanes)
                }
                outputs.logProbabilities.map { ($0 + o + i).storeLanes((xv - shift[g]) - logSum[g], lanes) }
                if let gradient = outputs.gradient {
                    // coef_c: w_c·ε/C for class indices (plus the one-hot term, added by the
                    // caller), w_c·((1−ε)·q_c + ε/C) for probability targets.
                    let coefficient =
                        w * (q.map { ($0 + o + i).loadLanes(lanes, V.self) * keep + epsPerClass } ?? epsPerClass)
                    let value = scaledCoefficientSum[g] * p - scale[g] * coefficient
                    (gradient + o + i).storeLanes(
                        scale[g].selectEqual(to: V(repeating: 0), then: V(repeating: 0), else: value), lanes)
                }
                i += lanes
            }
        }
        return false
    }
}
