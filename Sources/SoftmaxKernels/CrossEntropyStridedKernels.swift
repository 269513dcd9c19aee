/// The fused cross-entropy forward and backward over a group of strided positions
/// (`inner > 1`); see `StridedKernels` for the layout and `CrossEntropyParameters` for the
/// formulas.
extension StridedKernels {
    /// Losses and outputs of `lanes` neighbouring positions with class-index targets.
    ///
    /// - Parameters:
    ///   - x: scores of lane 0, class 0; class `c` of lane `k` is at `x[c·stride + k]`.
    ///   - targets: `lanes` classes, negative for ignored positions.
    ///   - losses: receives `lanes` per-position losses (0 where ignored).
    /// - Complexity: O(classes · lanes): the group is read three times (twice from cache).
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>, stride: Int, lanes: Int,
        parameters k: CrossEntropyParameters<Scalar>, outputs: CrossEntropyOutputPointers<Scalar>,
        losses: UnsafeMutablePointer<Scalar>
    ) {
        let n = k.classes
        let logits = !k.inputIsLogProbability
        let eps = k.smoothing
        let (shift, sum, logSum, inverse) = scoreTerms(x, classes: n, stride: stride, lanes: lanes, logits: logits)

        var gradK = V(repeating: 0)
        var scale = V(repeating: 0)
        var ignored = V(repeating: 1)
        for lane in 0..<lanes where targets[lane] >= 0 {
            let t = Int(targets[lane])
            ignored[lane] = 0
            scale[lane] = k.gradientScale
            if logits { gradK[lane] = (1 - eps) * k.weight(t) + k.smoothingPerClass * k.weightSum }
        }
        let smoothingTerm = eps > 0
        var smoothingSum = V(repeating: 0)
        for c in 0..<n {
            let o = c * stride
            let d = (x + o).loadLanes(lanes, V.self) - shift
            var lp = d - logSum
            lp = sum.selectEqual(to: V(repeating: 0), then: V(repeating: -.infinity), else: lp)
            outputs.probabilities.map { ($0 + o).storeLanes(d.vectorExp() * inverse, lanes) }
            outputs.logProbabilities.map { ($0 + o).storeLanes(lp, lanes) }
            let w = V(repeating: k.weight(c))
            if smoothingTerm { smoothingSum += w.weightedTerm(lp) }
            if let g = outputs.gradient {
                let p = logits ? d.vectorExp() * inverse : V(repeating: 0)
                var value = scale * (p * gradK - V(repeating: k.smoothingPerClass) * w)
                value = ignored.selectEqual(to: V(repeating: 1), then: V(repeating: 0), else: value)
                (g + o).storeLanes(value, lanes)
            }
        }
        for lane in 0..<lanes {
            guard targets[lane] >= 0 else {
                losses[lane] = 0
                continue
            }
            let t = Int(targets[lane])
            let coef = (1 - eps) * k.weight(t)
            outputs.gradient.map { $0[t * stride + lane] -= k.gradientScale * coef }
            let logp = sum[lane] == 0 ? -Scalar.infinity : (x[t * stride + lane] - shift[lane]) - logSum[lane]
            var loss: Scalar = coef == 0 ? 0 : -coef * logp
            if smoothingTerm { loss -= k.smoothingPerClass * smoothingSum[lane] }
            losses[lane] = loss
        }
    }

    /// Losses and outputs of `lanes` neighbouring positions with probability targets laid out
    /// like the scores (`q[c·stride + k]`).
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, probabilities q: UnsafePointer<Scalar>, stride: Int, lanes: Int,
        parameters k: CrossEntropyParameters<Scalar>, outputs: CrossEntropyOutputPointers<Scalar>,
        losses: UnsafeMutablePointer<Scalar>
    ) {
        let n = k.classes
        let logits = !k.inputIsLogProbability
        let (shift, sum, logSum, inverse) = scoreTerms(x, classes: n, stride: stride, lanes: lanes, logits: logits)
        let keep = V(repeating: 1 - k.smoothing)
        let epsPerClass = V(repeating: k.smoothingPerClass)
        @inline(__always) func coefficient(_ c: Int) -> V {
            V(repeating: k.weight(c)) * ((q + c * stride).loadLanes(lanes, V.self) * keep + epsPerClass)
        }
        var gradK = V(repeating: 0)
        if logits { for c in 0..<n { gradK += coefficient(c) } }
        let scale = V(repeating: k.gradientScale)
        var lossSum = V(repeating: 0)
        for c in 0..<n {
            let o = c * stride
            let d = (x + o).loadLanes(lanes, V.self) - shift
            var lp = d - logSum
            lp = sum.selectEqual(to: V(repeating: 0), then: V(repeating: -.infinity), else: lp)
            let coef = coefficient(c)
            lossSum += coef.weightedTerm(lp)
            outputs.probabilities.map { ($0 + o).storeLanes(d.vectorExp() * inverse, lanes) }
            outputs.logProbabilities.map { ($0 + o).storeLanes(lp, lanes) }
            if let g = outputs.gradient {
                let p = logits ? d.vectorExp() * inverse : V(repeating: 0)
                (g + o).storeLanes(scale * (p * gradK - coef), lanes)
            }
        }
        for lane in 0..<lanes { losses[lane] = -lossSum[lane] }
    }
}
