#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    import Foundation
    import Softmax
    import SoftmaxTestSupport
    import Testing

    /// `Float16` scores with temperature, softcap and z-loss against float64 math on the
    /// `Float16`-rounded inputs, within what `Float16`'s precision allows (`HalfPrecision`:
    /// half a spacing for the output's rounding plus the `Float` computation's error, in units
    /// of the magnitudes each value is computed from).  Every instruction set.
    @Suite("Float16 logit transforms against float64")
    struct Float16TransformTests {
        /// Rows (long, short, multi-block), strided, and strided over several staging tiles.
        static let shapes: [[Int]] = [[6, 37], [40, 10], [3, 5000], [2, 7, 5, 9], [2, 7, 700]]

        static let options: [CrossEntropyOptions] = [
            CrossEntropyOptions(
                axis: 1, reduction: .mean, ignoreIndex: -100, labelSmoothing: 0.1, lossWeight: 2, temperature: 0.8,
                softcap: 4, zLoss: 0.05),
            CrossEntropyOptions(axis: 1, reduction: .none, ignoreIndex: -100, temperature: 1.5, softcap: 2, zLoss: 0.1),
            CrossEntropyOptions(axis: 1, reduction: .sum, ignoreIndex: -100, softcap: 3),
            CrossEntropyOptions(axis: 1, reduction: .full, ignoreIndex: -100, temperature: 0.6, zLoss: 0.02),
        ]

        func report(_ bad: [String], _ what: String) {
            #expect(bad.isEmpty, "\(SoftmaxISA.active) \(what): \(bad.joined(separator: "; "))")
        }

        /// Every output of `got` against `want` (computed on the same `Float16` inputs).
        func check(
            _ got: CrossEntropyResult<Float16>, _ want: Reference.TransformedLoss, shape: [Int],
            coefficients: (_ position: Int, _ offsets: [Int]) -> [Double], what: String
        ) {
            let geometry = Geometry(shape: shape, axis: 1)
            // Per position: the log-sum-exp of the transformed scores, and the size of the
            // terms of its loss: Σ coef·(|s| + |lse|) through log p = s − lse, plus the z
            // term's 2λ·lse².
            var lossMagnitude = [Double](repeating: 0, count: geometry.positions)
            var elementLSE = [Double](repeating: 0, count: geometry.count)
            geometry.forEachPosition { p, offsets in
                let lse = want.transformed[offsets[0]] - want.logProbabilities[offsets[0]]
                let coef = coefficients(p, offsets)
                let terms = zip(coef, offsets).reduce(0.0) { $0 + $1.0 * (abs(want.transformed[$1.1]) + abs(lse)) }
                lossMagnitude[p] = terms + 2 * abs(want.zLosses[p])
                for k in offsets { elementLSE[k] = abs(lse) }
            }
            // The loss and z-loss are sums of per-position Float values, reduced: Float's error
            // on the magnitudes, over the denominators.
            let ceScale = want.denominators.crossEntropy == 0 ? 0 : 1 / want.denominators.crossEntropy
            let zScale = want.denominators.z == 0 ? 0 : 1 / want.denominators.z
            let unit = HalfPrecision.floatUnits * 0x1p-24
            let lossBound = unit * lossMagnitude.reduce(0, +) * Swift.max(ceScale, zScale)
            #expect(
                abs(got.loss - want.loss) <= lossBound,
                "\(SoftmaxISA.active) \(what): loss \(got.loss), expected \(want.loss) ± \(lossBound)")
            let zBound = unit * 4 * want.zLosses.reduce(0, +) * zScale
            #expect(
                abs(got.zLoss - want.zLoss) <= zBound,
                "\(SoftmaxISA.active) \(what): z-loss \(got.zLoss), expected \(want.zLoss) ± \(zBound)")
            if let g = got.gradient {
                // p = exp(s − lse) errs by Float units of |s| + |lse| relative to p.
                let magnitudes = want.gradientMagnitudes.indices.map {
                    want.gradientMagnitudes[$0] * (1 + abs(want.transformed[$0]) + elementLSE[$0])
                }
                report(
                    HalfPrecision.mismatches(g.scalars.doubles, want.gradient, magnitudes: magnitudes),
                    "\(what) gradient")
            }
            if let l = got.losses {
                report(
                    HalfPrecision.mismatches(l.scalars.doubles, want.losses, magnitudes: lossMagnitude),
                    "\(what) losses")
            }
            if let z = got.zLosses {
                report(
                    HalfPrecision.mismatches(z.scalars.doubles, want.zLosses, magnitudes: want.zLosses.map { 4 * $0 }),
                    "\(what) z-losses")
            }
            if let p = got.probabilities {
                let magnitudes = want.probabilities.indices.map {
                    want.probabilities[$0] * (1 + abs(want.transformed[$0]) + elementLSE[$0])
                }
                report(
                    HalfPrecision.mismatches(p.scalars.doubles, want.probabilities, magnitudes: magnitudes),
                    "\(what) probabilities")
            }
            if let lp = got.logProbabilities {
                let magnitudes = want.transformed.indices.map { abs(want.transformed[$0]) + elementLSE[$0] }
                report(
                    HalfPrecision.mismatches(lp.scalars.doubles, want.logProbabilities, magnitudes: magnitudes),
                    "\(what) log-probabilities")
            }
        }

        /// Normal scores of standard deviation 3 rounded to `Float16`, labels with every
        /// fifth position ignored, class weights in [0.5, 2].
        func problem(_ shape: [Int], seed: UInt64) -> (halves: [Float16], x: [Double], labels: [Int], weights: [Double])
        {
            let geometry = Geometry(shape: shape, axis: 1)
            var rng = SeededGenerator(seed: seed)
            let halves = rng.gaussians(geometry.count, std: 3).map { Float16($0) }
            let labels = (0..<geometry.positions).map { p in
                p % 5 == 2 ? -100 : Int.random(in: 0..<geometry.classes, using: &rng)
            }
            let weights = (0..<geometry.classes).map { 0.5 + Double($0 % 4) * 0.5 }
            return (halves, halves.map { Double($0) }, labels, weights)
        }

        @Test(arguments: shapes, options)
        func classIndices(shape: [Int], options: CrossEntropyOptions) throws {
            let (halves, x, labels, weights) = problem(shape, seed: UInt64(shape.reduce(1, *)))
            var options = options
            if options.reduction == .mean { options.classWeights = weights }
            var targetShape = shape
            targetShape.remove(at: 1)
            let want = Reference.transformedCrossEntropy(x, shape, .indices(labels), options)
            let scores = try NDArray<Float16>(shape: shape, scalars: halves)
            let targets = try NDArray<Int32>(shape: targetShape, scalars: labels.map { Int32($0) })
            let w = options.classWeights ?? [Double](repeating: 1, count: shape[1])
            let eps = options.labelSmoothing
            func coefficients(_ position: Int, _ offsets: [Int]) -> [Double] {
                let t = labels[position]
                guard t != options.ignoreIndex else { return w.map { _ in 0 } }
                return w.indices.map { c in eps / Double(w.count) * w[c] + (c == t ? (1 - eps) * w[t] : 0) }
            }
            let all: CrossEntropyOutputSet = [.gradient, .losses, .zLosses, .probabilities, .logProbabilities]
            for isa in SoftmaxISA.supported {
                try SoftmaxISA.withActive(isa) {
                    for outputs in [CrossEntropyOutputSet.gradient, all] {
                        let got = try crossEntropy(scores, classIndices: targets, options: options, outputs: outputs)
                        check(
                            got, want, shape: shape, coefficients: coefficients,
                            what: "\(shape) \(options) outputs \(outputs.rawValue)")
                    }
                }
            }
        }

        @Test(arguments: shapes)
        func probabilityTargets(shape: [Int]) throws {
            let (halves, x, _, weights) = problem(shape, seed: 77)
            let (other, _, _, _) = problem(shape, seed: 78)
            // Targets as the library reads them: a softmax rounded to Float16.
            let q16 = try NDArray<Float16>(shape: shape, scalars: other).softmax(axis: 1)
            let options = CrossEntropyOptions(
                axis: 1, reduction: .mean, classWeights: weights, labelSmoothing: 0.1, lossWeight: 0.5,
                temperature: 1.25, softcap: 5, zLoss: 0.03)
            let want = Reference.transformedCrossEntropy(x, shape, .probabilities(q16.scalars.doubles), options)
            #expect(options.labelSmoothing == 0.1)
            let q = q16.scalars.doubles
            func coefficients(_ position: Int, _ offsets: [Int]) -> [Double] {
                offsets.enumerated().map { c, k in weights[c] * (0.9 * q[k] + 0.1 / Double(weights.count)) }
            }
            let scores = try NDArray<Float16>(shape: shape, scalars: halves)
            for isa in SoftmaxISA.supported {
                try SoftmaxISA.withActive(isa) {
                    let got = try crossEntropy(
                        scores, probabilities: q16, options: options,
                        outputs: [.gradient, .losses, .zLosses, .probabilities, .logProbabilities])
                    check(got, want, shape: shape, coefficients: coefficients, what: "\(shape) probability targets")
                }
            }
        }
    }
#endif
