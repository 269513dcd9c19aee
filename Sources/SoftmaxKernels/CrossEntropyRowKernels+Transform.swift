/// The fused cross-entropy of one row of logits under a temperature and/or softcap, gradient
/// only, class-index target: the training call of a language-model head with Gemma 2's
/// softcap, in three passes over the row like the plain one-pass kernel, the transform taken
/// once per element inside them.
///
/// 1. the row's maximum `m` of the raw scores (the transforms are increasing, so the
///    transformed maximum is `f(m)`);
/// 2. `s = f(x)`, `e = exp(s − f(m))` written to the gradient and summed, `∂s/∂x` kept in
///    `slopes` (softcap only: `(1/T)·(1 − (s/c)²)`), and `Σ w·s` for label smoothing;
/// 3. the gradient `(A·e/Σe − B·w)·∂s/∂x`, `A` the coefficient of `p` (the loss's and the
///    z-loss's), `B = scale·ε/C`, then the one-hot term at the target.
///
/// The gradient may be the scores' own buffer: pass 2 reads each element before writing it,
/// and the target score is read first.
extension RowKernels {
    /// Loss and gradient of one row; see the extension's description.
    ///
    /// - Parameters:
    ///   - x: `parameters.classes` logits.
    ///   - target: the class, or a negative value for an ignored position (no other shard).
    ///   - slopes: scratch for `classes` values (used only with a softcap).
    ///   - zLoss: receives the z term `λ·lse²` (0 when ignored) when `parameters.zLoss` is set.
    /// - Returns: the per-position loss without its z term (0 when ignored).
    /// - Complexity: O(classes): the scores read once from memory and once from cache; one
    ///   `tanh` (with a softcap) and one exponential per element.
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, target: Int, parameters k: CrossEntropyParameters<Scalar>,
        transform: LogitTransform<Scalar>, gradient g: UnsafeMutablePointer<Scalar>,
        slopes: UnsafeMutablePointer<Scalar>, zLoss: UnsafeMutablePointer<Scalar>?
    ) -> Scalar {
        let n = k.classes
        if target < 0 {
            // Ignored: no loss, no z term, a zero gradient (whatever the scores hold).
            zLoss?.pointee = 0
            g.update(repeating: 0, count: n)
            return 0
        }
        let (w, tail) = (V.scalarCount, n % V.scalarCount)
        let full = n - tail
        let ignored = target < 0
        let eps = k.smoothing
        let epsPerClass = k.smoothingPerClass
        let softcap = transform.softcap
        let inverseTemperature = V(repeating: transform.inverseTemperature)
        let cap = V(repeating: softcap ?? 1)
        let inverseCap = V(repeating: 1 / (softcap ?? 1))
        let one = V(repeating: 1)
        // Two products, not one by `(1/T)/c`: that quotient can overflow where each factor
        // is finite (T = 1e-39, c = 1e-300 in Double), and 0·∞ is NaN.
        @inline(__always) func transformed(_ v: V) -> V {
            softcap == nil ? v * inverseTemperature : cap * (v * inverseTemperature * inverseCap).vectorTanh()
        }
        let targetScore = ignored ? 0 : transformed(V(repeating: x[target]))[0]  // read first

        // Pass 1: the maximum of the raw scores, transformed.
        let top = blockMaximum(x, from: 0, to: n, startingWith: V(repeating: -.infinity)).horizontalMax()
        let shift = top == -.infinity ? 0 : transformed(V(repeating: top))[0]
        let vShift = V(repeating: shift)

        // Pass 2: exponentials into the gradient, slopes, Σ w·s.
        var sums = V(repeating: 0)
        var weighted = V(repeating: 0)
        @inline(__always) func exponentials(_ i: Int, _ lanes: Int, _ xv: V, _ live: V, _ weight: V) -> V {
            let s = transformed(xv)
            if softcap != nil {
                let t = s * inverseCap
                let slope = inverseTemperature * (one - t * t)
                if lanes == w { (slopes + i).storeVector(slope) } else { (slopes + i).storeLanes(slope, lanes) }
            }
            if eps > 0 { weighted += weight.weightedTerm(s) }
            return (s - vShift).vectorExpShifted() * live
        }
        var i = 0
        while i < full {
            let weight = k.weights.map { ($0 + i).loadVector(V.self) } ?? one
            let e = exponentials(i, w, (x + i).loadVector(V.self), one, weight)
            (g + i).storeVector(e)
            sums += e
            i += w
        }
        if tail > 0 {
            let weight = k.weights.map { ($0 + full).loadLanes(tail, V.self) } ?? V.firstLanes(tail, 1)
            // Lanes past the row: their exponentials are masked out of the sum.
            let e = exponentials(full, tail, (x + full).loadLanes(tail, V.self), V.firstLanes(tail, 1), weight)
            (g + full).storeLanes(e, tail)
            sums += e
        }
        let sum = sums.horizontalSum()
        let masked = sum == 0
        let lse = masked ? -Scalar.infinity : shift + Scalar.scalarLog(sum)
        let inverse: Scalar = masked ? 0 : 1 / sum
        let targetWeight: Scalar = ignored ? 0 : k.weight(target)
        let scale: Scalar = ignored ? 0 : k.gradientScale
        let z = (ignored || k.zLoss == 0) ? (value: Scalar(0), coefficient: Scalar(0)) : k.zTerm(logSumExp: lse)
        zLoss?.pointee = z.value
        let gradK = ignored ? 0 : (1 - eps) * targetWeight + epsPerClass * k.weightSum

        // Pass 3: the gradient.
        let pCoefficient = V(repeating: (scale * gradK + z.coefficient) * inverse)
        let smoothingCoefficient = V(repeating: scale * epsPerClass)
        @inline(__always) func gradient(_ i: Int, _ e: V, _ weight: V, _ slope: V) -> V {
            (pCoefficient * e - smoothingCoefficient * weight) * slope
        }
        i = 0
        while i < full {
            let weight = k.weights.map { ($0 + i).loadVector(V.self) } ?? one
            let slope = softcap == nil ? inverseTemperature : (slopes + i).loadVector(V.self)
            (g + i).storeVector(gradient(i, (g + i).loadVector(V.self), weight, slope))
            i += w
        }
        if tail > 0 {
            let weight = k.weights.map { ($0 + full).loadLanes(tail, V.self) } ?? one
            let slope = softcap == nil ? inverseTemperature : (slopes + full).loadLanes(tail, V.self)
            (g + full).storeLanes(gradient(full, (g + full).loadLanes(tail, V.self), weight, slope), tail)
        }
        if ignored { return 0 }
        let targetSlope = softcap == nil ? transform.inverseTemperature : slopes[target]
        g[target] -= scale * (1 - eps) * targetWeight * targetSlope

        let targetCoefficient = (1 - eps) * targetWeight
        var loss = targetCoefficient == 0 ? 0 : -targetCoefficient * (masked ? -.infinity : targetScore - lse)
        if eps > 0 {
            let smoothingSum = masked ? -Scalar.infinity : weighted.horizontalSum() - lse * k.weightSum
            loss -= epsPerClass * smoothingSum
        }
        return loss
    }
}
