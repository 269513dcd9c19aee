import Foundation
import Testing

@testable import Softmax
@testable import SoftmaxKernels

/// The row kernel as a vocabulary-parallel loss uses it: a row split into shards, each run
/// with the whole row's normaliser (combined from the shards' own), the class count of the
/// whole row for smoothing, and the target's weight when the target lies in another shard.
/// The shards' gradients must be the slices of the whole row's and their losses must add up
/// to its loss — checked against the float64 definition.
@Suite("Cross-entropy row kernel on shards")
struct ShardedRowKernelTests {
    /// Loss and gradient of one row in float64:
    /// `ℓ = −Σ_c coef_c·logp_c`, `∂ℓ/∂x_c · scale = scale·(p_c·Σ coef − coef_c)`.
    static func reference(
        _ x: [Double], target: Int, weights: [Double]?, smoothing: Double, scale: Double
    ) -> (loss: Double, gradient: [Double]) {
        let n = x.count
        let top = x.max()!
        let logSum = log(x.reduce(0) { $0 + exp($1 - top) }) + top
        let w = weights ?? [Double](repeating: 1, count: n)
        let coef = (0..<n).map { c in (c == target ? (1 - smoothing) * w[c] : 0) + smoothing / Double(n) * w[c] }
        let loss = -(0..<n).reduce(0) { $0 + coef[$1] * (x[$1] - logSum) }
        let total = coef.reduce(0, +)
        let gradient = (0..<n).map { c in scale * (exp(x[c] - logSum) * total - coef[c]) }
        return (loss, gradient)
    }

    func run<S: KernelScalar>(
        _: S.Type, classes: Int, split: Int, target: Int, weighted: Bool, smoothing: Double,
        generator: inout SplitMix64
    ) {
        typealias Kernels = RowKernels<SIMD8<S>>
        let x = (0..<classes).map { _ in Double(S(6 * generator.uniform() - 3)) }
        let weights = weighted ? (0..<classes).map { _ in Double(S(0.5 + generator.uniform())) } : nil
        let scale = 0.25
        let want = Self.reference(x, target: target, weights: weights, smoothing: smoothing, scale: scale)
        let xs = x.map { S($0) }
        let ws = weights.map { $0.map { S($0) } } ?? []
        var gradient = [S](repeating: .nan, count: classes)
        let shards = [0..<split, split..<classes]
        var loss = 0.0
        xs.withUnsafeBufferPointer { xp in
            ws.withUnsafeBufferPointer { wp in
                gradient.withUnsafeMutableBufferPointer { gp in
                    // Each shard's own normaliser, then the whole row's from them.
                    let own = shards.map { Kernels.normalizer(xp.baseAddress! + $0.lowerBound, count: $0.count) }
                    let top = own.map(\.max).max()!
                    let sum = own.reduce(S(0)) { $0 + $1.sum * S.scalarExp($1.shift - top) }
                    let whole = Normalizer(max: top, sum: sum)
                    for shard in shards {
                        var parameters = CrossEntropyParameters<S>(
                            classes: shard.count, weights: weighted ? wp.baseAddress! + shard.lowerBound : nil,
                            weightSum: weighted ? ws.reduce(0, +) : S(classes), smoothing: S(smoothing),
                            inputIsLogProbability: false, gradientScale: S(scale))
                        parameters.smoothingClasses = classes
                        let localTarget = shard.contains(target) ? target - shard.lowerBound : shard.count
                        loss += Double(
                            Kernels.crossEntropy(
                                xp.baseAddress! + shard.lowerBound, target: localTarget, parameters: parameters,
                                outputs: CrossEntropyOutputPointers(gradient: gp.baseAddress! + shard.lowerBound),
                                normalizer: whole, targetWeight: weighted ? ws[target] : 1))
                    }
                }
            }
        }
        let epsilon = Double(S.ulpOfOne)
        #expect(
            Swift.abs(loss - want.loss) <= 64 * epsilon * Swift.max(1, Swift.abs(want.loss)),
            "\(S.self) target \(target) weighted \(weighted) ε \(smoothing): loss \(loss) vs \(want.loss)")
        for c in 0..<classes {
            #expect(
                Swift.abs(Double(gradient[c]) - want.gradient[c]) <= 64 * epsilon * scale,
                "\(S.self) target \(target) weighted \(weighted) ε \(smoothing) class \(c): \(gradient[c]) vs \(want.gradient[c])"
            )
        }
    }

    @Test(arguments: [0.0, 0.1])
    func shardsAddUpToTheWholeRow(smoothing: Double) {
        var generator = SplitMix64(seed: 1517)
        for target in [0, 11, 19, 20, 36] {
            for weighted in [false, true] {
                run(
                    Float.self, classes: 37, split: 20, target: target, weighted: weighted, smoothing: smoothing,
                    generator: &generator)
                run(
                    Double.self, classes: 37, split: 20, target: target, weighted: weighted, smoothing: smoothing,
                    generator: &generator)
            }
        }
    }
}
