import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

/// The code of the Choosing a Reduction article (Softmax.docc), run, and its results checked
/// against the per-pixel losses computed in float64.
@Suite("Choosing a Reduction article")
struct ChoosingAReductionArticleTests {
    @Test func everyReduction() throws {
        var printed: [LossReduction: Double] = [:]
        func print(_ reduction: LossReduction, _ loss: Double) { printed[reduction] = loss }
        // docs: ChoosingAReduction.md
        // Two images of 2×2 pixels, three classes; one pixel is unlabelled (255).
        let scores = try NDArray<Float>(shape: [2, 3, 2, 2], scalars: (0..<24).map { Float(($0 * 7) % 11) / 4 - 1 })
        let labels = try NDArray<UInt8>(shape: [2, 2, 2], scalars: [0, 1, 2, 255, 2, 2, 1, 0])
        var options = CrossEntropyOptions(ignoreIndex: 255)
        for reduction in LossReduction.allCases {
            options.reduction = reduction
            let result = try crossEntropy(scores, classIndices: labels, options: options, outputs: [.losses])
            print(reduction, result.loss)  // .none: the sum of the 8 per-pixel losses
        }
        // docs: end
        // Each pixel's −log p by hand: its three scores are 4 apart in the [N, C, H, W] layout.
        let x = scores.scalars.doubles
        var sum = 0.0
        for (pixel, label) in labels.scalars.enumerated() where label != 255 {
            let image = pixel / 4
            let column = (0..<3).map { x[image * 12 + $0 * 4 + pixel % 4] }
            sum += Reference.logSumExp(column) - column[Int(label)]
        }
        let want: [LossReduction: Double] = [
            .none: sum, .sum: sum, .mean: sum / 7, .full: sum / 8, .batchSize: sum / 2,
        ]
        #expect(printed.count == 5)
        for (reduction, loss) in want {
            #expect(abs(printed[reduction]! - loss) <= 1e-6 * loss, "\(reduction)")
        }
    }

    @Test func weightedMean() throws {
        var printed: [Double] = []
        func print(_ a: Double, _ b: Double) { printed = [a, b] }
        // docs: ChoosingAReduction.md
        let scores = try NDArray<Double>(shape: [4, 3], scalars: [1, 0, -1, 0, 2, 0, 3, 1, 0, 0, 0, 1])
        let labels = try NDArray<Int>(shape: [4], scalars: [0, 1, 1, 2])
        let weighted = CrossEntropyOptions(reduction: .mean, classWeights: [1, 2, 0.5])
        let summed = CrossEntropyOptions(reduction: .sum, classWeights: [1, 2, 0.5])
        let mean = try crossEntropy(scores, classIndices: labels, options: weighted).loss
        let sum = try crossEntropy(scores, classIndices: labels, options: summed).loss
        print(mean, sum / (1 + 2 + 2 + 0.5))  // the same: the sum over the targets' total weight
        // docs: end
        let weights = [1.0, 2, 0.5]
        var weightedSum = 0.0
        for (row, label) in [0, 1, 1, 2].enumerated() {
            let rowScores = Array(scores.scalars[row * 3..<row * 3 + 3])
            weightedSum += weights[label] * (Reference.logSumExp(rowScores) - rowScores[label])
        }
        #expect(abs(sum - weightedSum) <= 1e-12 * weightedSum)
        #expect(abs(mean - weightedSum / 5.5) <= 1e-12 * weightedSum)
        #expect(abs(printed[0] - printed[1]) <= 1e-12 * printed[0])
    }
}
