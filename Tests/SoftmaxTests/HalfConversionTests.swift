#if arch(x86_64) && !((os(macOS) || targetEnvironment(macCatalyst)))
    import SoftmaxTestSupport
    import Testing
    import SoftmaxKernels

    @testable import Softmax

    /// The portable set's `Float16` conversion in integer arithmetic against Swift's own
    /// conversions (compiler-rt's, value by value) and, where the CPU has F16C, against the
    /// AVX2 set's `vcvtph2ps`/`vcvtps2ph` bit for bit, NaNs included.
    @Suite("Float16 conversion without F16C")
    struct HalfConversionTests {
        /// The hardware conversions, when this CPU has them.
        var hardware: TileKernelSet<Float>? {
            SoftmaxISA.supported.contains(.avx2) ? SoftmaxISA.withActive(.avx2) { Float.kernels } : nil
        }

        /// `body(source, destination, count)` run over `input` into a new array.
        func converted<A, B>(_ input: [A], fill: B, _ body: (UnsafePointer<A>, UnsafeMutablePointer<B>, Int) -> Void)
            -> [B]
        {
            var out = [B](repeating: fill, count: input.count)
            input.withUnsafeBufferPointer { source in
                out.withUnsafeMutableBufferPointer { body(source.baseAddress!, $0.baseAddress!, input.count) }
            }
            return out
        }

        func widen(_ halves: [Float16], using kernels: TileKernelSet<Float>? = nil) -> [Float] {
            converted(halves.map(\.bitPattern), fill: .nan) {
                kernels?.widenHalf($0, $1, $2) ?? HalfBitConversion.widen($0, $1, count: $2)
            }
        }

        func narrow(_ floats: [Float], using kernels: TileKernelSet<Float>? = nil) -> [Float16] {
            converted(floats, fill: UInt16(0)) {
                kernels?.narrowHalf($0, $1, $2) ?? HalfBitConversion.narrow($0, $1, count: $2)
            }.map { Float16(bitPattern: $0) }
        }

        @Test func widensEveryHalf() {
            // Every bit pattern, in an order that leaves a 7-value tail.
            let halves = (0..<65535).map { Float16(bitPattern: UInt16($0)) } + [Float16(bitPattern: 0xffff)]
            let got = widen(halves)
            let expected = halves.map { h -> UInt32 in
                // A NaN keeps its payload and gets the quiet bit (as vcvtph2ps does).
                guard h.isNaN else { return Float(h).bitPattern }
                return UInt32(h.bitPattern & 0x8000) << 16 | 0x7fc0_0000 | UInt32(h.bitPattern & 0x3ff) << 13
            }
            let bad = got.indices.first { got[$0].bitPattern != expected[$0] }
            #expect(bad == nil, "half \(bad.map { halves[$0].bitPattern } ?? 0)")
            if let hardware {
                let vcvt = widen(halves, using: hardware)
                #expect(got.indices.first { got[$0].bitPattern != vcvt[$0].bitPattern } == nil, "against vcvtph2ps")
            }
        }

        /// Every half, the midpoints between neighbours (ties), one float ulp either side of
        /// them, the ends of the range (largest half, overflow, smallest subnormal, underflow),
        /// float subnormals, infinities, NaNs and random bit patterns.
        static var narrowingInputs: [Float] {
            var values: [Float] = []
            for bits in 0..<UInt16(0x7c00) {
                let low = Float(Float16(bitPattern: bits))
                let high = Float(Float16(bitPattern: bits + 1))
                let middle = (low + high) / 2  // exact in float
                values += [low, middle, middle.nextDown, middle.nextUp]
            }
            values += [65504, 65519.996, 65520, 65536, 1e9, .greatestFiniteMagnitude, .infinity]
            values += [0x1p-24, 0x1p-25, 0x1.000002p-25, 0x1p-26, .leastNonzeroMagnitude, Float.leastNormalMagnitude]
            values += [
                .nan, Float(bitPattern: 0x7f80_0001), Float(bitPattern: 0x7fbf_ffff), Float(bitPattern: 0x7fc1_2345),
            ]
            var rng = SeededGenerator(seed: 16)
            values += (0..<200_000).map { _ in Float(bitPattern: UInt32.random(in: .min ... .max, using: &rng)) }
            return values + values.map { -$0 } + [1, 2, 3]  // a 3-value tail
        }

        @Test func narrowsToNearestEven() {
            let floats = Self.narrowingInputs
            let got = narrow(floats)
            let expected = floats.map { f -> UInt16 in
                // A NaN keeps the payload's top ten bits and gets the quiet bit.
                guard f.isNaN else { return Float16(f).bitPattern }
                let bits = f.bitPattern
                return UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000 | 0x7e00 | (bits >> 13) & 0x3ff)
            }
            let bad = got.indices.first { got[$0].bitPattern != expected[$0] }
            #expect(bad == nil, "float \(bad.map { floats[$0] } ?? 0) (bits \(bad.map { floats[$0].bitPattern } ?? 0))")
            if let hardware {
                let vcvt = narrow(floats, using: hardware)
                #expect(got.indices.first { got[$0].bitPattern != vcvt[$0].bitPattern } == nil, "against vcvtps2ph")
            }
        }

        @Test func portableFloat16SoftmaxIsFloat32Narrowed() throws {
            // Through the portable set's staging, a Float16 softmax has the bits of the float32
            // softmax of the widened values, narrowed (both conversions are exact).
            var rng = SeededGenerator(seed: 3)
            let values = rng.gaussians(3 * 37, std: 3).map { Float16($0) }
            let x = try NDArray<Float16>(shape: [3, 37], scalars: values)
            let portable = try SoftmaxISA.withActive(.portable) { try x.softmax(axis: 1) }
            let wide = try NDArray<Float>(shape: [3, 37], scalars: values.map { Float($0) })
            let reference = try SoftmaxISA.withActive(.portable) { try wide.softmax(axis: 1) }
            #expect(portable.scalars.map(\.bitPattern) == reference.scalars.map { Float16($0).bitPattern })
        }
    }
#endif
