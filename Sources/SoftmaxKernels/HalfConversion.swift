#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// `Float16` ↔ compute-type conversion loops, instantiated per instruction set like the
    /// kernels: with F16C (x86-64-v3 and up) the loops compile to `vcvtph2ps`/`vcvtps2ph`, 8
    /// or 16 values per instruction.  At the x86-64 baseline each value would be a runtime
    /// call, so the portable set uses `HalfBitConversion` instead.
    package enum HalfConversion<Scalar: KernelScalar> {
        /// `destination[i] = Scalar(source[i])` for `i < count`.
        @inlinable @inline(__always)
        package static func widen(
            _ source: UnsafePointer<Float16>, _ destination: UnsafeMutablePointer<Scalar>, count: Int
        ) {
            for i in 0..<count { destination[i] = Scalar(source[i]) }
        }

        /// `destination[i] = Float16(source[i])` (rounded to nearest even) for `i < count`.
        @inlinable @inline(__always)
        package static func narrow(
            _ source: UnsafePointer<Scalar>, _ destination: UnsafeMutablePointer<Float16>, count: Int
        ) {
            for i in 0..<count { destination[i] = Float16(source[i]) }
        }
    }
#endif
