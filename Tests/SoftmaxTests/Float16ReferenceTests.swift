#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    import Foundation
    import Softmax
    import SoftmaxTestSupport
    import Testing

    /// `Float16` calls against float64 math on the `Float16`-rounded inputs, within the
    /// tolerance `Float16`'s precision allows (`HalfPrecision`: half a spacing of output
    /// rounding plus the `Float` computation's error) — not against the `Float` kernels
    /// narrowed, which would pass whatever the staging and the `Float` kernels share.  Tight
    /// enough that a gradient off by 0.1 % fails.  Rows and strided shapes, on every
    /// instruction set.
    @Suite("Float16 against float64")
    struct Float16ReferenceTests {
        /// Rows (long and short), strided, and strided over several tiles of the staging.
        static let shapes: [[Int]] = [[6, 37], [40, 10], [2, 9, 50], [2, 7, 700]]

        /// Normal scores of standard deviation 3, rounded to `Float16`: the values the library
        /// reads and the reference computes on.
        func scores(_ count: Int, seed: UInt64) -> (halves: [Float16], exact: [Double]) {
            var rng = SeededGenerator(seed: seed)
            let halves = rng.gaussians(count, std: 3).map { Float16($0) }
            return (halves, halves.map { Double($0) })
        }

        func report(_ bad: [String], _ what: String) {
            #expect(bad.isEmpty, "\(SoftmaxISA.active) \(what): \(bad.joined(separator: "; "))")
        }

        @Test(arguments: shapes)
        func forward(shape: [Int]) throws {
            let (halves, x) = scores(shape.reduce(1, *), seed: UInt64(shape.reduce(1, *)))
            let array = try NDArray<Float16>(shape: shape, scalars: halves)
            let p = Reference.softmax(x, shape, 1)
            let logp = Reference.logSoftmax(x, shape, 1)
            let lse = Reference.logSumExp(x, shape, 1)
            // log p = x − lse: the Float subtraction errs by units of |x| and |lse|.
            var logMagnitude = x.map(abs)
            var position = 0
            Reference.forEachPosition(shape, 1) { offsets in
                for k in offsets { logMagnitude[k] += abs(lse[position]) }
                position += 1
            }
            for isa in SoftmaxISA.supported {
                try SoftmaxISA.withActive(isa) {
                    report(HalfPrecision.mismatches(try array.softmax(axis: 1).scalars.doubles, p), "softmax")
                    report(
                        HalfPrecision.mismatches(
                            try array.logSoftmax(axis: 1).scalars.doubles, logp, magnitudes: logMagnitude),
                        "log-softmax")
                    report(
                        HalfPrecision.mismatches(
                            try array.logSumExp(axis: 1).scalars.doubles, lse, magnitudes: lse.map { abs($0) + 1 }),
                        "logsumexp")
                }
            }
        }

        @Test(arguments: shapes)
        func backward(shape: [Int]) throws {
            let count = shape.reduce(1, *)
            let (xHalves, _) = scores(count, seed: 3)
            let (dyHalves, dy) = scores(count, seed: 4)
            // The outputs the backward passes read are Float16 too: the reference takes them
            // as read.
            let y = try NDArray<Float16>(shape: shape, scalars: xHalves).softmax(axis: 1)
            let logY = try NDArray<Float16>(shape: shape, scalars: xHalves).logSoftmax(axis: 1)
            let gradient = try NDArray<Float16>(shape: shape, scalars: dyHalves)
            let (yd, logYd) = (y.scalars.doubles, logY.scalars.doubles)
            let want = Reference.softmaxBackward(y: yd, dy: dy, shape: shape, axis: 1)
            let wantLog = Reference.logSoftmaxBackward(y: logYd, dy: dy, shape: shape, axis: 1)
            // y·dy − y·Σ(dy·y) and dy − exp(y)·Σdy: units of each term.
            var magnitude = [Double](repeating: 0, count: count)
            var logMagnitude = [Double](repeating: 0, count: count)
            Reference.forEachPosition(shape, 1) { offsets in
                let dot = offsets.reduce(0) { $0 + abs(dy[$1] * yd[$1]) }
                let sum = offsets.reduce(0) { $0 + abs(dy[$1]) }
                for k in offsets {
                    magnitude[k] = yd[k] * (abs(dy[k]) + dot)
                    logMagnitude[k] = abs(dy[k]) + exp(logYd[k]) * sum
                }
            }
            for isa in SoftmaxISA.supported {
                try SoftmaxISA.withActive(isa) {
                    report(
                        HalfPrecision.mismatches(
                            try y.softmaxBackward(gradient: gradient, axis: 1).scalars.doubles, want,
                            magnitudes: magnitude), "softmax backward")
                    report(
                        HalfPrecision.mismatches(
                            try logY.logSoftmaxBackward(gradient: gradient, axis: 1).scalars.doubles, wantLog,
                            magnitudes: logMagnitude), "log-softmax backward")
                }
            }
        }

        /// Class indices with and without an ignored label, class weights, smoothing and a loss
        /// weight, under each reduction that divides.
        static let options: [CrossEntropyOptions] = [
            CrossEntropyOptions(axis: 1),
            CrossEntropyOptions(axis: 1, reduction: .sum, ignoreIndex: -1),
            CrossEntropyOptions(
                axis: 1, ignoreIndex: -1, classWeights: (0..<7).map { 0.5 + Double($0 % 4) / 3 }, labelSmoothing: 0.1,
                lossWeight: 2),
            CrossEntropyOptions(axis: 1, reduction: .full, ignoreIndex: 0, labelSmoothing: 0.2),
        ]

        /// Per element, the size of the terms its gradient is computed from:
        /// `scale·(p_c·Σcoef + coef_c)`, for the float part of the bound.
        func gradientMagnitudes(
            _ p: [Double], shape: [Int], coefficients: (Int, Int) -> Double, scale: Double
        ) -> [Double] {
            var out = [Double](repeating: 0, count: p.count)
            let classes = shape[1]
            var position = 0
            Reference.forEachPosition(shape, 1) { offsets in
                let coef = (0..<classes).map { coefficients(position, $0) }
                let total = coef.reduce(0, +)
                for (c, k) in offsets.enumerated() { out[k] = abs(scale) * (p[k] * total + coef[c]) }
                position += 1
            }
            return out
        }

        func checkOutputs(
            _ got: CrossEntropyResult<Float16>, want: (loss: Double, losses: [Double], gradient: [Double]),
            x: [Double], shape: [Int], coefficients: @escaping (Int, Int) -> Double, scale: Double, what: String
        ) {
            let p = Reference.softmax(x, shape, 1)
            let logp = Reference.logSoftmax(x, shape, 1)
            // The per-position losses −Σ coef·log p, log p = x − lse computed in Float (units of
            // |x| + |lse| ≤ 2|x| + |log p|); the loss, their sum reduced.
            var lossMagnitude: [Double] = []
            var position = 0
            Reference.forEachPosition(shape, 1) { offsets in
                lossMagnitude.append(
                    offsets.enumerated().reduce(0) { sum, term in
                        sum + coefficients(position, term.offset) * (2 * abs(x[term.element]) + abs(logp[term.element]))
                    })
                position += 1
            }
            let total = want.losses.reduce(0, +)
            let reduction = total == 0 ? 0 : want.loss / total
            let lossBound = HalfPrecision.floatUnits * 0x1p-24 * lossMagnitude.reduce(0, +) * abs(reduction)
            #expect(
                abs(got.loss - want.loss) <= lossBound,
                "\(SoftmaxISA.active) \(what): loss \(got.loss), expected \(want.loss) ± \(lossBound)")
            report(
                HalfPrecision.mismatches(
                    got.gradient!.scalars.doubles, want.gradient,
                    magnitudes: gradientMagnitudes(p, shape: shape, coefficients: coefficients, scale: scale)),
                "\(what) gradient")
            if let losses = got.losses {
                report(
                    HalfPrecision.mismatches(losses.scalars.doubles, want.losses, magnitudes: lossMagnitude),
                    "\(what) losses")
            }
            if let probabilities = got.probabilities {
                report(HalfPrecision.mismatches(probabilities.scalars.doubles, p), "\(what) probabilities")
            }
            if let logProbabilities = got.logProbabilities {
                let magnitudes = zip(x, logp).map { abs($0) + abs($0 - $1) }
                report(
                    HalfPrecision.mismatches(logProbabilities.scalars.doubles, logp, magnitudes: magnitudes),
                    "\(what) log-probabilities")
            }
        }

        @Test(arguments: shapes, options)
        func crossEntropyClassIndices(shape: [Int], options: CrossEntropyOptions) throws {
            var shape = shape
            shape[1] = 7  // the class weights' count
            let count = shape.reduce(1, *)
            let (halves, x) = scores(count, seed: 21)
            var targetShape = shape
            targetShape.remove(at: 1)
            var rng = SeededGenerator(seed: 22)
            let labels = (0..<targetShape.reduce(1, *)).map { k in
                k % 5 == 2 ? (options.ignoreIndex ?? 0) : Int.random(in: 0..<7, using: &rng)
            }
            let want = Reference.crossEntropy(x, shape, .indices(labels), options)
            let w = options.classWeights ?? [Double](repeating: 1, count: 7)
            let eps = options.labelSmoothing
            func coefficient(_ position: Int, _ c: Int) -> Double {
                let t = labels[position]
                guard t != options.ignoreIndex else { return 0 }
                return eps / 7 * w[c] + (c == t ? (1 - eps) * w[t] : 0)
            }
            let scale = want.loss == 0 ? 0 : options.lossWeight * want.loss / want.losses.reduce(0, +)
            let scoresArray = try NDArray<Float16>(shape: shape, scalars: halves)
            let targets = try NDArray<Int32>(shape: targetShape, scalars: labels.map { Int32($0) })
            let all: CrossEntropyOutputSet = [.gradient, .losses, .probabilities, .logProbabilities]
            for isa in SoftmaxISA.supported {
                try SoftmaxISA.withActive(isa) {
                    for outputs in [CrossEntropyOutputSet.gradient, all] {
                        let got = try crossEntropy(
                            scoresArray, classIndices: targets, options: options, outputs: outputs)
                        checkOutputs(
                            got, want: want, x: x, shape: shape, coefficients: coefficient, scale: scale,
                            what: "outputs \(outputs.rawValue)")
                    }
                }
            }
        }

        @Test(arguments: shapes)
        func crossEntropyProbabilities(shape: [Int]) throws {
            let count = shape.reduce(1, *)
            let (halves, x) = scores(count, seed: 31)
            // Targets: a softmax of other scores, rounded to Float16 as the library reads them.
            let (other, _) = scores(count, seed: 32)
            let q16 = try NDArray<Float16>(shape: shape, scalars: other).softmax(axis: 1)
            let q = q16.scalars.doubles
            let classes = shape[1]
            let w = (0..<classes).map { 0.5 + Double($0 % 3) / 2 }
            let options = CrossEntropyOptions(axis: 1, classWeights: w, labelSmoothing: 0.1, lossWeight: 0.5)
            let want = Reference.crossEntropy(x, shape, .probabilities(q), options)
            var offsetsOf: [[Int]] = []
            Reference.forEachPosition(shape, 1) { offsetsOf.append($0) }
            func coefficient(_ position: Int, _ c: Int) -> Double {
                w[c] * (0.9 * q[offsetsOf[position][c]] + 0.1 / Double(classes))
            }
            let scale = options.lossWeight / Double(offsetsOf.count)
            let scoresArray = try NDArray<Float16>(shape: shape, scalars: halves)
            for isa in SoftmaxISA.supported {
                try SoftmaxISA.withActive(isa) {
                    let got = try crossEntropy(
                        scoresArray, probabilities: q16, options: options,
                        outputs: [.gradient, .losses, .probabilities, .logProbabilities])
                    checkOutputs(
                        got, want: want, x: x, shape: shape, coefficients: coefficient, scale: scale,
                        what: "probability targets")
                }
            }
        }
    }
#endif
