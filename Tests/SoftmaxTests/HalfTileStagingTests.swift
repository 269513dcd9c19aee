#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    import SoftmaxTestSupport
    import Testing

    @testable import Softmax

    /// `Float16` softmax, log-softmax, logsumexp, the backward passes and the cross-entropy,
    /// staged tile by tile (`TileStaging<Float>`): the bits of the `Float` op on the widened
    /// values, narrowed, on the instruction sets, on one thread and on all, in place and not,
    /// for shapes of many tiles (rows, strided with tiles ending inside an outer index, short
    /// rows).
    @Suite("Float16 staged by tile")
    struct HalfTileStagingTests {
        /// Shapes and axes of several tiles each, just over the parallel threshold (the debug
        /// build's kernels are slow): long rows, rows of one tile each, short rows, strided with
        /// two tiles in an outer index (the second partial), and strided tiles of 40 positions
        /// (two and a half vectors).
        static let cases: [([Int], Int)] = [
            ([4, 33_000], 1), ([140, 1000], 1), ([13_200, 10], 1), ([1, 21, 7000], 1), ([4, 1000, 40], 1),
        ]

        /// Random halves with some `-infinity` (masked classes) and large magnitudes.
        func halves(_ count: Int, seed: UInt64) -> [Float16] {
            var rng = SeededGenerator(seed: seed)
            return rng.gaussians(count, std: 4).enumerated().map { k, v in k % 97 == 5 ? -.infinity : Float16(v) }
        }

        /// The `Float` result of `op` on the widened halves, narrowed.
        func narrowedFloat(
            _ values: [[Float16]], shape: [Int], _ op: ([NDArray<Float>]) throws -> NDArray<Float>
        ) throws -> [UInt16] {
            let wide = try values.map { try NDArray<Float>(shape: shape, scalars: $0.map { Float($0) }) }
            return try op(wide).scalars.map { Float16($0).bitPattern }
        }

        /// Runs `body` on every instruction set with all threads (or only the portable and the
        /// best one: the staging is the same code on every set, and its conversions are tested
        /// alike on all), and on the best one with one thread.
        func onEverySetAndThreadCount(allSets: Bool = true, _ body: () throws -> Void) rethrows {
            let sets = allSets ? SoftmaxISA.supported : Array(Set([SoftmaxISA.portable, SoftmaxISA.active]))
            for isa in sets { try SoftmaxISA.withActive(isa) { try body() } }
            try SoftmaxThreads.withMaximum(1) { try body() }
        }

        @Test(arguments: cases)
        func forwardIsFloatNarrowed(shape: [Int], axis: Int) throws {
            let values = halves(shape.reduce(1, *), seed: UInt64(shape.reduce(1, *)))
            let x = try NDArray<Float16>(shape: shape, scalars: values)
            try onEverySetAndThreadCount {
                for logarithmic in [false, true] {
                    let got = try (logarithmic ? x.logSoftmax(axis: axis) : x.softmax(axis: axis)).scalars
                    let want = try narrowedFloat([values], shape: shape) {
                        try logarithmic ? $0[0].logSoftmax(axis: axis) : $0[0].softmax(axis: axis)
                    }
                    let bad = got.indices.first { got[$0].bitPattern != want[$0] }
                    #expect(bad == nil, "\(SoftmaxISA.active) log \(logarithmic) element \(bad ?? 0)")
                }
            }
        }

        @Test(arguments: cases)
        func logSumExpIsFloatNarrowed(shape: [Int], axis: Int) throws {
            let values = halves(shape.reduce(1, *), seed: 7)
            let x = try NDArray<Float16>(shape: shape, scalars: values)
            try onEverySetAndThreadCount {
                let got = try x.logSumExp(axis: axis).scalars.map(\.bitPattern)
                let want = try NDArray<Float>(shape: shape, scalars: values.map { Float($0) }).logSumExp(axis: axis)
                    .scalars.map { Float16($0).bitPattern }
                #expect(got.indices.first { got[$0] != want[$0] } == nil, "\(SoftmaxISA.active)")
            }
        }

        @Test(arguments: cases)
        func backwardIsFloatNarrowed(shape: [Int], axis: Int) throws {
            let count = shape.reduce(1, *)
            let x = try NDArray<Float16>(shape: shape, scalars: halves(count, seed: 11))
            let dy = try NDArray<Float16>(shape: shape, scalars: halves(count, seed: 12).map { $0.isFinite ? $0 : 1 })
            try onEverySetAndThreadCount {
                for logarithmic in [false, true] {
                    let y = try logarithmic ? x.logSoftmax(axis: axis) : x.softmax(axis: axis)
                    let got = try
                        (logarithmic
                        ? y.logSoftmaxBackward(gradient: dy, axis: axis)
                        : y.softmaxBackward(gradient: dy, axis: axis)).scalars
                    let want = try narrowedFloat([y.scalars, dy.scalars], shape: shape) {
                        try logarithmic
                            ? $0[0].logSoftmaxBackward(gradient: $0[1], axis: axis)
                            : $0[0].softmaxBackward(gradient: $0[1], axis: axis)
                    }
                    let bad = got.indices.first { got[$0].bitPattern != want[$0] }
                    #expect(bad == nil, "\(SoftmaxISA.active) log \(logarithmic) element \(bad ?? 0)")
                }
            }
        }

        @Test func inPlace() throws {
            // The output over the input (forward) and over the incoming gradient (backward):
            // each tile reads all of its elements before it writes any.
            let shape = [1, 21, 7000]
            let values = halves(shape.reduce(1, *), seed: 5)
            let want = try NDArray<Float16>(shape: shape, scalars: values).softmax(axis: 1).scalars
            var buffer = values
            try buffer.withUnsafeMutableBufferPointer {
                try Softmax.softmax(UnsafeBufferPointer($0), shape: shape, axis: 1, into: $0)
            }
            #expect(buffer.indices.first { buffer[$0].bitPattern != want[$0].bitPattern } == nil)
            let y = try NDArray<Float16>(shape: shape, scalars: want)
            let dy = halves(shape.reduce(1, *), seed: 6).map { $0.isFinite ? $0 : 0 }
            let wantGradient = try y.softmaxBackward(gradient: NDArray(shape: shape, scalars: dy), axis: 1).scalars
            var gradient = dy
            try gradient.withUnsafeMutableBufferPointer { g in
                try want.withUnsafeBufferPointer {
                    try Softmax.softmaxBackward(
                        output: $0, gradient: UnsafeBufferPointer(g), shape: shape, axis: 1, into: g)
                }
            }
            #expect(gradient.indices.first { gradient[$0].bitPattern != wantGradient[$0].bitPattern } == nil)
        }

        /// Every output of a cross-entropy call, as bit patterns, and the loss.
        func everything<T: SoftmaxScalar>(_ result: CrossEntropyResult<T>) -> (Double, [[UInt16]]) {
            let arrays = [result.gradient, result.losses, result.probabilities, result.logProbabilities]
            return (result.loss, arrays.map { $0?.scalars.map { Float16(Float($0)).bitPattern } ?? [] })
        }

        static let crossEntropyCases: [([Int], Int)] = [([140, 1000], 1), ([13_200, 10], 1), ([1, 21, 7000], 1)]

        @Test(arguments: crossEntropyCases)
        func crossEntropyIsFloatNarrowed(shape: [Int], axis: Int) throws {
            // Class indices with an ignored label, class weights and smoothing; probability
            // targets; every output: the loss and the narrowed outputs of the Float call.
            let count = shape.reduce(1, *)
            let values = halves(count, seed: 21)
            let x = try NDArray<Float16>(shape: shape, scalars: values)
            let wide = try NDArray<Float>(shape: shape, scalars: values.map { Float($0) })
            var targetShape = shape
            targetShape.remove(at: axis)
            let classes = shape[axis]
            var rng = SeededGenerator(seed: 22)
            let labels = try NDArray<Int32>(
                shape: targetShape,
                scalars: (0..<targetShape.reduce(1, *)).map { _ in Int32.random(in: -1..<Int32(classes), using: &rng) })
            let soft = try NDArray<Float16>(
                shape: shape, scalars: halves(count, seed: 23).map { abs($0.isFinite ? $0 : 0) / 64 })
            let wideSoft = try NDArray<Float>(shape: shape, scalars: soft.scalars.map { Float($0) })
            let options = [
                CrossEntropyOptions(axis: axis, ignoreIndex: -1),
                CrossEntropyOptions(
                    axis: axis, ignoreIndex: -1, classWeights: (0..<classes).map { 0.5 + Double($0 % 7) / 4 },
                    labelSmoothing: 0.1, lossWeight: 2),
            ]
            let all: CrossEntropyOutputSet = [.gradient, .losses, .probabilities, .logProbabilities]
            try onEverySetAndThreadCount(allSets: false) {
                for option in options {
                    for outputs in [CrossEntropyOutputSet.gradient, all] {
                        let got = everything(
                            try crossEntropy(x, classIndices: labels, options: option, outputs: outputs))
                        let want = everything(
                            try crossEntropy(wide, classIndices: labels, options: option, outputs: outputs))
                        #expect(got.0 == want.0, "\(SoftmaxISA.active) loss")
                        #expect(got.1 == want.1, "\(SoftmaxISA.active) outputs \(outputs.rawValue)")
                    }
                }
                let got = everything(try crossEntropy(x, probabilities: soft, options: options[1], outputs: all))
                let want = everything(
                    try crossEntropy(wide, probabilities: wideSoft, options: options[1], outputs: all))
                #expect(got.0 == want.0, "\(SoftmaxISA.active) probability targets loss")
                #expect(got.1 == want.1, "\(SoftmaxISA.active) probability targets outputs")
            }
        }

        @Test func crossEntropyGradientInPlace() throws {
            // The gradient over the scores' own buffer: the bits of the out-of-place call.
            let shape = [1, 21, 7000]
            var buffer = halves(shape.reduce(1, *), seed: 31)
            var rng = SeededGenerator(seed: 32)
            let labels = (0..<7000).map { _ in Int32.random(in: 0..<21, using: &rng) }
            let want = try crossEntropy(
                NDArray<Float16>(shape: shape, scalars: buffer),
                classIndices: NDArray(shape: [1, 7000], scalars: labels))
            let loss = try buffer.withUnsafeMutableBufferPointer { scores in
                try labels.withUnsafeBufferPointer {
                    try Softmax.crossEntropy(
                        scores: UnsafeBufferPointer(scores), shape: shape, classIndices: $0,
                        outputs: CrossEntropyOutputs(gradient: scores))
                }
            }
            #expect(loss == want.loss)
            let gradient = want.gradient!.scalars
            #expect(buffer.indices.first { buffer[$0].bitPattern != gradient[$0].bitPattern } == nil)
        }
    }
#endif
