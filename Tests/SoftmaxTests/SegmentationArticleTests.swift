import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

/// The code of the Segmentation article (Softmax.docc), run, and its results checked against
/// float64 references.
@Suite("Segmentation article")
struct SegmentationArticleTests {
    @Test func probabilityMaps() throws {
        var printed: (Int, Float)?
        func print(_ predicted: Int, _ probability: Float) { printed = (predicted, probability) }
        // docs: Segmentation.md
        let (images, classes, height, width) = (2, 3, 4, 5)
        let count = images * classes * height * width
        let scores = try NDArray<Float>(
            shape: [images, classes, height, width], scalars: (0..<count).map { Float(($0 * 37) % 17) / 8 - 1 })
        let probabilities = try scores.softmax(axis: 1)  // for every pixel, Σ over the 3 classes is 1
        // The predicted class of row 2, column 1 of the second image:
        let predicted = (0..<classes).max { probabilities[1, $0, 2, 1] < probabilities[1, $1, 2, 1] }!
        print(predicted, probabilities[1, predicted, 2, 1])
        // docs: end
        let want = Reference.softmax(scores.scalars.doubles, scores.shape, 1)
        #expect(mismatches(probabilities.scalars, want, Tolerance.of(Float.self)).isEmpty)
        let pixelScores = (0..<classes).map { scores[1, $0, 2, 1] }
        #expect(printed?.0 == pixelScores.indices.max { pixelScores[$0] < pixelScores[$1] })
        let offset = ((1 * classes + printed!.0) * height + 2) * width + 1
        #expect(Tolerance.of(Float.self).accepts(Double(printed!.1), want[offset]))
    }

    @Test func ignoredPixelsAndClassWeights() throws {
        // docs: Segmentation.md
        let scores = try NDArray<Float>(shape: [1, 3, 2, 3], scalars: (0..<18).map { Float($0 % 7) - 3 })
        let mask = try NDArray<UInt8>(shape: [1, 2, 3], scalars: [0, 0, 1, 255, 2, 0])
        let options = CrossEntropyOptions(ignoreIndex: 255, classWeights: [0.2, 1, 3])
        let result = try crossEntropy(scores, classIndices: mask, options: options, outputs: [.gradient, .losses])
        print(result.loss)  // Σ w_t·(−log p_t) / Σ w_t over the five labelled pixels
        print(result.losses!.shape, result.losses![0, 1, 0])  // [1, 2, 3]; 0 at the unlabelled pixel
        // docs: end
        // By hand, pixel by pixel: its classes are 6 elements apart.
        let weights = [0.2, 1, 3]
        var weighted = 0.0
        var weightSum = 0.0
        var losses: [Double] = []
        var gradient = [Double](repeating: 0, count: 18)
        for (pixel, label) in mask.scalars.map(Int.init).enumerated() {
            guard label != 255 else {
                losses.append(0)
                continue
            }
            let column = (0..<3).map { Double(scores.scalars[$0 * 6 + pixel]) }
            let lse = Reference.logSumExp(column)
            losses.append(weights[label] * (lse - column[label]))
            weighted += losses.last!
            weightSum += weights[label]
            for c in 0..<3 { gradient[c * 6 + pixel] = weights[label] * (exp(column[c] - lse) - (c == label ? 1 : 0)) }
        }
        #expect(abs(result.loss - weighted / weightSum) <= 1e-6 * result.loss)
        #expect(result.losses!.shape == [1, 2, 3])
        #expect(mismatches(result.losses!.scalars, losses, Tolerance.of(Float.self)).isEmpty)
        #expect(result.losses![0, 1, 0] == 0)
        #expect(mismatches(result.gradient!.scalars, gradient.map { $0 / weightSum }, .of(Float.self)).isEmpty)
    }

    @Test func channelsLast() throws {
        var printed: Double?
        func print(_ loss: Double) { printed = loss }
        // docs: Segmentation.md
        let channelsLast = try NDArray<Double>(shape: [1, 2, 2, 3], scalars: (0..<12).map { Double($0 % 5) / 2 })
        let labels = try NDArray<Int32>(shape: [1, 2, 2], scalars: [2, 0, 1, 1])
        let loss = try crossEntropy(channelsLast, classIndices: labels, options: CrossEntropyOptions(axis: -1)).loss
        print(loss)
        // docs: end
        // The same pixels transposed to [N, C, H, W] give the same loss along axis 1.
        var channelsFirst = [Double](repeating: 0, count: 12)
        for pixel in 0..<4 {
            for c in 0..<3 { channelsFirst[c * 4 + pixel] = channelsLast.scalars[pixel * 3 + c] }
        }
        let nchw = try NDArray<Double>(shape: [1, 3, 2, 2], scalars: channelsFirst)
        let want = try crossEntropy(nchw, classIndices: labels).loss
        #expect(abs(printed! - want) <= 1e-12)
        let reference = Reference.crossEntropy(
            channelsLast.scalars, [1, 2, 2, 3], .indices([2, 0, 1, 1]), .init(axis: -1))
        #expect(abs(loss - reference.loss) <= 1e-12)
    }
}
