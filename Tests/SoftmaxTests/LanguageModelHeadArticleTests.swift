import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

/// The code of `Softmax.docc/LanguageModelHead.md`, run, and after each region its results
/// checked against float64 references from the logits `hidden · weightᵀ + bias` formed in
/// full (`Reference.linearLogits`): a log-sum-exp per row for the loss, `G·W`, `Gᵀ·H` and `Σ G` for the
/// gradients.
@Suite("Article: The language-model head")
struct LanguageModelHeadArticleTests {
    /// The arrays of the article's first example (the later ones reuse them).
    static func exampleArrays() throws -> (
        hidden: NDArray<Float>, weight: NDArray<Float>, bias: NDArray<Float>, tokens: NDArray<Int32>
    ) {
        (
            try NDArray<Float>(shape: [4, 8], scalars: (0..<32).map { Float($0 % 7) / 7 - 0.4 }),
            try NDArray<Float>(shape: [10, 8], scalars: (0..<80).map { Float(($0 * 5) % 11) / 11 - 0.5 }),
            try NDArray<Float>(shape: [10], scalars: (0..<10).map { Float($0) / 20 }),
            try NDArray<Int32>(shape: [4], scalars: [3, 9, 0, 3])
        )
    }

    /// The mean loss and its three gradients of the example arrays, from the logits in Double.
    static func exampleReference() throws -> (
        loss: Double, dHidden: [Double], dWeight: [Double], dBias: [Double], logits: [Double]
    ) {
        let (hidden, weight, bias, tokens) = try exampleArrays()
        let (h, w) = (hidden.scalars.doubles, weight.scalars.doubles)
        let z = Reference.linearLogits(hidden: h, weight: w, bias: bias.scalars.doubles, n: 4, d: 8, v: 10)
        let mean = Reference.crossEntropy(z, [4, 10], .indices(tokens.scalars.map { Int($0) }), CrossEntropyOptions())
        let products = Reference.linearBackward(mean.gradient, hidden: h, weight: w, n: 4, d: 8, v: 10)
        return (mean.loss, products.dHidden, products.dWeight, products.dBias, z)
    }

    static func expectClose<T: BinaryFloatingPoint>(
        _ got: NDArray<T>?, shape: [Int], _ want: [Double], _ tolerance: Tolerance, _ what: String
    ) {
        #expect(got?.shape == shape, "\(what): shape \(got?.shape ?? [])")
        let wrong = mismatches(got?.scalars ?? [], want, tolerance)
        #expect(wrong.isEmpty, "\(what): \(wrong)")
    }

    @Test func arraysInLossAndGradientsOut() throws {
        // docs: LanguageModelHead.md
        // Four positions of 8 features, a vocabulary of 10 tokens.
        let hidden = try NDArray<Float>(shape: [4, 8], scalars: (0..<32).map { Float($0 % 7) / 7 - 0.4 })
        let weight = try NDArray<Float>(shape: [10, 8], scalars: (0..<80).map { Float(($0 * 5) % 11) / 11 - 0.5 })
        let bias = try NDArray<Float>(shape: [10], scalars: (0..<10).map { Float($0) / 20 })
        let tokens = try NDArray<Int32>(shape: [4], scalars: [3, 9, 0, 3])

        let result = try linearCrossEntropy(hidden: hidden, weight: weight, bias: bias, classIndices: tokens)
        print(result.loss)  // the mean over the four positions
        let dHidden = result.hiddenGradient!  // [4, 8]
        let dWeight = result.weightGradient!  // [10, 8]
        let dBias = result.biasGradient!  // [10]
        // docs: end
        let want = try Self.exampleReference()
        let tolerance = Tolerance.of(Float.self)
        #expect(tolerance.accepts(result.loss, want.loss), "loss \(result.loss), expected \(want.loss)")
        #expect(result.zLoss == 0)
        Self.expectClose(dHidden, shape: [4, 8], want.dHidden, tolerance, "dHidden")
        Self.expectClose(dWeight, shape: [10, 8], want.dWeight, tolerance, "dWeight")
        Self.expectClose(dBias, shape: [10], want.dBias, tolerance, "dBias")
        #expect(result.losses == nil && result.zLosses == nil)
        // The example's data match the arrays the later tests reuse.
        let same = try Self.exampleArrays()
        #expect(hidden.scalars == same.hidden.scalars && weight.scalars == same.weight.scalars)
        #expect(bias.scalars == same.bias.scalars && tokens.scalars == same.tokens.scalars)
    }

    @Test func buffersAndGradientAccumulation() throws {
        // docs: LanguageModelHead.md
        let (d, v) = (4, 5)
        let weight: [Double] = (0..<(v * d)).map { Double(($0 * 3) % 7) / 7 - 0.4 }
        var dWeight = [Double](repeating: 0, count: v * d)
        // Two micro-batches of two positions; -100 marks a position without a label.
        let microBatches: [(hidden: [Double], labels: [Int64])] = [
            ([0.5, -1, 0.25, 2, 1, 0, -0.5, 0.75], [4, 1]),
            ([-0.25, 0.5, 1.5, -1, 0, 2, 0.5, -0.5], [0, -100]),
        ]
        var total = 0.0
        for batch in microBatches {
            var dHidden = [Double](repeating: 0, count: batch.hidden.count)
            total += try batch.hidden.withUnsafeBufferPointer { h in
                try weight.withUnsafeBufferPointer { w in
                    try batch.labels.withUnsafeBufferPointer { t in
                        try dHidden.withUnsafeMutableBufferPointer { dh in
                            try dWeight.withUnsafeMutableBufferPointer { dw in
                                try linearCrossEntropy(
                                    hidden: h, hiddenShape: [2, d], weight: w, weightShape: [v, d], classIndices: t,
                                    options: CrossEntropyOptions(reduction: .sum, ignoreIndex: -100),
                                    outputs: LinearCrossEntropyOutputs(
                                        hiddenGradient: dh, weightGradient: dw, accumulate: true))
                            }
                        }
                    }
                }
            }
            // dHidden holds this micro-batch's gradient: back-propagate it here.
        }
        print(total)  // the summed loss of the three labelled positions
        // docs: end
        let hidden = microBatches.flatMap(\.hidden)
        let labels = microBatches.flatMap(\.labels).map { Int($0) }
        let z = Reference.linearLogits(hidden: hidden, weight: weight, bias: nil, n: 4, d: d, v: v)
        let plain = Reference.crossEntropy(
            z, [4, v], .indices(labels), CrossEntropyOptions(reduction: .sum, ignoreIndex: -100))
        #expect(labels.filter { $0 != -100 }.count == 3)
        let tolerance = Tolerance.of(Double.self)
        #expect(tolerance.accepts(total, plain.loss), "summed loss \(total), expected \(plain.loss)")
        let want = Reference.linearBackward(plain.gradient, hidden: hidden, weight: weight, n: 4, d: d, v: v)
        // dWeight holds both micro-batches' gradients added up: the whole batch's.
        let wrong = mismatches(dWeight, want.dWeight, tolerance)
        #expect(wrong.isEmpty, "accumulated dWeight: \(wrong)")
        // The loop's last dHidden is the second micro-batch's rows (its ignored row zero).
        var lastHidden = [Double](repeating: .nan, count: 2 * d)
        let last = microBatches[1]
        try last.hidden.withUnsafeBufferPointer { h in
            try weight.withUnsafeBufferPointer { w in
                try last.labels.withUnsafeBufferPointer { t in
                    try lastHidden.withUnsafeMutableBufferPointer { dh in
                        _ = try linearCrossEntropy(
                            hidden: h, hiddenShape: [2, d], weight: w, weightShape: [v, d], classIndices: t,
                            options: CrossEntropyOptions(reduction: .sum, ignoreIndex: -100),
                            outputs: LinearCrossEntropyOutputs(hiddenGradient: dh))
                    }
                }
            }
        }
        #expect(mismatches(lastHidden, Array(want.dHidden[(2 * d)...]), tolerance).isEmpty)
        #expect(lastHidden[d...].allSatisfy { $0 == 0 })
    }

    @Test func languageModelOptions() throws {
        let (hidden, weight, bias, tokens) = try Self.exampleArrays()
        // docs: LanguageModelHead.md
        let options = CrossEntropyOptions(temperature: 0.8, softcap: 2, zLoss: 1e-4)
        let capped = try linearCrossEntropy(
            hidden: hidden, weight: weight, bias: bias, classIndices: tokens, options: options,
            outputs: [.hiddenGradient, .weightGradient, .losses, .zLosses])
        print(capped.loss, capped.zLoss)  // the z-loss is part of the loss, and reported apart
        // docs: end
        let base = try Self.exampleReference()
        let want = Reference.transformedCrossEntropy(
            base.logits, [4, 10], .indices(tokens.scalars.map { Int($0) }), options)
        let tolerance = Tolerance.of(Float.self)
        #expect(want.zLoss > 0)
        #expect(tolerance.accepts(capped.loss, want.loss), "loss \(capped.loss), expected \(want.loss)")
        #expect(tolerance.accepts(capped.zLoss, want.zLoss), "z-loss \(capped.zLoss), expected \(want.zLoss)")
        Self.expectClose(capped.losses, shape: [4], want.losses, tolerance, "losses")
        Self.expectClose(capped.zLosses, shape: [4], want.zLosses, tolerance, "z terms")
        let products = Reference.linearBackward(
            want.gradient, hidden: hidden.scalars.doubles, weight: weight.scalars.doubles, n: 4, d: 8, v: 10)
        Self.expectClose(capped.hiddenGradient, shape: [4, 8], products.dHidden, tolerance, "dHidden")
        Self.expectClose(capped.weightGradient, shape: [10, 8], products.dWeight, tolerance, "dWeight")
        #expect(capped.biasGradient == nil)
    }

    @Test func memoryBudgetAndGradientFilter() throws {
        let (hidden, weight, bias, tokens) = try Self.exampleArrays()
        // docs: LanguageModelHead.md
        // At most two rows of logits per chunk: the same results, in more, smaller products.
        let chunked = try linearCrossEntropy(
            hidden: hidden, weight: weight, bias: bias, classIndices: tokens,
            memoryBudget: 2 * 10 * MemoryLayout<Float>.stride)
        // Skip the backward products over each block of 128 positions × 256 classes where
        // |softmax − target| stays below 2⁻¹²: the loss stays exact, the gradients nearly so.
        let filtered = try linearCrossEntropy(
            hidden: hidden, weight: weight, bias: bias, classIndices: tokens, gradientFilter: 0x1p-12)
        // docs: end
        let want = try Self.exampleReference()
        let tolerance = Tolerance.of(Float.self)
        #expect(tolerance.accepts(chunked.loss, want.loss), "chunked loss \(chunked.loss), expected \(want.loss)")
        Self.expectClose(chunked.hiddenGradient, shape: [4, 8], want.dHidden, tolerance, "chunked dHidden")
        Self.expectClose(chunked.weightGradient, shape: [10, 8], want.dWeight, tolerance, "chunked dWeight")
        Self.expectClose(chunked.biasGradient, shape: [10], want.dBias, tolerance, "chunked dBias")
        #expect(tolerance.accepts(filtered.loss, want.loss), "filtered loss \(filtered.loss), expected \(want.loss)")
        // A skipped logit's gradient is below ε/4 (the mean divides by 4 positions); it would
        // reach dWeight through each of the 4 rows, where |hidden| ≤ 0.6.
        let bound = 4 * 0x1p-12 / 4 * 0.6 + 1e-6
        let filteredWeight = filtered.weightGradient!.scalars.doubles
        let worst = zip(filteredWeight, want.dWeight).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= bound, "filtered dWeight off by \(worst)")
    }

    @Test func whichBLAS() {
        // docs: LanguageModelHead.md
        print(SoftmaxBLAS.active)  // e.g. "OpenBLAS 0.3.21 (/usr/lib/…/libopenblasp-r0.3.21.so)" or "built-in"
        if let error = SoftmaxBLAS.loadError { print("SOFTMAX_BLAS: \(error)") }
        // docs: end
        #expect(!SoftmaxBLAS.active.isEmpty)
        switch SoftmaxBLAS.environmentRequest {
        case .builtIn: #expect(SoftmaxBLAS.active == "built-in" && SoftmaxBLAS.loadError == nil)
        case .automatic: #expect(SoftmaxBLAS.loadError == nil)
        case .library: #expect(SoftmaxBLAS.loadError == nil || SoftmaxBLAS.active == "built-in")
        }
    }
}
