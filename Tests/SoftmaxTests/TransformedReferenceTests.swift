import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

/// The float64 reference of the transformed loss checked against itself: its analytic
/// gradient (the chain rule through softcap and temperature, the z term's `2λ·lse·p`) equals
/// central differences of its own reduced loss, for every reduction and option, and it
/// reduces to the plain cross-entropy reference without transforms.  The library is then
/// checked against a reference that is right.
@Suite("Transformed cross-entropy reference")
struct TransformedReferenceTests {
    static let options: [CrossEntropyOptions] = LossReduction.allCases.flatMap { reduction in
        [
            CrossEntropyOptions(axis: 1, reduction: reduction, temperature: 0.6),
            CrossEntropyOptions(axis: 1, reduction: reduction, softcap: 1.5, zLoss: 0.3),
            CrossEntropyOptions(
                axis: 1, reduction: reduction, ignoreIndex: -100, classWeights: [0.5, 2, 1, 1.5, 0.25],
                labelSmoothing: 0.15, lossWeight: 1, temperature: 1.7, softcap: 2, zLoss: 0.2),
            CrossEntropyOptions(
                axis: 1, reduction: reduction, ignoreIndex: -100, classWeights: [3, 3, 3, 3, 3], zLoss: 0.5),
        ]
    }

    /// Scores of `[3, 5, 2]` (strided positions) with values far enough out for the softcap
    /// to bend them, labels with two ignored, probability targets.
    static func problem() -> (x: [Double], labels: [Int], q: [Double]) {
        var rng = SeededGenerator(seed: 1234)
        let x = rng.gaussians(30, std: 2)
        let labels = [1, -100, 4, 0, 2, -100]
        let q = Reference.softmax(rng.gaussians(30), [3, 5, 2], 1)
        return (x, labels, q)
    }

    @Test(arguments: options, [false, true])
    func analyticGradientMatchesCentralDifferences(options: CrossEntropyOptions, probabilities: Bool) {
        let shape = [3, 5, 2]
        let (x, labels, q) = Self.problem()
        // Labels of -100 only where that is the ignore index.
        let valid = labels.map { $0 == -100 && options.ignoreIndex == nil ? 3 : $0 }
        let targets: Reference.Targets = probabilities ? .probabilities(q) : .indices(valid)
        var sumOptions = options
        if options.reduction == .none { sumOptions.reduction = .sum }
        let analytic = Reference.transformedCrossEntropy(x, shape, targets, options).gradient
        let h = 1e-5
        for k in x.indices {
            var plus = x
            var minus = x
            plus[k] += h
            minus[k] -= h
            let numeric =
                (Reference.transformedCrossEntropy(plus, shape, targets, sumOptions).loss
                    - Reference.transformedCrossEntropy(minus, shape, targets, sumOptions).loss) / (2 * h)
            #expect(
                abs(analytic[k] - numeric) <= 1e-8 + 1e-6 * abs(numeric),
                "element \(k): analytic \(analytic[k]), numeric \(numeric) \(options) soft \(probabilities)")
        }
        // The gradient is not trivially 0.
        #expect(analytic.contains { abs($0) > 1e-3 })
    }

    /// The loss weight scales the gradient only.
    @Test func lossWeightScalesTheGradientOnly() {
        let (x, labels, _) = Self.problem()
        var options = Self.options[2]
        let one = Reference.transformedCrossEntropy(x, [3, 5, 2], .indices(labels), options)
        options.lossWeight = -2.5
        let scaled = Reference.transformedCrossEntropy(x, [3, 5, 2], .indices(labels), options)
        #expect(one.loss == scaled.loss && one.zLoss == scaled.zLoss)
        for k in x.indices { #expect(abs(scaled.gradient[k] + 2.5 * one.gradient[k]) <= 1e-15) }
    }

    /// Without a temperature, softcap or z-loss it is the plain reference, every option on.
    @Test(arguments: LossReduction.allCases)
    func neutralOptionsGiveThePlainReference(reduction: LossReduction) {
        let (x, labels, q) = Self.problem()
        let options = CrossEntropyOptions(
            axis: 1, reduction: reduction, ignoreIndex: -100, classWeights: [0.5, 2, 1, 1.5, 0.25],
            labelSmoothing: 0.15, lossWeight: 1.5)
        for targets in [Reference.Targets.indices(labels), .probabilities(q)] {
            let a = Reference.transformedCrossEntropy(x, [3, 5, 2], targets, options)
            let b = Reference.crossEntropy(x, [3, 5, 2], targets, options)
            #expect(abs(a.loss - b.loss) <= 1e-14 * abs(b.loss))
            #expect(a.zLoss == 0 && a.zLosses.allSatisfy { $0 == 0 })
            #expect(firstMismatch(a.losses, b.losses, rel: 1e-14, abs: 1e-15) == nil)
            #expect(firstMismatch(a.gradient, b.gradient, rel: 1e-14, abs: 1e-15) == nil)
            #expect(firstMismatch(a.probabilities, Reference.softmax(x, [3, 5, 2], 1), rel: 1e-14, abs: 1e-16) == nil)
        }
    }

    /// The transformed scores themselves, written out for one value: `T = 2`, `c = 3`:
    /// `s = 3·tanh(x/6)`; and the z term of a uniform row is `λ·log(C)²`.
    @Test func transformAndZTermByHand() {
        let x = [4.0, -1, 0.5]
        let options = CrossEntropyOptions(axis: 1, reduction: .sum, temperature: 2, softcap: 3, zLoss: 0.25)
        let r = Reference.transformedCrossEntropy(x, [1, 3], .indices([0]), options)
        for k in 0..<3 { #expect(abs(r.transformed[k] - 3 * tanh(x[k] / 6)) <= 1e-15) }
        let lse = log(r.transformed.map { exp($0) }.reduce(0, +))
        #expect(abs(r.zLoss - 0.25 * lse * lse) <= 1e-14)
        #expect(abs(r.loss - (lse - r.transformed[0] + 0.25 * lse * lse)) <= 1e-14)
        let uniform = Reference.transformedCrossEntropy([7, 7, 7, 7], [1, 4], .indices([2]), options)
        let s = 3 * tanh(7.0 / 6)
        #expect(abs(uniform.zLoss - 0.25 * pow(s + log(4.0), 2)) <= 1e-13)
    }
}
