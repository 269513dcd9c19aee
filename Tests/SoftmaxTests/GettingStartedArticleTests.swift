import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

/// The code of the Getting Started article (Softmax.docc), run, and its results checked against
/// float64 references.
@Suite("Getting Started article")
struct GettingStartedArticleTests {
    @Test func arrays() throws {
        // docs: GettingStarted.md
        let logits = try NDArray<Float>(shape: [2, 3], scalars: [1, 2, 3, 1000, 1000, 1000])
        let probabilities = try logits.softmax(axis: -1)  // each row sums to 1
        let logProbabilities = try logits.logSoftmax(axis: 1)  // log(p), without log(0) for tiny p
        let normalisers = try logits.logSumExp(axis: 1)  // shape [2]: log Σ exp along the axis
        print(probabilities.scalars, logProbabilities[0, 2], normalisers.scalars)
        // docs: end
        let x = logits.scalars.doubles
        let tolerance = Tolerance.of(Float.self)
        #expect(mismatches(probabilities.scalars, Reference.softmax(x, [2, 3], 1), tolerance).isEmpty)
        #expect(mismatches(logProbabilities.scalars, Reference.logSoftmax(x, [2, 3], 1), tolerance).isEmpty)
        #expect(mismatches(normalisers.scalars, Reference.logSumExp(x, [2, 3], 1), tolerance).isEmpty)
        #expect(normalisers.shape == [2])
        #expect(probabilities[1, 0] == Float(1) / 3)
    }

    @Test func crossEntropyOnArrays() throws {
        // docs: GettingStarted.md
        let scores = try NDArray<Float>(shape: [2, 3], scalars: [2.0, 1.0, 0.1, 0.5, 2.5, -1.0])
        let labels = try NDArray<Int32>(shape: [2], scalars: [0, 1])
        let result = try crossEntropy(scores, classIndices: labels)
        print(result.loss)  // mean over the two rows of −log p(true class)
        print(result.gradient!.scalars)  // (p − onehot) / 2
        // docs: end
        let x = scores.scalars.doubles
        let p = Reference.softmax(x, [2, 3], 1)
        let want = -(log(p[0]) + log(p[4])) / 2
        #expect(abs(result.loss - want) <= 1e-6 * want)
        var onehotGradient = p.map { $0 / 2 }
        onehotGradient[0] -= 0.5
        onehotGradient[4] -= 0.5
        #expect(mismatches(result.gradient!.scalars, onehotGradient, Tolerance.of(Float.self)).isEmpty)
    }

    @Test func crossEntropyOptionsAndOutputs() throws {
        // docs: GettingStarted.md
        let scores = try NDArray<Double>(shape: [3, 4], scalars: (0..<12).map { Double($0 % 5) - 2 })
        let labels = try NDArray<Int>(shape: [3], scalars: [3, -100, 0])
        let options = CrossEntropyOptions(reduction: .mean, ignoreIndex: -100, labelSmoothing: 0.1)
        let result = try crossEntropy(
            scores, classIndices: labels, options: options, outputs: [.gradient, .losses, .probabilities])
        print(result.loss, result.losses!.scalars)  // the ignored row's loss is 0
        // docs: end
        // By hand: (1 − ε)·(−log p_t) + ε/C·Σ_c (−log p_c), averaged over the two rows kept.
        let x = scores.scalars
        var losses: [Double] = []
        for (row, label) in [(0, 3), (1, -100), (2, 0)] {
            let lse = Reference.logSumExp(Array(x[row * 4..<row * 4 + 4]))
            let logp = (0..<4).map { x[row * 4 + $0] - lse }
            losses.append(label < 0 ? 0 : -0.9 * logp[label] - 0.1 / 4 * logp.reduce(0, +))
        }
        #expect(mismatches(result.losses!.scalars, losses, Tolerance.of(Double.self)).isEmpty)
        #expect(abs(result.loss - (losses[0] + losses[2]) / 2) <= 1e-12)
        #expect(result.gradient!.scalars[4..<8].allSatisfy { $0 == 0 })
        #expect(mismatches(result.probabilities!.scalars, Reference.softmax(x, [3, 4], 1), .of(Double.self)).isEmpty)
        let reference = Reference.crossEntropy(x, [3, 4], .indices([3, -100, 0]), options)
        #expect(mismatches(result.gradient!.scalars, reference.gradient, .of(Double.self)).isEmpty)
    }

    @Test func buffersInPlace() throws {
        // docs: GettingStarted.md
        var activations: [Float] = [0.5, 1.5, -2, 3, 0, 0]
        try activations.withUnsafeMutableBufferPointer { buffer in
            try softmax(UnsafeBufferPointer(buffer), shape: [2, 3], axis: 1, into: buffer)
        }
        print(activations)  // two rows of probabilities, in place
        // docs: end
        let want = Reference.softmax([0.5, 1.5, -2, 3, 0, 0], [2, 3], 1)
        #expect(mismatches(activations, want, Tolerance.of(Float.self)).isEmpty)
    }

    @Test func crossEntropyOnBuffers() throws {
        // docs: GettingStarted.md
        let scores: [Float] = [2.0, 1.0, 0.1, 0.5, 2.5, -1.0]
        let labels: [Int64] = [0, 1]
        var gradient = [Float](repeating: 0, count: scores.count)
        let loss = try scores.withUnsafeBufferPointer { scores in
            try labels.withUnsafeBufferPointer { labels in
                try gradient.withUnsafeMutableBufferPointer { gradient in
                    try crossEntropy(
                        scores: scores, shape: [2, 3], classIndices: labels,
                        outputs: CrossEntropyOutputs(gradient: gradient))
                }
            }
        }
        print(loss, gradient)
        // docs: end
        let reference = Reference.crossEntropy(scores.doubles, [2, 3], .indices([0, 1]), CrossEntropyOptions())
        #expect(abs(loss - reference.loss) <= 1e-6 * reference.loss)
        #expect(mismatches(gradient, reference.gradient, Tolerance.of(Float.self)).isEmpty)
    }

    @Test func backwardPass() throws {
        // docs: GettingStarted.md
        let x = try NDArray<Double>(shape: [1, 3], scalars: [0.2, -1.0, 0.7])
        let y = try x.softmax(axis: 1)
        let dy = try NDArray<Double>(shape: [1, 3], scalars: [1, 0, 0])  // ∂L/∂y for L = p₀
        let dx = try y.softmaxBackward(gradient: dy, axis: 1)
        print(dx.scalars)  // p₀·(δ₀ⱼ − pⱼ)
        // docs: end
        // Against a central finite difference of p₀ in each score.
        let h = 1e-6
        for j in 0..<3 {
            var plus = x.scalars
            var minus = x.scalars
            plus[j] += h
            minus[j] -= h
            let slope = (Reference.softmax(plus, [1, 3], 1)[0] - Reference.softmax(minus, [1, 3], 1)[0]) / (2 * h)
            #expect(abs(dx.scalars[j] - slope) <= 1e-8, "∂p₀/∂x\(j)")
        }
    }
}
