import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

/// Scores and targets for the logit-transform tests, class axis 1: scores exact in `Float`
/// (so `Float` and `Double` compute on the same numbers) with one dominant score, class
/// indices with every fourth position -100 (a class instead when the options ignore
/// nothing), probability targets (a softmax rounded to
/// `Float`), and one weight per class (not all equal, Σ w_t ≠ the count).
struct TransformProblem {
    let shape: [Int]
    let geometry: Geometry
    let x: [Double]
    /// The labels, every fourth -100.
    let labels: [Int]
    let q: [Double]
    let weights: [Double]

    /// Contiguous rows of ≥ 32 classes (row kernels), short rows (10 classes), rows longer
    /// than a 4096-element block, and a strided layout (axis 1, inner 45).
    static let shapes: [[Int]] = [[6, 37], [12, 10], [3, 5000], [2, 7, 5, 9]]

    init(shape: [Int], seed: UInt64, ignoreIndex: Int = -100) {
        self.shape = shape
        geometry = Geometry(shape: shape, axis: 1)
        var rng = SeededGenerator(seed: seed)
        let (classes, positions) = (geometry.classes, geometry.positions)
        var x = rng.gaussians(geometry.count, std: 2.5).map { Double(Float($0)) }
        x[0] = 12
        self.x = x
        labels = (0..<positions).map { p in p % 4 == 3 ? ignoreIndex : Int.random(in: 0..<classes, using: &rng) }
        q = Reference.softmax(rng.gaussians(geometry.count, std: 1.5), shape, 1).map { Double(Float($0)) }
        weights = (0..<classes).map { 0.5 + Double($0 % 4) * 0.5 }
    }

    var targetShape: [Int] {
        var s = shape
        s.remove(at: 1)
        return s
    }

    /// The labels for `options`: -100 stays only when it is the ignore index.
    func labels(_ options: CrossEntropyOptions) -> [Int] {
        options.ignoreIndex == -100 ? labels : labels.enumerated().map { $1 == -100 ? $0 % geometry.classes : $1 }
    }

    func reference(_ options: CrossEntropyOptions, probabilities: Bool) -> Reference.TransformedLoss {
        Reference.transformedCrossEntropy(
            x, shape, probabilities ? .probabilities(q) : .indices(labels(options)), options)
    }

    /// The library's NDArray call in `T`.
    func run<T: SoftmaxScalar>(
        _: T.Type, _ options: CrossEntropyOptions, probabilities: Bool, outputs: CrossEntropyOutputSet
    ) throws -> CrossEntropyResult<T> {
        let scores = try NDArray(shape: shape, scalars: x.map { T($0) })
        if probabilities {
            return try crossEntropy(
                scores, probabilities: NDArray(shape: shape, scalars: q.map { T($0) }), options: options,
                outputs: outputs)
        }
        return try crossEntropy(
            scores, classIndices: NDArray(shape: targetShape, scalars: labels(options).map { Int32($0) }),
            options: options, outputs: outputs)
    }

    /// The library's buffer call in `T` with `scores` (which may be an output's buffer).
    func run<T: SoftmaxScalar>(
        scores: UnsafeBufferPointer<T>, _ options: CrossEntropyOptions, probabilities: Bool,
        outputs: CrossEntropyOutputs<T>
    ) throws -> Double {
        if probabilities {
            let qT = q.map { T($0) }
            return try qT.withUnsafeBufferPointer {
                try crossEntropy(scores: scores, shape: shape, probabilities: $0, options: options, outputs: outputs)
            }
        }
        return try labels(options).withUnsafeBufferPointer {
            try crossEntropy(scores: scores, shape: shape, classIndices: $0, options: options, outputs: outputs)
        }
    }
}

/// One combination of the LLM options (and the others beside them), for every shape.
struct TransformCase: Sendable, CustomTestStringConvertible {
    var name: String
    var temperature = 1.0
    var softcap: Double? = nil
    var zLoss = 0.0
    var weighted = false
    var smoothing = 0.0
    var ignore = false
    var lossWeight = 1.0
    var reduction = LossReduction.mean

    func options(classes: Int) -> CrossEntropyOptions {
        CrossEntropyOptions(
            axis: 1, reduction: reduction, ignoreIndex: ignore ? -100 : nil,
            classWeights: weighted ? (0..<classes).map { 0.5 + Double($0 % 4) * 0.5 } : nil,
            labelSmoothing: smoothing, lossWeight: lossWeight, temperature: temperature, softcap: softcap,
            zLoss: zLoss)
    }

    var testDescription: String { "\(name) \(reduction.rawValue)" }

    /// Temperature alone, softcap alone, both with z-loss and every other option, z-loss alone
    /// (the fused kernels, no staging) with weights, z-loss with smoothing (the general row
    /// loop), temperature with z-loss.
    static let variants: [TransformCase] = [
        TransformCase(name: "T", temperature: 0.7, ignore: true),
        TransformCase(name: "cap+smoothing", softcap: 4, smoothing: 0.1),
        TransformCase(
            name: "T+cap+z+w+eps+ignore", temperature: 1.5, softcap: 3, zLoss: 0.05, weighted: true, smoothing: 0.1,
            ignore: true, lossWeight: 2.5),
        TransformCase(name: "z+w+ignore", zLoss: 0.02, weighted: true, ignore: true),
        TransformCase(name: "z+eps+ignore", zLoss: 0.01, smoothing: 0.2, ignore: true, lossWeight: 0.5),
        TransformCase(name: "T+z", temperature: 0.5, zLoss: 1e-3),
    ]

    static let grid: [TransformCase] = variants.flatMap { v in
        LossReduction.allCases.map { r in
            var c = v
            c.reduction = r
            return c
        }
    }
}

/// Comparisons against `Reference.TransformedLoss` at SPEC's bar.
enum TransformCheck {
    static func expectClose(_ got: Double, _ want: Double, _ tolerance: Tolerance, _ what: String) {
        #expect(tolerance.accepts(got, want), "\(what): \(got), expected \(want)")
    }

    static func expectElements<T: BinaryFloatingPoint>(
        _ got: [T]?, _ want: [Double], _ tolerance: Tolerance, _ what: String
    ) {
        guard let got else {
            Issue.record("\(what): missing")
            return
        }
        let bad = mismatches(got, want, tolerance)
        #expect(bad.isEmpty, "\(what): \(bad.joined(separator: "; "))")
    }

    /// The gradient: each element within `rtol` of the size of the terms it is made of
    /// (`gradientMagnitudes`: the loss's derivative with respect to the transformed score,
    /// term by term, times `(1/T)·(1 + (s/c)²)`, the terms of the slope `(1 − (s/c)²)/T`).
    /// Elements whose terms are all 0 (ignored positions) must be exactly 0.
    static func expectGradient<T: BinaryFloatingPoint>(
        _ got: [T]?, _ want: Reference.TransformedLoss, rtol: Double, _ what: String
    ) {
        guard let got else {
            Issue.record("\(what): gradient missing")
            return
        }
        guard got.count == want.gradient.count else {
            Issue.record("\(what): gradient count \(got.count), expected \(want.gradient.count)")
            return
        }
        var bad: [String] = []
        for k in got.indices {
            let (g, w) = (Double(got[k]), want.gradient[k])
            let bound = rtol * (abs(w) + want.gradientMagnitudes[k])
            if !(abs(g - w) <= bound) {
                bad.append("[\(k)]: got \(g), expected \(w) ± \(bound)")
                if bad.count == 5 { break }
            }
        }
        #expect(bad.isEmpty, "\(what) gradient: \(bad.joined(separator: "; "))")
    }

    /// `rtol` for the gradient in `T`: SPEC's relative bar.
    static func gradientTolerance<T: SoftmaxScalar>(_: T.Type) -> Double { Tolerance.of(T.self).rtol }

    /// Every output of one call against the reference.
    static func expectAll<T: SoftmaxScalar>(
        _ result: CrossEntropyResult<T>, _ want: Reference.TransformedLoss, _ what: String
    ) {
        let tolerance = Tolerance.of(T.self)
        expectClose(result.loss, want.loss, tolerance, "\(what) loss")
        expectClose(result.zLoss, want.zLoss, tolerance, "\(what) z-loss")
        if let g = result.gradient { expectGradient(g.scalars, want, rtol: gradientTolerance(T.self), what) }
        if let l = result.losses { expectElements(l.scalars, want.losses, tolerance, "\(what) losses") }
        if let z = result.zLosses { expectElements(z.scalars, want.zLosses, tolerance, "\(what) z-losses") }
        if let p = result.probabilities {
            expectElements(p.scalars, want.probabilities, tolerance, "\(what) probabilities")
        }
        if let lp = result.logProbabilities {
            expectElements(lp.scalars, want.logProbabilities, tolerance, "\(what) log-probabilities")
        }
    }
}

@Suite("Logit transforms and z-loss against float64")
struct LogitTransformTests {
    static let allOutputs: CrossEntropyOutputSet = [
        .gradient, .losses, .zLosses, .probabilities, .logProbabilities,
    ]

    /// Every output against the reference; the gradient alone (the fused training paths); the
    /// same in place over the scores, with the z-loss through the buffer API's pointer: the
    /// same bits as the gradient alone.
    func check<T: SoftmaxScalar>(
        _: T.Type, _ problem: TransformProblem, _ options: CrossEntropyOptions, probabilities: Bool, label: String
    ) throws {
        let want = problem.reference(options, probabilities: probabilities)
        let what = "\(SoftmaxISA.active) \(T.self) \(problem.shape) \(probabilities ? "soft" : "indices") \(label)"
        let all = try problem.run(T.self, options, probabilities: probabilities, outputs: Self.allOutputs)
        TransformCheck.expectAll(all, want, "\(what) all outputs")
        #expect(all.losses?.shape == problem.targetShape && all.zLosses?.shape == problem.targetShape)

        let gradientOnly = try problem.run(T.self, options, probabilities: probabilities, outputs: [.gradient])
        TransformCheck.expectAll(gradientOnly, want, "\(what) gradient only")

        var inPlace = problem.x.map { T($0) }
        var zLoss = Double.nan
        let loss = try inPlace.withUnsafeMutableBufferPointer { buffer in
            try withUnsafeMutablePointer(to: &zLoss) { z in
                try problem.run(
                    scores: UnsafeBufferPointer(buffer), options, probabilities: probabilities,
                    outputs: CrossEntropyOutputs(gradient: buffer, zLoss: z))
            }
        }
        #expect(loss == gradientOnly.loss, "\(what) in place: loss \(loss) vs \(gradientOnly.loss)")
        #expect(zLoss == gradientOnly.zLoss, "\(what) in place: z-loss \(zLoss) vs \(gradientOnly.zLoss)")
        #expect(inPlace == gradientOnly.gradient?.scalars, "\(what) in place: gradient bits")
    }

    @Test(arguments: TransformCase.grid)
    func classIndices(_ testCase: TransformCase) throws {
        for (k, shape) in TransformProblem.shapes.enumerated() {
            let problem = TransformProblem(shape: shape, seed: UInt64(100 + k))
            let options = testCase.options(classes: problem.geometry.classes)
            try check(Float.self, problem, options, probabilities: false, label: testCase.testDescription)
            try check(Double.self, problem, options, probabilities: false, label: testCase.testDescription)
        }
    }

    @Test(arguments: TransformCase.grid.filter { !$0.ignore })
    func probabilityTargets(_ testCase: TransformCase) throws {
        for (k, shape) in TransformProblem.shapes.enumerated() {
            let problem = TransformProblem(shape: shape, seed: UInt64(200 + k))
            let options = testCase.options(classes: problem.geometry.classes)
            try check(Float.self, problem, options, probabilities: true, label: testCase.testDescription)
            try check(Double.self, problem, options, probabilities: true, label: testCase.testDescription)
        }
    }

    /// Probability targets with an ignore index set: it does not apply to them (every
    /// position counts, z terms included).
    @Test func probabilityTargetsIgnoreNothing() throws {
        let problem = TransformProblem(shape: [12, 10], seed: 250)
        for reduction in LossReduction.allCases {
            let options = CrossEntropyOptions(
                axis: 1, reduction: reduction, ignoreIndex: 3, temperature: 2, softcap: 6, zLoss: 0.1)
            try check(Double.self, problem, options, probabilities: true, label: "ignore index set")
        }
    }

    /// Every instruction set against the reference, on every shape, both target kinds.
    @Test(arguments: SoftmaxISA.supported)
    func everyInstructionSet(isa: SoftmaxISA) throws {
        // Staged with z-loss and smoothing, fused z-loss (one pass), fused z-loss with smoothing.
        let cases = TransformCase.variants.filter { $0.zLoss != 0 && $0.name != "T+z" }
        try SoftmaxISA.withActive(isa) {
            for (k, shape) in TransformProblem.shapes.enumerated() {
                let problem = TransformProblem(shape: shape, seed: UInt64(300 + k))
                for (n, testCase) in cases.enumerated() {
                    var testCase = testCase
                    testCase.reduction = LossReduction.allCases[(k + n) % LossReduction.allCases.count]
                    let options = testCase.options(classes: problem.geometry.classes)
                    for probabilities in [false, true] where !(probabilities && testCase.ignore) {
                        try check(
                            Float.self, problem, options, probabilities: probabilities, label: testCase.testDescription)
                        try check(
                            Double.self, problem, options, probabilities: probabilities,
                            label: testCase.testDescription)
                    }
                }
            }
        }
    }

    /// One thread and all of them give the same bits (tiles summed in tile order), on arrays
    /// large enough to be split: rows, short rows and a strided layout, staged (temperature and
    /// softcap) and fused (z-loss alone).
    @Test(arguments: [[40, 3400], [14_000, 10], [2, 33, 2100]])
    func threadCountDoesNotChangeBits(shape: [Int]) throws {
        let problem = TransformProblem(shape: shape, seed: 400)
        #expect(problem.geometry.count >= TilePlan.parallelThreshold)
        for testCase in [TransformCase.variants[2], TransformCase.variants[3]] {
            let options = testCase.options(classes: problem.geometry.classes)
            for probabilities in [false, true] {
                func run() throws -> CrossEntropyResult<Float> {
                    try problem.run(
                        Float.self, options, probabilities: probabilities, outputs: [.gradient, .losses, .zLosses])
                }
                let one = try SoftmaxThreads.withMaximum(1) { try run() }
                let all = try SoftmaxThreads.withMaximum(0) { try run() }
                let what = "\(shape) \(testCase.name) \(probabilities ? "soft" : "indices")"
                #expect(one.loss.bitPattern == all.loss.bitPattern, "\(what) loss")
                #expect(one.zLoss.bitPattern == all.zLoss.bitPattern, "\(what) z-loss")
                #expect(one.gradient?.scalars == all.gradient?.scalars, "\(what) gradient")
                #expect(one.losses?.scalars == all.losses?.scalars, "\(what) losses")
                #expect(one.zLosses?.scalars == all.zLosses?.scalars, "\(what) z-losses")
                // And right: the reduced loss against float64 (once per shape; the small
                // shapes check every output).
                if testCase.softcap != nil && !probabilities {
                    let want = problem.reference(options, probabilities: probabilities)
                    TransformCheck.expectClose(all.loss, want.loss, Tolerance.of(Float.self), "\(what) loss")
                    TransformCheck.expectClose(all.zLoss, want.zLoss, Tolerance.of(Float.self), "\(what) z-loss")
                }
            }
        }
    }

    /// Every position ignored: loss, z-loss, per-position outputs and gradient are 0 under
    /// every reduction (the z term only counts positions not ignored), never NaN.
    @Test(arguments: TransformProblem.shapes)
    func everyPositionIgnored(shape: [Int]) throws {
        let problem = TransformProblem(shape: shape, seed: 500)
        let scores = try NDArray(shape: shape, scalars: problem.x.map { Float($0) })
        let targets = try NDArray(
            shape: problem.targetShape, scalars: [Int64](repeating: -100, count: problem.geometry.positions))
        for reduction in LossReduction.allCases {
            for (temperature, softcap) in [(1.0, nil), (0.5, 3.0)] as [(Double, Double?)] {
                let options = CrossEntropyOptions(
                    axis: 1, reduction: reduction, ignoreIndex: -100,
                    classWeights: problem.weights, labelSmoothing: 0.1, temperature: temperature,
                    softcap: softcap, zLoss: 0.1)
                for outputs in [CrossEntropyOutputSet.gradient, [.gradient, .losses, .zLosses]] {
                    let r = try crossEntropy(scores, classIndices: targets, options: options, outputs: outputs)
                    let what = "\(shape) \(reduction) T \(temperature) cap \(String(describing: softcap))"
                    #expect(r.loss == 0 && r.zLoss == 0, "\(what): loss \(r.loss), z-loss \(r.zLoss)")
                    #expect(r.gradient?.scalars.allSatisfy { $0 == 0 } == true, "\(what) gradient")
                    if outputs.contains(.losses) {
                        #expect(r.losses?.scalars.allSatisfy { $0 == 0 } == true, "\(what) losses")
                        #expect(r.zLosses?.scalars.allSatisfy { $0 == 0 } == true, "\(what) z-losses")
                    }
                }
            }
        }
    }

    /// Under `mean` with class weights the z term divides by the number of positions not
    /// ignored, not by Σ w_t: the weights here make the two differ by a factor of 3, far
    /// beyond the tolerance.
    @Test(arguments: TransformProblem.shapes)
    func zMeanDividesByTheCountNotTheWeights(shape: [Int]) throws {
        let problem = TransformProblem(shape: shape, seed: 600)
        let classes = problem.geometry.classes
        let active = problem.labels.filter { $0 != -100 }
        let weightSum = Double(active.count) * 3
        for (temperature, softcap) in [(1.0, nil), (1.25, 5.0)] as [(Double, Double?)] {
            let options = CrossEntropyOptions(
                axis: 1, reduction: .mean, ignoreIndex: -100, classWeights: [Double](repeating: 3, count: classes),
                temperature: temperature, softcap: softcap, zLoss: 0.1)
            let result = try problem.run(Double.self, options, probabilities: false, outputs: [.gradient, .zLosses])
            let zSum = try #require(result.zLosses).scalars.reduce(0, +)
            let byCount = zSum / Double(active.count)
            let byWeights = zSum / weightSum
            #expect(abs(byCount - byWeights) > 1e-3 * byCount)
            #expect(abs(result.zLoss - byCount) <= 1e-12 * byCount, "z-loss \(result.zLoss): by count \(byCount)")
            // The cross-entropy part divides by Σ w_t = 3·count: with equal weights, the
            // unweighted mean.
            var unweighted = options
            unweighted.classWeights = nil
            let plain = try problem.run(Double.self, unweighted, probabilities: false, outputs: [.gradient])
            #expect(abs(result.loss - plain.loss) <= 1e-12 * plain.loss, "\(result.loss) vs \(plain.loss)")
            let want = problem.reference(options, probabilities: false)
            TransformCheck.expectAll(result, want, "\(shape) T \(temperature)")
            #expect(
                firstMismatch(result.gradient!.scalars, plain.gradient!.scalars, rel: 1e-12, abs: 1e-15) == nil,
                "the gradient of the weighted call is the unweighted one's")
        }
    }

    /// The buffer API writes every requested per-position value: buffers filled with NaN
    /// beforehand hold the reference's losses and z terms afterwards (0 where ignored, and
    /// everywhere without a z-loss, as `CrossEntropyOutputs.zLosses` documents), and the loss
    /// does not depend on what they held.
    ///
    /// Two known issues, without a z-loss (`zLoss == 0`) and a `zLosses` buffer given:
    /// - no temperature or softcap, short rows (< 32 classes) or a strided layout: the z-loss
    ///   buffer is not written, and what it held is added to every per-position loss and to
    ///   the returned loss (NaN here);
    /// - a temperature or softcap (the staged path), any layout: the z-loss buffer is not
    ///   written (the losses and the loss are right).
    /// The `NDArray` API zero-fills its buffers, so neither shows there.
    @Test(arguments: TransformProblem.shapes, [false, true])
    func perPositionBuffersAreOverwritten(shape: [Int], probabilities: Bool) throws {
        let problem = TransformProblem(shape: shape, seed: 700)
        for (temperature, softcap, z) in [(1.0, nil, 0.05), (0.8, 4.0, 0.05), (0.8, 4.0, 0.0), (1.0, nil, 0.0)]
            as [(Double, Double?, Double)]
        {
            let options = CrossEntropyOptions(
                axis: 1, reduction: .sum, ignoreIndex: -100, temperature: temperature, softcap: softcap, zLoss: z)
            let want = problem.reference(options, probabilities: probabilities)
            let positions = problem.geometry.positions
            var losses = [Float](repeating: .nan, count: positions)
            var zLosses = [Float](repeating: .nan, count: positions)
            let scores = problem.x.map { Float($0) }
            let loss = try scores.withUnsafeBufferPointer { x in
                try losses.withUnsafeMutableBufferPointer { l in
                    try zLosses.withUnsafeMutableBufferPointer { zl in
                        try problem.run(
                            scores: x, options, probabilities: probabilities,
                            outputs: CrossEntropyOutputs(losses: l, zLosses: zl))
                    }
                }
            }
            let what =
                "\(shape) \(probabilities ? "soft" : "indices") T \(temperature) cap \(String(describing: softcap)) z \(z)"
            let tolerance = Tolerance.of(Float.self)
            TransformCheck.expectClose(loss, want.loss, tolerance, "\(what) loss")
            TransformCheck.expectElements(losses, want.losses, tolerance, "\(what) losses")
            TransformCheck.expectElements(zLosses, want.zLosses, tolerance, "\(what) z-losses")
        }
    }

    /// The per-position losses include their z terms; the reported loss is CE + z; the
    /// reduced z-loss is the z terms reduced; a z-loss of 0 changes nothing.
    @Test func zTermsAddUp() throws {
        let problem = TransformProblem(shape: [2, 7, 5, 9], seed: 800)
        for reduction in [LossReduction.sum, .none] {
            let base = CrossEntropyOptions(
                axis: 1, reduction: reduction, ignoreIndex: -100, temperature: 0.9, softcap: 7)
            var withZ = base
            withZ.zLoss = 0.2
            let a = try problem.run(Double.self, base, probabilities: false, outputs: [.losses, .zLosses])
            let b = try problem.run(Double.self, withZ, probabilities: false, outputs: [.losses, .zLosses])
            #expect(a.zLoss == 0 && a.zLosses!.scalars.allSatisfy { $0 == 0 })
            let zl = b.zLosses!.scalars
            #expect(zl.contains { $0 > 0 })
            #expect(abs(b.zLoss - zl.reduce(0, +)) <= 1e-12 * b.zLoss)
            #expect(abs(b.loss - (a.loss + b.zLoss)) <= 1e-12 * b.loss)
            for p in zl.indices {
                #expect(
                    abs(b.losses!.scalars[p] - (a.losses!.scalars[p] + zl[p])) <= 1e-12 * (1 + b.losses!.scalars[p]))
                if problem.labels[p] == -100 { #expect(zl[p] == 0 && b.losses!.scalars[p] == 0) }
            }
        }
    }

    /// Temperature 1 without a softcap is no transform: the same bits as the plain call; and
    /// a softcap far above the scores changes them by less than the bar.
    @Test(arguments: TransformProblem.shapes)
    func neutralTransforms(shape: [Int]) throws {
        let problem = TransformProblem(shape: shape, seed: 900)
        let plain = CrossEntropyOptions(axis: 1, ignoreIndex: -100, zLoss: 0.01)
        var explicit = plain
        explicit.temperature = 1
        let a = try problem.run(Float.self, plain, probabilities: false, outputs: [.gradient, .losses])
        let b = try problem.run(Float.self, explicit, probabilities: false, outputs: [.gradient, .losses])
        #expect(a.loss == b.loss && a.gradient?.scalars == b.gradient?.scalars)
        var capped = plain
        capped.softcap = 1e6
        let c = try problem.run(Double.self, capped, probabilities: false, outputs: [.gradient])
        let d = try problem.run(Double.self, plain, probabilities: false, outputs: [.gradient])
        #expect(abs(c.loss - d.loss) <= 1e-9 * d.loss)
    }
}

/// Each option out of its domain is refused with `SoftmaxError.invalidOption` by every entry
/// point; the edges of the domains are accepted.
@Suite("Logit transform options are validated")
struct LogitTransformValidationTests {
    static let bad: [(String, CrossEntropyOptions)] = [
        ("temperature", CrossEntropyOptions(temperature: 0)),
        ("temperature", CrossEntropyOptions(temperature: -1)),
        ("temperature", CrossEntropyOptions(temperature: .nan)),
        ("temperature", CrossEntropyOptions(temperature: .infinity)),
        ("temperature", CrossEntropyOptions(temperature: -.infinity)),
        ("softcap", CrossEntropyOptions(softcap: 0)),
        ("softcap", CrossEntropyOptions(softcap: -2)),
        ("softcap", CrossEntropyOptions(softcap: .nan)),
        ("softcap", CrossEntropyOptions(softcap: .infinity)),
        ("z-loss", CrossEntropyOptions(zLoss: -1)),
        ("z-loss", CrossEntropyOptions(zLoss: .nan)),
        ("z-loss", CrossEntropyOptions(zLoss: .infinity)),
        ("input", CrossEntropyOptions(input: .logProbabilities, temperature: 2)),
        ("input", CrossEntropyOptions(input: .logProbabilities, softcap: 5)),
        ("input", CrossEntropyOptions(input: .logProbabilities, zLoss: 0.1)),
    ]

    /// The name of the option an error refuses, or a description of what happened instead.
    static func refusedOption(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch let SoftmaxError.invalidOption(name, _, _) {
            return name
        } catch {
            return "another error: \(error)"
        }
    }

    @Test func everyEntryPointRefusesEachBadOption() throws {
        let scores = try NDArray<Float>(shape: [2, 3], scalars: [0.5, -1, 2, 1, 0, -0.5])
        let doubles = try NDArray<Double>(shape: [2, 3], scalars: [0.5, -1, 2, 1, 0, -0.5])
        let labels = try NDArray<Int32>(shape: [2], scalars: [1, 2])
        let soft = try NDArray<Float>(shape: [2, 3], scalars: [0.2, 0.3, 0.5, 1, 0, 0])
        let hidden = try NDArray<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
        let weight = try NDArray<Float>(shape: [3, 2], scalars: [0.1, 0.2, 0.3, -0.1, 0, 1])
        for (name, options) in Self.bad {
            let what = "\(options)"
            #expect(Self.refusedOption { try options.validate() } == name, "\(what) validate")
            #expect(
                Self.refusedOption { _ = try crossEntropy(scores, classIndices: labels, options: options) } == name,
                "\(what) class indices")
            #expect(
                Self.refusedOption { _ = try crossEntropy(doubles, classIndices: labels, options: options) } == name,
                "\(what) class indices, Double")
            #expect(
                Self.refusedOption { _ = try crossEntropy(scores, probabilities: soft, options: options) } == name,
                "\(what) probabilities")
            #expect(
                Self.refusedOption {
                    _ = try scores.scalars.withUnsafeBufferPointer { x in
                        try [Int32(0), 1].withUnsafeBufferPointer { t in
                            try crossEntropy(scores: x, shape: [2, 3], classIndices: t, options: options)
                        }
                    }
                } == name, "\(what) buffers")
            // Linear cross-entropy has no log-probabilities mode to combine with.
            if options.input == .logits {
                #expect(
                    Self.refusedOption {
                        _ = try linearCrossEntropy(
                            hidden: hidden, weight: weight, classIndices: labels, options: options)
                    } == name, "\(what) linear")
            }
        }
    }

    /// The edges: tiny and huge temperatures and softcaps, a z-loss of 0, log-probabilities
    /// with the neutral transform.
    @Test func edgesOfTheDomainsAreAccepted() throws {
        let scores = try NDArray<Double>(shape: [2, 3], scalars: [0.5, -1, 2, 1, 0, -0.5])
        let labels = try NDArray<Int32>(shape: [2], scalars: [1, 2])
        for options in [
            CrossEntropyOptions(temperature: 1e-3), CrossEntropyOptions(temperature: 1e6),
            CrossEntropyOptions(softcap: 1e-3), CrossEntropyOptions(softcap: 1e6), CrossEntropyOptions(zLoss: 0),
            CrossEntropyOptions(zLoss: 1e3), CrossEntropyOptions(input: .logProbabilities, temperature: 1, zLoss: 0),
        ] {
            #expect(Self.refusedOption { try options.validate() } == "no error", "\(options)")
            let r = try crossEntropy(scores, classIndices: labels, options: options)
            #expect(r.loss.isFinite && r.gradient!.scalars.allSatisfy(\.isFinite), "\(options)")
        }
    }

    /// A temperature or softcap whose inverse is not finite in `Float` is refused for `Float`
    /// scores (the kernels take `1/T` and `1/c`) and accepted for `Double`.
    @Test func inversesMustBeFiniteInTheComputeType() throws {
        let labels = try NDArray<Int32>(shape: [2], scalars: [1, 2])
        for options in [CrossEntropyOptions(temperature: 1e-300), CrossEntropyOptions(softcap: 1e-300)] {
            let floats = try NDArray<Float>(shape: [2, 3], scalars: [0.5, -1, 2, 1, 0, -0.5])
            let name = options.softcap == nil ? "temperature" : "softcap"
            #expect(Self.refusedOption { _ = try crossEntropy(floats, classIndices: labels, options: options) } == name)
            let doubles = try NDArray<Double>(shape: [2, 3], scalars: [0.5, -1, 2, 1, 0, -0.5])
            #expect(
                Self.refusedOption { _ = try crossEntropy(doubles, classIndices: labels, options: options) }
                    == "no error")
        }
    }
}
