import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

@Suite("Cross-entropy against float64 and finite differences")
struct CrossEntropyTests {
    /// Every reduction × weights × smoothing × ignore index × input kind × axis, index targets.
    static let optionGrid: [CrossEntropyOptions] = {
        var grid: [CrossEntropyOptions] = []
        for reduction in LossReduction.allCases {
            for weighted in [false, true] {
                for smoothing in [0.0, 0.2] {
                    for ignore in [nil, 1, -100] as [Int?] {
                        for input in ScoreKind.allCases {
                            grid.append(
                                CrossEntropyOptions(
                                    reduction: reduction, ignoreIndex: ignore,
                                    classWeights: weighted ? [0.5, 2, 1, 0.25, 3] : nil, labelSmoothing: smoothing,
                                    lossWeight: weighted ? 1 : 2.5, input: input))
                        }
                    }
                }
            }
        }
        return grid
    }()

    /// Scores of `shape` (class axis 1, 5 classes) and labels where some equal `ignore`.
    func problem(_ shape: [Int], seed: UInt64, ignore: Int?) -> ([Double], [Int]) {
        var rng = SeededGenerator(seed: seed)
        let positions = shape.reduce(1, *) / shape[1]
        var x = rng.gaussians(shape.reduce(1, *), std: 2)
        var labels = (0..<positions).map { _ in Int.random(in: 0..<shape[1], using: &rng) }
        if let ignore { for p in stride(from: 0, to: positions, by: 3) { labels[p] = ignore } }
        if x.count > 0, shape[1] > 0 { x[0] = 40 }  // a dominant score
        return (x, labels)
    }

    func check<T: SoftmaxScalar>(_: T.Type, _ options: CrossEntropyOptions, shape: [Int]) throws {
        var options = options
        if let w = options.classWeights, w.count != shape[1] {
            options.classWeights = (0..<shape[1]).map { w[$0 % w.count] }
        }
        var (x, labels) = problem(shape, seed: 31, ignore: options.ignoreIndex)
        if options.input == .logProbabilities { x = Reference.logSoftmax(x, shape, 1) }
        let xt = x.map { T($0) }
        let xd = xt.map { Double($0) }
        var targetShape = shape
        targetShape.remove(at: 1)
        let result = try crossEntropy(
            NDArray(shape: shape, scalars: xt), classIndices: NDArray(shape: targetShape, scalars: labels),
            options: options, outputs: [.gradient, .losses, .probabilities, .logProbabilities])
        let want = Reference.crossEntropy(xd, shape, .indices(labels), options)
        let tol = tolerance(T.self)
        let label = "\(T.self) \(shape) \(options)"
        #expect(
            close(result.loss, want.loss, rel: tol.rel, abs: tol.abs), "\(label): loss \(result.loss) vs \(want.loss)")
        #expect(
            firstMismatch(result.losses!.scalars.map { Double($0) }, want.losses, rel: tol.rel, abs: tol.abs) == nil,
            "\(label)")
        #expect(
            firstMismatch(result.gradient!.scalars.map { Double($0) }, want.gradient, rel: tol.rel, abs: tol.abs)
                == nil, "\(label)")
        let logp = options.input == .logits ? Reference.logSoftmax(xd, shape, 1) : xd
        #expect(
            firstMismatch(result.logProbabilities!.scalars.map { Double($0) }, logp, rel: tol.rel, abs: tol.abs) == nil)
        #expect(
            firstMismatch(
                result.probabilities!.scalars.map { Double($0) }, logp.map { Foundation.exp($0) }, rel: tol.rel,
                abs: tol.abs) == nil)

        // The gradient alone (the training call, which takes the fused one-pass paths), then
        // the same written over the scores: the same bits.
        let gradientOnly = try crossEntropy(
            NDArray(shape: shape, scalars: xt), classIndices: NDArray(shape: targetShape, scalars: labels),
            options: options, outputs: [.gradient])
        #expect(close(gradientOnly.loss, want.loss, rel: tol.rel, abs: tol.abs), "\(label) gradient only")
        #expect(
            firstMismatch(gradientOnly.gradient!.scalars.map { Double($0) }, want.gradient, rel: tol.rel, abs: tol.abs)
                == nil, "\(label) gradient only")
        var inPlace = xt
        let inPlaceLoss = try inPlace.withUnsafeMutableBufferPointer { buffer in
            try labels.withUnsafeBufferPointer { t in
                try crossEntropy(
                    scores: UnsafeBufferPointer(buffer), shape: shape, classIndices: t, options: options,
                    outputs: CrossEntropyOutputs(gradient: buffer))
            }
        }
        #expect(inPlaceLoss == gradientOnly.loss, "\(label) in place")
        #expect(inPlace.elementsEqual(gradientOnly.gradient!.scalars), "\(label) in place")
        // In place with the log-probabilities (pass 3 then reads the scores it overwrites).
        var inPlaceWithLogp = xt
        var logProbabilities = xt
        try inPlaceWithLogp.withUnsafeMutableBufferPointer { buffer in
            try logProbabilities.withUnsafeMutableBufferPointer { lp in
                try labels.withUnsafeBufferPointer { t in
                    _ = try crossEntropy(
                        scores: UnsafeBufferPointer(buffer), shape: shape, classIndices: t, options: options,
                        outputs: CrossEntropyOutputs(gradient: buffer, logProbabilities: lp))
                }
            }
        }
        #expect(
            firstMismatch(inPlaceWithLogp.map { Double($0) }, want.gradient, rel: tol.rel, abs: tol.abs) == nil,
            "\(label) in place with log-probabilities")
        #expect(
            logProbabilities.elementsEqual(result.logProbabilities!.scalars), "\(label) in place with log-probabilities"
        )
    }

    @Test(arguments: optionGrid)
    func indexTargetsRows(options: CrossEntropyOptions) throws {
        // Short rows (transposed through the strided kernels) and long ones (row kernels).
        for shape in [[7, 5], [9, 67]] {
            try check(Double.self, options, shape: shape)
            try check(Float.self, options, shape: shape)
        }
    }

    @Test(arguments: optionGrid)
    func indexTargetsStrided(options: CrossEntropyOptions) throws {
        // One short panel, and panels of 512 positions with a tail that is not a whole vector.
        for shape in [[3, 5, 2, 11], [2, 5, 1300]] {
            try check(Double.self, options, shape: shape)
            try check(Float.self, options, shape: shape)
        }
    }

    @Test func float16AgreesWithReference() throws {
        try check(Float16.self, CrossEntropyOptions(labelSmoothing: 0.1), shape: [4, 5, 3])
    }

    @Test(arguments: [[6, 5], [2, 5, 9], [1, 5, 33]])
    func probabilityTargets(shape: [Int]) throws {
        var rng = SeededGenerator(seed: 41)
        let x = rng.gaussians(shape.reduce(1, *), std: 2)
        let raw = (0..<x.count).map { _ in Double.random(in: 0..<1, using: &rng) }
        let q = Reference.softmax(raw.map { $0 * 4 }, shape, 1)
        for reduction in LossReduction.allCases {
            for smoothing in [0.0, 0.3] {
                for input in ScoreKind.allCases {
                    let options = CrossEntropyOptions(
                        reduction: reduction, classWeights: [1, 2, 0.5, 1, 0], labelSmoothing: smoothing,
                        lossWeight: 0.75, input: input)
                    let scores = input == .logits ? x : Reference.logSoftmax(x, shape, 1)
                    let result = try crossEntropy(
                        NDArray(shape: shape, scalars: scores), probabilities: NDArray(shape: shape, scalars: q),
                        options: options, outputs: [.gradient, .losses])
                    let want = Reference.crossEntropy(scores, shape, .probabilities(q), options)
                    #expect(close(result.loss, want.loss, rel: 1e-10, abs: 1e-12), "\(shape) \(options)")
                    #expect(firstMismatch(result.gradient!.scalars, want.gradient, rel: 1e-10, abs: 1e-12) == nil)
                    #expect(firstMismatch(result.losses!.scalars, want.losses, rel: 1e-10, abs: 1e-12) == nil)
                }
            }
        }
    }

    /// The gradient is the derivative of the reduced loss: central differences of the loss the
    /// call returns, for every option combination (loss weight 1 so the two agree).
    @Test(arguments: optionGrid.filter { $0.lossWeight == 1 })
    func gradientMatchesFiniteDifferences(options: CrossEntropyOptions) throws {
        let shape = [3, 5, 2]
        let (x, labels) = problem(shape, seed: 51, ignore: options.ignoreIndex)
        let targets = try NDArray(shape: [3, 2], scalars: labels)
        let analytic = try crossEntropy(NDArray(shape: shape, scalars: x), classIndices: targets, options: options)
            .gradient!
        let h = 1e-6
        let sumOptions =
            options.reduction == .none
            ? {
                var o = options; o.reduction = .sum; return o
            }() : options
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            let lp = try crossEntropy(
                NDArray(shape: shape, scalars: plus), classIndices: targets, options: sumOptions, outputs: []
            ).loss
            let lm = try crossEntropy(
                NDArray(shape: shape, scalars: minus), classIndices: targets, options: sumOptions, outputs: []
            ).loss
            let numeric = (lp - lm) / (2 * h)
            #expect(
                close(analytic.scalars[i], numeric, rel: 1e-5, abs: 1e-7),
                "element \(i): \(analytic.scalars[i]) vs \(numeric) \(options)")
        }
    }

    @Test func allIgnoredMeanIsZeroNotNaN() throws {
        let x = try NDArray(shape: [2, 3, 2], scalars: (0..<12).map { Float($0) })
        let t = try NDArray(shape: [2, 2], scalars: [Int64](repeating: 255, count: 4))
        for reduction in [LossReduction.mean, .full, .sum, .batchSize, .none] {
            let r = try crossEntropy(
                x, classIndices: t, options: CrossEntropyOptions(reduction: reduction, ignoreIndex: 255),
                outputs: [.gradient, .losses])
            #expect(r.loss == 0)
            #expect(r.gradient!.scalars.allSatisfy { $0 == 0 })
            #expect(r.losses!.scalars.allSatisfy { $0 == 0 })
        }
    }

    @Test func fullyMaskedPositionGivesInfiniteLossFiniteGradient() throws {
        let inf = -Double.infinity
        let x = try NDArray(shape: [2, 3], scalars: [inf, inf, inf, 1, 2, 3])
        let r = try crossEntropy(
            x, classIndices: NDArray(shape: [2], scalars: [1, 2]), options: .init(reduction: .none),
            outputs: [.gradient, .losses, .probabilities])
        #expect(r.losses!.scalars[0] == .infinity)
        #expect(r.gradient!.scalars.allSatisfy { !$0.isNaN })
        #expect(r.gradient!.scalars[0..<3] == [0, -1, 0])
        #expect(r.probabilities!.scalars[0..<3] == [0, 0, 0])
    }

    @Test func lossWeightScalesOnlyTheGradient() throws {
        let (x, labels) = problem([4, 5], seed: 61, ignore: nil)
        let scores = try NDArray(shape: [4, 5], scalars: x), t = try NDArray(shape: [4], scalars: labels)
        let one = try crossEntropy(scores, classIndices: t)
        let three = try crossEntropy(scores, classIndices: t, options: .init(lossWeight: 3))
        #expect(one.loss == three.loss)
        #expect(firstMismatch(three.gradient!.scalars, one.gradient!.scalars.map { 3 * $0 }, rel: 1e-14, abs: 0) == nil)
    }

    @Test func everyLabelTypeGivesTheSameLoss() throws {
        let (x, labels) = problem([6, 5], seed: 71, ignore: nil)
        let scores = try NDArray(shape: [6, 5], scalars: x)
        let want = try crossEntropy(scores, classIndices: NDArray(shape: [6], scalars: labels)).loss
        func loss<L: ClassLabel>(_ convert: (Int) -> L) throws -> Double {
            try crossEntropy(scores, classIndices: NDArray(shape: [6], scalars: labels.map(convert))).loss
        }
        #expect(try loss { Int8($0) } == want)
        #expect(try loss { Int16($0) } == want)
        #expect(try loss { Int32($0) } == want)
        #expect(try loss { Int64($0) } == want)
        #expect(try loss { UInt8($0) } == want)
        #expect(try loss { UInt16($0) } == want)
        #expect(try loss { UInt32($0) } == want)
        #expect(try loss { UInt64($0) } == want)
        #expect(try loss { Float($0) } == want)
        #expect(try loss { Double($0) } == want)
        #expect(try loss { Float16($0) } == want)
    }

    /// Integer labels without class weights are checked in a vectorised loop per chunk of
    /// 32 768 labels; every other case in the general loop (float labels here).  Both give the
    /// same loss and gradient bits, whatever the ignore index, and the same first bad label.
    @Test(arguments: [nil, 255, -100, 3, 1 << 40] as [Int?])
    func vectorisedLabelChecksAgreeWithGeneralLoop(ignore: Int?) throws {
        let (positions, classes) = (70_001, 7)
        var rng = SeededGenerator(seed: 83)
        let scores = try NDArray(
            shape: [positions, classes], scalars: rng.gaussians(positions * classes).map { Float($0) })
        var labels = (0..<positions).map { _ in Int.random(in: 0..<classes, using: &rng) }
        if let ignore { for p in stride(from: 5, to: positions, by: 11) { labels[p] = ignore } }
        let options = CrossEntropyOptions(ignoreIndex: ignore)
        func result<L: ClassLabel>(_ convert: (Int) -> L) throws -> (loss: Double, gradient: [Float]) {
            let r = try crossEntropy(
                scores, classIndices: NDArray(shape: [positions], scalars: labels.map(convert)), options: options)
            return (r.loss, r.gradient!.scalars)
        }
        // Each label type where every label (the ignore index among them) fits it.
        func fitsEvery<L: FixedWidthInteger>(_: L.Type) -> Bool { ignore.map { L(exactly: $0) != nil } ?? true }
        let fits = fitsEvery(Int32.self)
        let want = try result { Double($0) }
        var got = [try result { Int64($0) }, try result { $0 }]
        if fits { got.append(try result { Int32($0) }) }
        if fitsEvery(UInt8.self) { got.append(try result { UInt8($0) }) }
        if fitsEvery(Int16.self) { got.append(try result { Int16($0) }) }
        for (k, g) in got.enumerated() {
            #expect(g.loss == want.loss, "label type \(k)")
            #expect(g.gradient == want.gradient, "label type \(k)")
        }
        // A bad label in the second chunk and another in the third: the first is reported.
        for bad in [classes, -1, Int(Int32.min)] where bad != ignore {
            var wrong = labels
            (wrong[40_000], wrong[69_999]) = (bad, 0)
            wrong[69_000] = classes
            let error = SoftmaxError.labelOutOfRange(label: "\(bad)", position: [40_000], classes: classes)
            if fits {
                #expect(throws: error) {
                    try crossEntropy(
                        scores, classIndices: NDArray(shape: [positions], scalars: wrong.map { Int32($0) }),
                        options: options)
                }
            }
            #expect(throws: error) {
                try crossEntropy(scores, classIndices: NDArray(shape: [positions], scalars: wrong), options: options)
            }
        }
    }

    /// More classes than a label type's largest value: the general loop, with the same result.
    @Test func narrowLabelsWithManyClasses() throws {
        let (positions, classes) = (40_000, 300)
        var rng = SeededGenerator(seed: 84)
        let scores = try NDArray(
            shape: [positions, classes], scalars: rng.gaussians(positions * classes).map { Float($0) })
        let labels = (0..<positions).map { UInt8(truncatingIfNeeded: $0 * 7) }  // 255 among them
        let want = try crossEntropy(scores, classIndices: NDArray(shape: [positions], scalars: labels.map(Double.init)))
        let got = try crossEntropy(scores, classIndices: NDArray(shape: [positions], scalars: labels))
        #expect(got.loss == want.loss)
        #expect(got.gradient!.scalars == want.gradient!.scalars)
    }

    /// Label smoothing on rows, gradient only, runs its own loop (the general one tests every
    /// output per vector): the same operations, so asking for the probabilities as well, which
    /// takes the general loop, changes no bit of the loss or the gradient; the same for short
    /// rows.  Both against float64 too.
    @Test(arguments: [nil, (0..<40).map { Double($0 % 7) * 0.5 }], [7, 40])
    func smoothedRowsTakeTheSameOperations(weights: [Double]?, classes: Int) throws {
        // 40 classes: rows long enough for the row kernels; 7: transposed, through the strided
        // kernels (which subtract the one-hot term in the loop or afterwards).
        let shape = [37, classes]
        let weights = weights.map { Array($0.prefix(classes)) }
        let (x, labels) = problem(shape, seed: 85, ignore: 4)
        let options = CrossEntropyOptions(ignoreIndex: 4, classWeights: weights, labelSmoothing: 0.2)
        let scores = try NDArray(shape: shape, scalars: x.map { Float($0) })
        let targets = try NDArray(shape: [shape[0]], scalars: labels)
        let alone = try crossEntropy(scores, classIndices: targets, options: options)
        let withProbabilities = try crossEntropy(
            scores, classIndices: targets, options: options, outputs: [.gradient, .probabilities])
        #expect(alone.loss == withProbabilities.loss)
        #expect(alone.gradient!.scalars == withProbabilities.gradient!.scalars)
        let want = Reference.crossEntropy(x.map { Double(Float($0)) }, shape, .indices(labels), options)
        #expect(close(alone.loss, want.loss, rel: 2e-5, abs: 1e-6))
        #expect(firstMismatch(alone.gradient!.scalars.map(Double.init), want.gradient, rel: 2e-5, abs: 1e-6) == nil)
    }

    @Test func threadCountDoesNotChangeBits() throws {
        var rng = SeededGenerator(seed: 81)
        let shape = [16, 21, 1000]
        let x = try NDArray(shape: shape, scalars: rng.gaussians(shape.reduce(1, *)).map { Float($0) })
        let t = try NDArray(shape: [16, 1000], scalars: (0..<16000).map { _ in Int32.random(in: 0..<21, using: &rng) })
        // Task-local caps: tests run in parallel, and a process-wide setting would leak.
        let one = try SoftmaxThreads.withMaximum(1) {
            try crossEntropy(x, classIndices: t, options: .init(labelSmoothing: 0.1))
        }
        let all = try SoftmaxThreads.withMaximum(0) {
            try crossEntropy(x, classIndices: t, options: .init(labelSmoothing: 0.1))
        }
        #expect(one.loss == all.loss)
        #expect(one.gradient! == all.gradient!)
    }
}
