import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

/// The fused linear cross-entropy against its definition in float64 (the logits formed in
/// full, SPEC's cross-entropy, then the three products), in chunks of every size, on the
/// system BLAS and the built-in kernel.
@Suite("Linear cross-entropy")
struct LinearCrossEntropyTests {
    /// A problem: hidden `[n, d]`, weight `[v, d]`, optional bias, labels (some ignored).
    struct Problem {
        var n: Int, d: Int, v: Int
        var hidden: [Double], weight: [Double], bias: [Double]?, labels: [Int]

        init(n: Int, d: Int, v: Int, bias: Bool, ignored: Int? = nil, seed: UInt64) {
            var generator = SeededGenerator(seed: seed)
            (self.n, self.d, self.v) = (n, d, v)
            // Inputs exact in Float, so Float and Double see the same numbers.
            func values(_ count: Int, _ scale: Double) -> [Double] {
                generator.gaussians(count).map { Double(Float($0 * scale)) }
            }
            hidden = values(n * d, 1)
            weight = values(v * d, 0.5)
            self.bias = bias ? values(v, 0.3) : nil
            labels = (0..<n).map { _ in Int(generator.next() % UInt64(v)) }
            if let ignored { for i in stride(from: 1, to: n, by: 3) { labels[i] = ignored } }
        }

        /// Loss, per-position losses and the three gradients in float64.
        func reference(_ options: CrossEntropyOptions) -> (
            loss: Double, losses: [Double], dHidden: [Double], dWeight: [Double], dBias: [Double]
        ) {
            let logits = Reference.linearLogits(hidden: hidden, weight: weight, bias: bias, n: n, d: d, v: v)
            var ceOptions = options
            ceOptions.axis = 1
            let ce = Reference.crossEntropy(logits, [n, v], .indices(labels), ceOptions)
            let products = Reference.linearBackward(ce.gradient, hidden: hidden, weight: weight, n: n, d: d, v: v)
            return (ce.loss, ce.losses, products.dHidden, products.dWeight, products.dBias)
        }

        /// The package's result in `T`.
        func run<T: LinearCrossEntropyScalar>(
            _: T.Type, _ options: CrossEntropyOptions, budget: Int = LinearCrossEntropy.defaultMemoryBudget
        ) throws -> LinearCrossEntropyResult<T> {
            try linearCrossEntropy(
                hidden: NDArray(shape: [n, d], scalars: hidden.map { T($0) }),
                weight: NDArray(shape: [v, d], scalars: weight.map { T($0) }),
                bias: try bias.map { try NDArray(shape: [v], scalars: $0.map { T($0) }) },
                classIndices: NDArray(shape: [n], scalars: labels.map { Int64($0) }), options: options,
                outputs: [.gradients, .losses], memoryBudget: budget)
        }
    }

    /// `got` within `T`'s accuracy of `want`: relative to the largest magnitude of `want`.
    func expectClose<T: LinearCrossEntropyScalar>(
        _ got: NDArray<T>?, _ want: [Double], _ what: String, _: T.Type
    ) {
        guard let got else {
            Issue.record("\(what) missing")
            return
        }
        let scale = Swift.max(want.map(Swift.abs).max() ?? 0, 1e-30)
        let tolerance = T.self == Double.self ? 1e-11 : 2e-5
        let worst = zip(got.scalars, want).map { Swift.abs(Double($0) - $1) / scale }.max() ?? 0
        #expect(worst <= tolerance, "\(T.self) \(what): worst error \(worst) of the largest value \(scale)")
    }

    static let optionCases: [CrossEntropyOptions] = [
        CrossEntropyOptions(reduction: .mean),
        CrossEntropyOptions(reduction: .sum, ignoreIndex: -100),
        CrossEntropyOptions(reduction: .none, labelSmoothing: 0.1),
        CrossEntropyOptions(
            reduction: .mean, ignoreIndex: 7, classWeights: (0..<37).map { 0.5 + Double($0 % 5) / 4 },
            labelSmoothing: 0.2, lossWeight: 2.5),
    ]

    @Test(arguments: optionCases)
    func matchesFloat64Definition(options: CrossEntropyOptions) throws {
        for bias in [false, true] {
            let problem = Problem(n: 23, d: 19, v: 37, bias: bias, ignored: options.ignoreIndex, seed: 5)
            let want = problem.reference(options)
            func check<T: LinearCrossEntropyScalar>(_ type: T.Type) throws {
                let got = try problem.run(T.self, options)
                let tolerance = T.self == Double.self ? 1e-11 : 2e-5
                #expect(
                    Swift.abs(got.loss - want.loss) <= tolerance * Swift.max(1, Swift.abs(want.loss)),
                    "\(T.self) loss \(got.loss) vs \(want.loss)")
                expectClose(got.losses, want.losses, "losses", T.self)
                expectClose(got.hiddenGradient, want.dHidden, "dHidden", T.self)
                expectClose(got.weightGradient, want.dWeight, "dWeight", T.self)
                if bias { expectClose(got.biasGradient, want.dBias, "dBias", T.self) }
            }
            try check(Float.self)
            try check(Double.self)
        }
    }

    /// Chunks of one row, three rows (a ragged tail), all but one row, and all rows give the
    /// unchunked result to rounding.
    @Test func everyChunkSizeAgrees() throws {
        let problem = Problem(n: 10, d: 8, v: 33, bias: true, ignored: -100, seed: 6)
        let options = CrossEntropyOptions(reduction: .mean, ignoreIndex: -100, labelSmoothing: 0.05)
        let whole = try problem.run(Double.self, options)
        for rows in [1, 3, 9, 10, 1000] {
            let chunked = try problem.run(Double.self, options, budget: rows * 33 * 8)
            #expect(Swift.abs(chunked.loss - whole.loss) <= 1e-13 * Swift.abs(whole.loss), "\(rows) rows")
            for (name, a, b) in [
                ("dHidden", chunked.hiddenGradient, whole.hiddenGradient),
                ("dWeight", chunked.weightGradient, whole.weightGradient),
                ("dBias", chunked.biasGradient, whole.biasGradient), ("losses", chunked.losses, whole.losses),
            ] {
                let worst = zip(a?.scalars ?? [], b?.scalars ?? []).map { Swift.abs($0 - $1) }.max() ?? .nan
                #expect(worst <= 1e-14, "\(rows) rows: \(name) differs by \(worst)")
            }
        }
    }

    /// Wide chunks take `dW += Gᵀ·H` in blocks of classes (the BLAS's packing bounded): a
    /// chunk of 600 rows over 1100 classes runs three products (512, 512, 76 classes), and
    /// each block's rows land where the definition puts them.
    @Test func weightGradientInClassBlocks() throws {
        let problem = Problem(n: 600, d: 4, v: 1100, bias: true, ignored: -100, seed: 9)
        #expect(LinearCrossEntropyProblem.weightGradientClassBlock(rows: 600, elementSize: 8) == 512)
        #expect(LinearCrossEntropyProblem.weightGradientClassBlock(rows: 600, elementSize: 4) == 873)
        let options = CrossEntropyOptions(reduction: .mean, ignoreIndex: -100)
        let want = problem.reference(options)
        let double = try problem.run(Double.self, options)
        expectClose(double.weightGradient, want.dWeight, "dWeight", Double.self)
        expectClose(double.hiddenGradient, want.dHidden, "dHidden", Double.self)
        let float = try problem.run(Float.self, options)
        expectClose(float.weightGradient, want.dWeight, "dWeight", Float.self)
    }

    /// The system BLAS (when one loads) and the built-in kernel give the same results to
    /// rounding.
    @Test(.enabled(if: SystemBLAS.firstAvailable() != nil, "no system BLAS here"))
    func systemBLASAgreesWithBuiltIn() throws {
        let problem = Problem(n: 40, d: 24, v: 101, bias: true, seed: 7)
        let options = CrossEntropyOptions(reduction: .mean)
        let blas = try #require(SystemBLAS.firstAvailable())
        let a = try GEMM.withBackend(blas) { try problem.run(Float.self, options, budget: 7 * 101 * 4) }
        let b = try GEMM.withBackend(BlockedGEMM()) { try problem.run(Float.self, options, budget: 7 * 101 * 4) }
        #expect(Swift.abs(a.loss - b.loss) <= 1e-5 * Swift.abs(b.loss))
        let got: [Float] = a.weightGradient?.scalars ?? []
        let want: [Float] = b.weightGradient?.scalars ?? []
        let scale: Double = want.map { Swift.abs(Double($0)) }.max() ?? 1
        var worst = got.count == want.count && !want.isEmpty ? 0.0 : Double.nan
        for (x, y) in zip(got, want) { worst = Swift.max(worst, Swift.abs(Double(x) - Double(y))) }
        #expect(worst <= 1e-5 * scale, "dWeight differs by \(worst) of \(scale)")
    }

    /// `accumulate` adds the weight and bias gradients to the buffers: two half-batches give
    /// the whole batch's `sum` gradient.
    @Test func accumulationAddsMicroBatches() throws {
        let problem = Problem(n: 12, d: 5, v: 9, bias: true, seed: 8)
        let options = CrossEntropyOptions(reduction: .sum)
        let whole = try problem.run(Double.self, options)
        var dWeight = [Double](repeating: 0, count: 9 * 5)
        var dBias = [Double](repeating: 0, count: 9)
        let weight = problem.weight
        let bias = problem.bias!
        for half in [0..<6, 6..<12] {
            let hidden = Array(problem.hidden[(half.lowerBound * 5)..<(half.upperBound * 5)])
            let labels = Array(problem.labels[half])
            _ = try dWeight.withUnsafeMutableBufferPointer { dw in
                try dBias.withUnsafeMutableBufferPointer { db in
                    try hidden.withUnsafeBufferPointer { h in
                        try weight.withUnsafeBufferPointer { w in
                            try bias.withUnsafeBufferPointer { b in
                                try labels.withUnsafeBufferPointer { t in
                                    try linearCrossEntropy(
                                        hidden: h, hiddenShape: [6, 5], weight: w, weightShape: [9, 5], bias: b,
                                        classIndices: t, options: options,
                                        outputs: LinearCrossEntropyOutputs(
                                            weightGradient: dw, biasGradient: db, accumulate: true))
                                }
                            }
                        }
                    }
                }
            }
        }
        let worst =
            zip(dWeight + dBias, (whole.weightGradient?.scalars ?? []) + (whole.biasGradient?.scalars ?? []))
            .map { Swift.abs($0 - $1) }.max() ?? .nan
        #expect(worst <= 1e-13, "accumulated gradients differ by \(worst)")
    }

    /// The README's example, as written there, against the float64 definition.
    @Test func readmeExample() throws {
        let hidden = try NDArray<Float>(shape: [2, 3], scalars: [0.5, -1, 2, 0.25, 1, -0.5])
        let weight = try NDArray<Float>(shape: [4, 3], scalars: (0..<12).map { Float($0) / 10 - 0.5 })
        let tokens = try NDArray<Int32>(shape: [2], scalars: [3, 1])
        let head = try linearCrossEntropy(hidden: hidden, weight: weight, classIndices: tokens)
        #expect(head.weightGradient?.shape == [4, 3] && head.hiddenGradient?.shape == [2, 3])
        var want = 0.0
        for (r, t) in [3, 1].enumerated() {
            let logits = (0..<4).map { c in
                (0..<3).reduce(0.0) { $0 + Double(hidden.scalars[r * 3 + $1]) * Double(weight.scalars[c * 3 + $1]) }
            }
            want += (log(logits.map { exp($0) }.reduce(0, +)) - logits[t]) / 2
        }
        #expect(Swift.abs(head.loss - want) < 1e-6, "\(head.loss) vs \(want)")
    }

    /// Every position ignored, and no positions: loss 0, zero gradients.
    @Test func ignoredAndEmptyBatches() throws {
        var problem = Problem(n: 4, d: 3, v: 5, bias: true, seed: 9)
        problem.labels = [Int](repeating: -100, count: 4)
        let result = try problem.run(Float.self, CrossEntropyOptions(reduction: .mean, ignoreIndex: -100))
        #expect(result.loss == 0)
        for array in [result.hiddenGradient, result.weightGradient, result.biasGradient, result.losses] {
            #expect(array?.scalars.allSatisfy { $0 == 0 } == true)
        }
        let empty = try linearCrossEntropy(
            hidden: NDArray<Float>(shape: [0, 3], scalars: []),
            weight: NDArray(
                shape: [5, 3],
                scalars: [Float](
                    repeating: 1, count: 15)),
            classIndices: NDArray<Int32>(shape: [0], scalars: []))
        #expect(empty.loss == 0)
        #expect(empty.weightGradient?.scalars == [Float](repeating: 0, count: 15))
        #expect(empty.hiddenGradient?.shape == [0, 3])
        // Zero-width arrays whose headers name a billion classes: nothing to compute, at once.
        let wide = try linearCrossEntropy(
            hidden: NDArray<Float>(shape: [0, 0], scalars: []),
            weight: NDArray<Float>(shape: [1_000_000_000, 0], scalars: []),
            classIndices: NDArray<Int32>(shape: [0], scalars: []))
        #expect(wide.loss == 0 && wide.weightGradient?.shape == [1_000_000_000, 0])
        // Positions without features would be N×V work that no input bytes pay for: refused.
        #expect(throws: SoftmaxError.self) {
            try linearCrossEntropy(
                hidden: NDArray<Float>(shape: [1_000_000, 0], scalars: []),
                weight: NDArray<Float>(shape: [1_000_000, 0], scalars: []),
                classIndices: NDArray<Int32>(shape: [1_000_000], scalars: [Int32](repeating: 0, count: 1_000_000)))
        }
    }

    /// Bad inputs are refused with an error naming the problem.
    @Test func badInputsAreRefused() throws {
        let hidden = try NDArray<Float>(shape: [2, 3], scalars: [Float](repeating: 0.5, count: 6))
        let weight = try NDArray<Float>(shape: [4, 3], scalars: [Float](repeating: 0.1, count: 12))
        let labels = try NDArray<Int32>(shape: [2], scalars: [1, 2])
        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return "no error"
            } catch { return "\(error)" }
        }
        let narrow = try NDArray<Float>(shape: [4, 2], scalars: [Float](repeating: 0.1, count: 8))
        #expect(
            message { _ = try linearCrossEntropy(hidden: hidden, weight: narrow, classIndices: labels) }.contains(
                "weight"))
        let shortBias = try NDArray<Float>(shape: [3], scalars: [0, 0, 0])
        #expect(
            message {
                _ = try linearCrossEntropy(hidden: hidden, weight: weight, bias: shortBias, classIndices: labels)
            }
            .contains("bias"))
        let outOfRange = try NDArray<Int32>(shape: [2], scalars: [1, 4])
        #expect(
            message { _ = try linearCrossEntropy(hidden: hidden, weight: weight, classIndices: outOfRange) }.contains(
                "4"))
        let wrongTargets = try NDArray<Int32>(shape: [3], scalars: [1, 2, 3])
        #expect(
            message { _ = try linearCrossEntropy(hidden: hidden, weight: weight, classIndices: wrongTargets) }
                .contains("targets"))
        #expect(
            message {
                _ = try linearCrossEntropy(
                    hidden: hidden, weight: weight, classIndices: labels, options: CrossEntropyOptions(reduction: .full)
                )
            }.contains("none, sum or mean"))
    }
}
