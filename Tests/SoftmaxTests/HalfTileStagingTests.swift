#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    import Testing

    @testable import Softmax

    /// `Float16` softmax, log-softmax, logsumexp and the backward passes, staged tile by tile
    /// (`HalfTileStaging`): the bits of the `Float` op on the widened values, narrowed, on
    /// every instruction set, on one thread and on all, in place and not, for shapes of many
    /// tiles (rows, strided with tiles ending inside an outer index, short rows).
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

        /// Runs `body` on every instruction set with all threads, and on the best one with one.
        func onEverySetAndThreadCount(_ body: () throws -> Void) rethrows {
            for isa in SoftmaxISA.supported { try SoftmaxISA.withActive(isa) { try body() } }
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
    }
#endif
