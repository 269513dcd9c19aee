import Foundation
import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// `SoftmaxWithLossLayer`'s LLM options (not in Caffe): temperature, softcap and z-loss, with
/// an ignore label and class weights.  The back-propagated diff is checked against central
/// differences of the returned loss in Double (the chain rule through `tanh` and the z term's
/// own normaliser), and `top[0]` against a loss written out here from SPEC's definitions.
@Suite("SoftmaxWithLoss: temperature, softcap and z-loss")
struct SoftmaxWithLossLogitTransformTests {
    static let settings: [(temperature: Double, softcap: Double?, zLoss: Double)] = [
        (2.5, nil, 0), (1, 4, 0), (1, 1e9, 0.3), (0.7, 3, 0.2),
    ]

    /// The loss of SPEC's "Logit transforms and z-loss" for `.valid` with class weights
    /// `w`: Σ w_t·(lse − s_t) / Σ w_t + λ·Σ lse² / (positions not ignored).
    func expectedLoss(
        _ scores: [Double], shape: [Int], labels: [Int], ignore: Int, weights: [Double], temperature: Double,
        softcap: Double?, zLoss: Double
    ) -> Double {
        let (classes, inner) = (shape[1], shape.count > 2 ? shape[2] : 1)
        var (crossEntropy, weightSum, z, kept) = (0.0, 0.0, 0.0, 0)
        for o in 0..<shape[0] {
            for i in 0..<inner {
                let label = labels[o * inner + i]
                if label == ignore { continue }
                let s = (0..<classes).map { c -> Double in
                    let t = scores[(o * classes + c) * inner + i] / temperature
                    return softcap.map { $0 * Foundation.tanh(t / $0) } ?? t
                }
                let lse = Reference.logSumExp(s)
                crossEntropy += weights[label] * (lse - s[label])
                weightSum += weights[label]
                z += zLoss * lse * lse
                kept += 1
            }
        }
        return crossEntropy / weightSum + z / Double(kept)
    }

    /// Strided positions (staged tile by tile) and rows of 37 classes (the fused row kernel,
    /// with a ragged last vector at every width).
    static let shapes: [[Int]] = [[3, 5, 4], [4, 37]]

    @Test(arguments: 0..<settings.count, shapes)
    func gradientAndLoss(setting index: Int, shape: [Int]) throws {
        let setting = Self.settings[index]
        let f = try LossFixture<Double>(scoresShape: shape, seed: 2024 + UInt64(index))
        f.labels.data[1] = 2  // the ignore label occurs
        let weights = (0..<shape[1]).map { [0.5, 2, 1, 0.25, 3][$0 % 5] }
        let layer = try SoftmaxWithLossLayer<Double>(
            axis: 1, ignoreLabel: 2, lossWeights: [1.5], classWeights: weights, temperature: setting.temperature,
            softcap: setting.softcap, zLoss: setting.zLoss)
        try layer.forward(bottom: f.bottom, top: f.top)
        let labels = f.labels.data.map { Int($0) }
        #expect(labels.contains(2), "test bug: nothing ignored")
        let want = expectedLoss(
            f.scores.data, shape: f.scores.shape, labels: labels, ignore: 2, weights: weights,
            temperature: setting.temperature, softcap: setting.softcap, zLoss: setting.zLoss)
        #expect(abs(f.loss.data[0] - want) <= 1e-10 * max(1, abs(want)), "top[0] \(f.loss.data[0]), want \(want)")

        let report = try GradientChecker(stepsize: 1e-5, threshold: 1e-7).checkLossLayer(layer, f)
        #expect(report.checked == f.scores.count)
        #expect(report.failures.isEmpty, "\(report.summary)")
    }

    /// The options are checked: a bad one is a `SoftmaxError` from `forward`, nothing else.
    @Test func badOptionsAreRefusedAtForward() throws {
        for (temperature, softcap, zLoss) in [(0.0, nil, 0.0), (1, -3, 0), (1, nil, -1), (.nan, nil, 0)]
            as [(Double, Double?, Double)]
        {
            let f = try LossFixture<Float>(scoresShape: [2, 3, 2], seed: 7)
            let layer = try SoftmaxWithLossLayer<Float>(temperature: temperature, softcap: softcap, zLoss: zLoss)
            #expect(throws: SoftmaxError.self) { try layer.forward(bottom: f.bottom, top: f.top) }
        }
    }
}
