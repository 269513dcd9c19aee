/// The linear layer in front of a language-model head, in float64: its logits formed in full
/// and its backward products, for the tests of the fused and the vocabulary-parallel linear
/// cross-entropy.
extension Reference {
    /// `hidden · weightᵀ + bias`: hidden `[n, d]`, weight `[v, d]` (PyTorch's `nn.Linear`
    /// layout), bias `[v]` or none; the logits `[n, v]`, row-major.
    public static func linearLogits(
        hidden: [Double], weight: [Double], bias: [Double]?, n: Int, d: Int, v: Int
    ) -> [Double] {
        var logits = [Double](repeating: 0, count: n * v)
        for r in 0..<n {
            for c in 0..<v {
                var sum = bias?[c] ?? 0
                for k in 0..<d { sum += hidden[r * d + k] * weight[c * d + k] }
                logits[r * v + c] = sum
            }
        }
        return logits
    }

    /// The backward products of the logits' gradient `g` (`[n, v]`): `dHidden = G·W`,
    /// `dWeight = Gᵀ·H` and `dBias = Σ_rows G`.
    public static func linearBackward(
        _ g: [Double], hidden: [Double], weight: [Double], n: Int, d: Int, v: Int
    ) -> (dHidden: [Double], dWeight: [Double], dBias: [Double]) {
        var dHidden = [Double](repeating: 0, count: n * d)
        var dWeight = [Double](repeating: 0, count: v * d)
        var dBias = [Double](repeating: 0, count: v)
        for r in 0..<n {
            for c in 0..<v {
                let gradient = g[r * v + c]
                dBias[c] += gradient
                for k in 0..<d {
                    dHidden[r * d + k] += gradient * weight[c * d + k]
                    dWeight[c * d + k] += gradient * hidden[r * d + k]
                }
            }
        }
        return (dHidden, dWeight, dBias)
    }
}
