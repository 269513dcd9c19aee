import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

/// The fused linear cross-entropy with temperature, softcap and z-loss equals `crossEntropy`
/// on the logits `h·Wᵀ + b` formed in full (then `dHidden = G·W`, `dWeight = Gᵀ·H`,
/// `dBias = Σ G` from its gradient `G`) and the float64 reference, in chunks of one row, of
/// three rows (a ragged tail), and of all rows, on the built-in GEMM and the system BLAS when
/// one loads.
@Suite("Linear cross-entropy with logit transforms")
struct LinearCrossEntropyTransformTests {
    struct Problem {
        var n: Int, d: Int, v: Int
        var hidden: [Double], weight: [Double], bias: [Double], labels: [Int]

        /// Inputs exact in `Float`; every third label from the second is -100.
        init(n: Int, d: Int, v: Int, seed: UInt64) {
            var rng = SeededGenerator(seed: seed)
            (self.n, self.d, self.v) = (n, d, v)
            hidden = rng.gaussians(n * d).map { Double(Float($0)) }
            weight = rng.gaussians(v * d, std: 0.6).map { Double(Float($0)) }
            bias = rng.gaussians(v, std: 0.3).map { Double(Float($0)) }
            labels = (0..<n).map { $0 % 3 == 1 ? -100 : Int.random(in: 0..<v, using: &rng) }
        }

        /// `h·Wᵀ + b` in float64, `[n, v]`.
        var logits: [Double] { Reference.linearLogits(hidden: hidden, weight: weight, bias: bias, n: n, d: d, v: v) }

        /// `dHidden`, `dWeight`, `dBias` from the logits' gradient `g`, in float64.
        func products(_ g: [Double]) -> (dHidden: [Double], dWeight: [Double], dBias: [Double]) {
            Reference.linearBackward(g, hidden: hidden, weight: weight, n: n, d: d, v: v)
        }

        /// What the fused call must equal.
        struct Expected {
            var loss: Double, zLoss: Double
            var losses: [Double], zLosses: [Double], dHidden: [Double], dWeight: [Double], dBias: [Double]
        }

        /// The library's `crossEntropy` on the logits formed in full in `T`.
        func explicit<T: LinearCrossEntropyScalar>(_: T.Type, _ options: CrossEntropyOptions) throws -> Expected {
            var ceOptions = options
            ceOptions.axis = 1
            let result = try crossEntropy(
                NDArray(shape: [n, v], scalars: logits.map { T($0) }),
                classIndices: NDArray(shape: [n], scalars: labels.map { Int64($0) }), options: ceOptions,
                outputs: [.gradient, .losses, .zLosses])
            let (dh, dw, db) = products(result.gradient!.scalars.doubles)
            return Expected(
                loss: result.loss, zLoss: result.zLoss, losses: result.losses!.scalars.doubles,
                zLosses: result.zLosses!.scalars.doubles, dHidden: dh, dWeight: dw, dBias: db)
        }

        /// The float64 reference on the float64 logits.
        func reference(_ options: CrossEntropyOptions) -> Expected {
            var ceOptions = options
            ceOptions.axis = 1
            let r = Reference.transformedCrossEntropy(logits, [n, v], .indices(labels), ceOptions)
            let (dh, dw, db) = products(r.gradient)
            return Expected(
                loss: r.loss, zLoss: r.zLoss, losses: r.losses, zLosses: r.zLosses, dHidden: dh, dWeight: dw, dBias: db)
        }

        func fused<T: LinearCrossEntropyScalar>(
            _: T.Type, _ options: CrossEntropyOptions, budget: Int
        ) throws -> LinearCrossEntropyResult<T> {
            try linearCrossEntropy(
                hidden: NDArray(shape: [n, d], scalars: hidden.map { T($0) }),
                weight: NDArray(shape: [v, d], scalars: weight.map { T($0) }),
                bias: NDArray(shape: [v], scalars: bias.map { T($0) }),
                classIndices: NDArray(shape: [n], scalars: labels.map { Int32($0) }), options: options,
                outputs: [.gradients, .losses, .zLosses], memoryBudget: budget)
        }
    }

    /// `T`'s accuracy, relative to the largest magnitude of what is compared (the products
    /// round in `T` on `d` terms).
    static func tolerance<T: LinearCrossEntropyScalar>(_: T.Type) -> Double { T.self == Double.self ? 1e-11 : 2e-5 }

    func expectClose<T: LinearCrossEntropyScalar>(
        _ got: LinearCrossEntropyResult<T>, _ want: Problem.Expected, _ what: String
    ) {
        let tol = Self.tolerance(T.self)
        #expect(
            abs(got.loss - want.loss) <= tol * Swift.max(1, abs(want.loss)), "\(what): loss \(got.loss) vs \(want.loss)"
        )
        #expect(
            abs(got.zLoss - want.zLoss) <= tol * Swift.max(1, abs(want.zLoss)),
            "\(what): z-loss \(got.zLoss) vs \(want.zLoss)")
        for (name, array, expected) in [
            ("losses", got.losses, want.losses), ("z-losses", got.zLosses, want.zLosses),
            ("dHidden", got.hiddenGradient, want.dHidden), ("dWeight", got.weightGradient, want.dWeight),
            ("dBias", got.biasGradient, want.dBias),
        ] {
            guard let array, array.count == expected.count else {
                Issue.record("\(what): \(name) missing or of the wrong size")
                continue
            }
            let scale = Swift.max(expected.map(abs).max() ?? 0, 1e-30)
            let worst = zip(array.scalars, expected).map { abs(Double($0) - $1) / scale }.max() ?? 0
            #expect(worst <= tol, "\(what): \(name) worst error \(worst) of the largest value \(scale)")
        }
    }

    static let options: [CrossEntropyOptions] = [LossReduction.none, .sum, .mean].flatMap { reduction in
        [
            CrossEntropyOptions(
                reduction: reduction, ignoreIndex: -100, labelSmoothing: 0.1, lossWeight: 1.5, temperature: 0.7,
                softcap: 4, zLoss: 0.02),
            CrossEntropyOptions(reduction: reduction, ignoreIndex: -100, zLoss: 0.05),
            CrossEntropyOptions(reduction: reduction, ignoreIndex: -100, temperature: 1.3, softcap: 2),
        ]
    }

    /// The GEMM backends to run on: the built-in kernel, and the system BLAS when one loads.
    static var backends: [any GEMMBackend] {
        [BuiltInGEMM()] + (SystemBLAS.firstAvailable().map { [$0] } ?? [])
    }

    @Test(arguments: options, [37, 10])
    func equalsCrossEntropyOnTheFormedLogits(options: CrossEntropyOptions, classes: Int) throws {
        // 23 rows: chunks of 1, of 3 (a tail of 2), and all rows (the default budget).
        let problem = Problem(n: 23, d: 19, v: classes, seed: UInt64(classes))
        var weighted = options
        weighted.classWeights = (0..<classes).map { 0.5 + Double($0 % 5) / 4 }
        for options in [options, weighted] {
            let reference = problem.reference(options)
            func check<T: LinearCrossEntropyScalar>(_ type: T.Type) throws {
                let explicit = try problem.explicit(T.self, options)
                let size = MemoryLayout<T>.stride
                for backend in Self.backends {
                    for budget in [1, 3 * classes * size, LinearCrossEntropy.defaultMemoryBudget] {
                        let got = try GEMM.withBackend(backend) { try problem.fused(T.self, options, budget: budget) }
                        let what = "\(T.self) \(backend.name) budget \(budget) V \(classes) \(options)"
                        expectClose(got, explicit, "\(what) vs crossEntropy")
                        expectClose(got, reference, "\(what) vs float64")
                    }
                }
            }
            try check(Float.self)
            try check(Double.self)
        }
    }

    /// Every position ignored, with z-loss and softcap: loss, z-loss and gradients 0.
    @Test func everyPositionIgnored() throws {
        var problem = Problem(n: 6, d: 5, v: 40, seed: 3)
        problem.labels = [Int](repeating: -100, count: 6)
        for reduction in [LossReduction.mean, .sum, .none] {
            let options = CrossEntropyOptions(
                reduction: reduction, ignoreIndex: -100, temperature: 0.5, softcap: 3, zLoss: 0.1)
            let r = try problem.fused(Float.self, options, budget: 2 * 40 * 4)
            #expect(r.loss == 0 && r.zLoss == 0, "\(reduction)")
            for array in [r.hiddenGradient, r.weightGradient, r.biasGradient, r.losses, r.zLosses] {
                #expect(array?.scalars.allSatisfy { $0 == 0 } == true, "\(reduction)")
            }
        }
    }

    /// `mean` divides the z terms by the positions not ignored, over every chunk, not by each
    /// chunk's count or by Σ w_t.
    @Test func zMeanCountsPositionsAcrossChunks() throws {
        let problem = Problem(n: 11, d: 4, v: 33, seed: 4)
        let options = CrossEntropyOptions(
            reduction: .mean, ignoreIndex: -100, classWeights: [Double](repeating: 2, count: 33), zLoss: 0.3)
        let active = problem.labels.filter { $0 != -100 }.count
        for budget in [1, 4 * 33 * 8, LinearCrossEntropy.defaultMemoryBudget] {
            let r = try problem.fused(Double.self, options, budget: budget)
            let zSum = try #require(r.zLosses).scalars.reduce(0, +)
            #expect(abs(r.zLoss - zSum / Double(active)) <= 1e-12 * r.zLoss, "budget \(budget)")
            #expect(abs(zSum / Double(active) - zSum / Double(2 * active)) > 1e-3 * r.zLoss)
        }
    }

    /// The buffer API overwrites the per-position buffers: filled with NaN beforehand, they
    /// hold the losses and z terms afterwards (0 everywhere without a z-loss).  Known issue:
    /// without a z-loss, a z-loss buffer given and fewer than 32 classes (short rows), the
    /// buffer is not written and its old contents are added to the losses and the loss; with a
    /// temperature or softcap it is left unwritten.
    @Test(arguments: [37, 10])
    func perPositionBuffersAreOverwritten(classes: Int) throws {
        let problem = Problem(n: 9, d: 6, v: classes, seed: 5)
        for (temperature, softcap, z) in [(1.0, nil, 0.05), (0.8, 4.0, 0.05), (0.8, 4.0, 0.0), (1.0, nil, 0.0)]
            as [(Double, Double?, Double)]
        {
            let options = CrossEntropyOptions(
                reduction: .sum, ignoreIndex: -100, temperature: temperature, softcap: softcap, zLoss: z)
            let want = problem.reference(options)
            var losses = [Double](repeating: .nan, count: problem.n)
            var zLosses = [Double](repeating: .nan, count: problem.n)
            let (hidden, weight, bias) = (problem.hidden, problem.weight, problem.bias)
            let labels = problem.labels.map { Int32($0) }
            let loss = try hidden.withUnsafeBufferPointer { h in
                try weight.withUnsafeBufferPointer { w in
                    try bias.withUnsafeBufferPointer { b in
                        try labels.withUnsafeBufferPointer { t in
                            try losses.withUnsafeMutableBufferPointer { l in
                                try zLosses.withUnsafeMutableBufferPointer { zl in
                                    try linearCrossEntropy(
                                        hidden: h, hiddenShape: [problem.n, problem.d], weight: w,
                                        weightShape: [classes, problem.d], bias: b, classIndices: t, options: options,
                                        outputs: LinearCrossEntropyOutputs(losses: l, zLosses: zl))
                                }
                            }
                        }
                    }
                }
            }
            let what = "V \(classes) T \(temperature) cap \(String(describing: softcap)) z \(z)"
            #expect(abs(loss - want.loss) <= 1e-11 * abs(want.loss), "\(what): loss \(loss) vs \(want.loss)")
            #expect(firstMismatch(losses, want.losses, rel: 1e-11, abs: 1e-13) == nil, "\(what) losses")
            #expect(firstMismatch(zLosses, want.zLosses, rel: 1e-11, abs: 1e-13) == nil, "\(what) z-losses")
        }
    }
}
