/// The fused cross-entropy forward and backward over contiguous rows (`inner == 1`).
///
/// One call handles one position: pass 1 (logits only) reads the row once for its normaliser;
/// pass 2 reads it again (from cache for rows up to L2 size) and writes the gradient and any
/// requested probabilities.  Returns the position's loss before reduction.
///
/// The gradient may be the scores' own buffer (in place): every element is read before it is
/// overwritten, and the target score is read first.
extension RowKernels {
    /// Loss and outputs of one row with a class-index target.
    ///
    /// The row may be one shard of a longer one (the vocabulary-parallel loss): the caller then
    /// gives the whole row's `normalizer` (maximum and sum combined over the shards), the
    /// target's weight when it lies in another shard, and `parameters.weightSum` over every
    /// class.  Each shard's gradient is then its slice of the whole row's, and the shards'
    /// losses add up to the whole row's.
    ///
    /// - Parameters:
    ///   - x: `classes` scores.
    ///   - target: the class; a negative value for an ignored position; `classes` or more for a
    ///     target in another shard (no one-hot term and no target term here).
    ///   - parameters: weights, smoothing, mode and gradient scale.
    ///   - outputs: per-element outputs at this row.
    ///   - given: the normaliser to use instead of this row's own (logits only), or `nil`.
    ///   - targetWeight: the target's class weight when it lies in another shard and the
    ///     parameters carry class weights (else ignored).
    ///   - zLoss: receives the position's z term `λ·lse²` (0 when ignored) when
    ///     `parameters.zLoss` is not 0; its gradient is added to the gradient either way.
    /// - Returns: the per-position loss (0 for an ignored position), without the z term.
    /// - Complexity: O(classes), at most two reads of the row and one write per output.
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, target: Int, parameters k: CrossEntropyParameters<Scalar>,
        outputs: CrossEntropyOutputPointers<Scalar>, normalizer given: Normalizer<Scalar>? = nil,
        targetWeight elsewhereWeight: Scalar = 1, zLoss: UnsafeMutablePointer<Scalar>? = nil
    ) -> Scalar {
        let n = k.classes
        let ignored = target < 0
        let local = !ignored && target < n
        let eps = k.smoothing
        let zOn = k.zLoss != 0 && !k.inputIsLogProbability && !ignored
        if !zOn { zLoss?.pointee = 0 }
        if given == nil && local && eps == 0 && !k.inputIsLogProbability && outputs.probabilities == nil
            && outputs.logProbabilities == nil && n >= 2 * V.scalarCount, let g = outputs.gradient
        {
            // Plain cross-entropy, gradient only (the training case): the gradient is
            // `scale·w_t·p − scale·w_t·onehot` (plus the z term's `zc·lse·p`), so the one-pass
            // softmax writes it directly.
            let targetWeight = k.weight(target)
            let targetScore = x[target]  // read first: the gradient may overwrite the scores
            let norm = softmaxOnePass(
                x, g, count: n, scale: k.gradientScale * targetWeight, lseScale: zOn ? k.zGradientScale : 0)
            g[target] -= k.gradientScale * targetWeight
            let lse = norm.isFullyMasked ? -Scalar.infinity : norm.shift + norm.logSum
            if zOn { zLoss?.pointee = k.zTerm(logSumExp: lse).value }
            let targetLogp = norm.isFullyMasked ? -Scalar.infinity : (targetScore - norm.shift) - norm.logSum
            return targetWeight == 0 ? 0 : -targetWeight * targetLogp
        }
        if let given, !ignored, !given.isFullyMasked, eps == 0, !k.inputIsLogProbability,
            outputs.probabilities == nil, outputs.logProbabilities == nil, let g = outputs.gradient
        {
            // A shard of a row with its normaliser given, no smoothing, gradient only (the
            // vocabulary-parallel training call): `g = c·exp(x − shift)` with
            // `c = (scale·w_t + zc)/sum`, then the one-hot term where the target is local.
            let targetWeight = local ? k.weight(target) : k.weights == nil ? 1 : elsewhereWeight
            let targetScore = local ? x[target] : 0  // read first: the gradient may overwrite the scores
            let lse = given.shift + given.logSum
            var zCoefficient: Scalar = 0
            if zOn {
                let z = k.zTerm(logSumExp: lse)
                zLoss?.pointee = z.value
                zCoefficient = z.coefficient
            }
            let shift = V(repeating: given.shift)
            let tail = OverlappingTail<V>(x, from: 0, to: n)
            _ = writeExponentials(
                ProbabilityOutput.self, x, g, from: 0, to: n, shift: shift, tail: tail, prefetch: false)
            let coefficient = (k.gradientScale * targetWeight + zCoefficient) * given.inverseSum
            rescale(ProbabilityOutput.self, g, from: 0, to: n, by: V(repeating: coefficient))
            guard local else { return 0 }
            g[target] -= k.gradientScale * targetWeight
            return targetWeight == 0 ? 0 : -targetWeight * ((targetScore - given.shift) - given.logSum)
        }
        let epsPerClass = k.smoothingPerClass
        var norm = Normalizer<Scalar>(max: 0, sum: 1)
        let logits = !k.inputIsLogProbability
        if let given, logits {
            norm = given
        } else if logits && (!ignored || outputs.probabilities != nil || outputs.logProbabilities != nil) {
            norm = normalizer(x, count: n)
        }
        let shift = logits ? norm.shift : 0
        let logSum = logits ? norm.logSum : 0
        let masked = norm.isFullyMasked
        let targetWeight: Scalar = ignored ? 0 : local ? k.weight(target) : k.weights == nil ? 1 : elsewhereWeight
        let gradK: Scalar = (ignored || !logits) ? 0 : (1 - eps) * targetWeight + epsPerClass * k.weightSum
        let scale: Scalar = ignored ? 0 : k.gradientScale
        let smoothingTerm = eps > 0 && !ignored
        var smoothingSum = V(repeating: 0)
        let targetScore = local ? x[target] : 0  // read first: the gradient may overwrite the scores
        var zCoefficient: Scalar = 0
        if zOn {
            let z = k.zTerm(logSumExp: masked ? -.infinity : norm.shift + norm.logSum)
            zLoss?.pointee = z.value
            zCoefficient = z.coefficient
        }

        if smoothingTerm && logits && !masked && outputs.probabilities == nil && outputs.logProbabilities == nil,
            let g = outputs.gradient
        {
            // Label smoothing, gradient only (the training case): the loop below without its
            // per-vector tests, the same operations in the same order (the same bits): on this,
            // the common training call, those tests are most of the general loop's time.
            smoothingSum = smoothedGradient(
                x, count: n, shift: shift, logSum: logSum, inverse: norm.inverseSum, gradK: gradK, scale: scale,
                epsPerClass: epsPerClass, zCoefficient: zCoefficient, weights: k.weights, gradient: g)
        } else if outputs.writesElements || smoothingTerm {
            let vShift = V(repeating: shift)
            let vLogSum = V(repeating: logSum)
            let vInverse = V(repeating: norm.inverseSum)
            let vK = V(repeating: gradK)
            let vScale = V(repeating: scale)
            let vEps = V(repeating: epsPerClass)
            let vZ = V(repeating: zCoefficient)
            forEachVector(count: n) { i, lanes in
                let d = (x + i).loadLanes(lanes, V.self) - vShift
                var lp = d - vLogSum
                if masked { lp = V(repeating: -.infinity) }
                outputs.probabilities.map { ($0 + i).storeLanes(d.vectorExp() * vInverse, lanes) }
                outputs.logProbabilities.map { ($0 + i).storeLanes(lp, lanes) }
                let w = k.weights.map { ($0 + i).loadLanes(lanes, V.self) } ?? V.firstLanes(lanes, 1)
                if smoothingTerm { smoothingSum += w.weightedTerm(lp) }
                if let g = outputs.gradient {
                    if ignored {
                        (g + i).storeLanes(V(repeating: 0), lanes)
                    } else {
                        let p = logits ? d.vectorExpNonPositive() * vInverse : V(repeating: 0)
                        (g + i).storeLanes(vScale * (p * vK - vEps * w) + p * vZ, lanes)
                    }
                }
            }
        }
        if ignored { return 0 }
        var loss: Scalar = 0
        if local {
            outputs.gradient.map { $0[target] -= scale * (1 - eps) * targetWeight }
            let targetLogp = masked ? -Scalar.infinity : (targetScore - shift) - logSum
            let targetCoef = (1 - eps) * targetWeight
            loss = targetCoef == 0 ? 0 : -targetCoef * targetLogp
        }
        if smoothingTerm { loss -= epsPerClass * smoothingSum.horizontalSum() }
        return loss
    }

    /// The gradient of a row with label smoothing, `scale·(p·gradK − ε/C·w) + zCoefficient·p`
    /// (the one-hot term left to the caller), and the lane-wise sums of `w·logp`
    /// (`weightedTerm`).
    @inlinable @inline(__always)
    static func smoothedGradient(
        _ x: UnsafePointer<Scalar>, count n: Int, shift: Scalar, logSum: Scalar, inverse: Scalar, gradK: Scalar,
        scale: Scalar, epsPerClass: Scalar, zCoefficient: Scalar, weights: UnsafePointer<Scalar>?,
        gradient g: UnsafeMutablePointer<Scalar>
    ) -> V {
        let (vShift, vLogSum, vInverse) = (V(repeating: shift), V(repeating: logSum), V(repeating: inverse))
        let (vK, vScale, vEps) = (V(repeating: gradK), V(repeating: scale), V(repeating: epsPerClass))
        let vZ = V(repeating: zCoefficient)
        var smoothingSum = V(repeating: 0)
        @inline(__always) func step(_ i: Int, _ lanes: Int, _ w: V) {
            let d = (x + i).loadLanes(lanes, V.self) - vShift
            smoothingSum += w.weightedTerm(d - vLogSum)
            let p = d.vectorExpNonPositive() * vInverse
            (g + i).storeLanes(vScale * (p * vK - vEps * w) + p * vZ, lanes)
        }
        if let weights {
            forEachVector(count: n) { i, lanes in step(i, lanes, (weights + i).loadLanes(lanes, V.self)) }
        } else {
            forEachVector(count: n) { i, lanes in step(i, lanes, V.firstLanes(lanes, 1)) }
        }
        return smoothingSum
    }

    /// Loss and outputs of one row with a probability target `q` (`classes` values).
    ///
    /// - Parameter zLoss: receives the position's z term `λ·lse²` when `parameters.zLoss` is
    ///   not 0.
    /// - Returns: the per-position loss `−Σ_c w_c·q'_c·logp_c` with `q' = (1−ε)q + ε/C`.
    /// - Complexity: O(classes): the scores are read twice, the target twice.
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, probabilities q: UnsafePointer<Scalar>,
        parameters k: CrossEntropyParameters<Scalar>, outputs: CrossEntropyOutputPointers<Scalar>,
        zLoss: UnsafeMutablePointer<Scalar>? = nil
    ) -> Scalar {
        let n = k.classes
        let logits = !k.inputIsLogProbability
        let norm = logits ? normalizer(x, count: n) : Normalizer<Scalar>(max: 0, sum: 1)
        var zCoefficient: Scalar = 0
        zLoss?.pointee = 0
        if logits && k.zLoss != 0 {
            let z = k.zTerm(logSumExp: norm.isFullyMasked ? -.infinity : norm.shift + norm.logSum)
            zLoss?.pointee = z.value
            zCoefficient = z.coefficient
        }
        let keep = V(repeating: 1 - k.smoothing)
        let vEps = V(repeating: k.smoothingPerClass)
        @inline(__always) func coefficient(_ i: Int, _ lanes: Int) -> V {
            let w = k.weights.map { ($0 + i).loadLanes(lanes, V.self) } ?? V.firstLanes(lanes, 1)
            return w * ((q + i).loadLanes(lanes, V.self) * keep + vEps)
        }
        var gradK = V(repeating: 0)
        if logits {
            var acc = V(repeating: 0)
            forEachVector(count: n) { i, lanes in acc += coefficient(i, lanes) }
            gradK = V(repeating: acc.horizontalSum())
        }
        let vShift = V(repeating: logits ? norm.shift : 0)
        let vLogSum = V(repeating: logits ? norm.logSum : 0)
        let vInverse = V(repeating: norm.inverseSum)
        let vScale = V(repeating: k.gradientScale)
        let vZ = V(repeating: zCoefficient)
        var lossSum = V(repeating: 0)
        forEachVector(count: n) { i, lanes in
            let d = (x + i).loadLanes(lanes, V.self) - vShift
            var lp = d - vLogSum
            if norm.isFullyMasked { lp = V(repeating: -.infinity) }
            let coef = coefficient(i, lanes)
            lossSum += coef.weightedTerm(lp)
            outputs.probabilities.map { ($0 + i).storeLanes(d.vectorExp() * vInverse, lanes) }
            outputs.logProbabilities.map { ($0 + i).storeLanes(lp, lanes) }
            if let g = outputs.gradient {
                let p = logits ? d.vectorExpNonPositive() * vInverse : V(repeating: 0)
                (g + i).storeLanes(vScale * (p * gradK - coef) + p * vZ, lanes)
            }
        }
        return -lossSum.horizontalSum()
    }
}
