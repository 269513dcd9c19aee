// The one file of this module that names `Float16`, which Swift lacks on macOS on x86-64.
// Elsewhere `Float16` values travel as their bit patterns (`UInt16`), so nothing else needs
// the platform guard.
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// `Float16` ↔ compute-type conversion loops on bit patterns, instantiated per instruction
    /// set like the kernels: with F16C (x86-64-v3 and up) the loops compile to
    /// `vcvtph2ps`/`vcvtps2ph`, 8 or 16 values per instruction.  At the x86-64 baseline each
    /// value would be a runtime call, so the portable set uses `HalfBitConversion` instead.
    public enum HalfConversion<Scalar: KernelScalar> {
        /// `destination[i] = Scalar(half)` for the halves whose bit patterns are `source[i]`,
        /// `i < count`.
        @inlinable @inline(__always)
        public static func widen(
            _ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Scalar>, count: Int
        ) {
            let halves = UnsafeRawPointer(source).assumingMemoryBound(to: Float16.self)
            for i in 0..<count { destination[i] = Scalar(halves[i]) }
        }

        /// `destination[i]` = the bit pattern of `Float16(source[i])` (rounded to nearest even),
        /// `i < count`.
        @inlinable @inline(__always)
        public static func narrow(
            _ source: UnsafePointer<Scalar>, _ destination: UnsafeMutablePointer<UInt16>, count: Int
        ) {
            let halves = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Float16.self)
            for i in 0..<count { halves[i] = Float16(source[i]) }
        }
    }
#else
    /// Without a `Float16` type no array of halves reaches the kernels, but the table's
    /// conversions still convert correctly: through `Float` with `HalfBitConversion`, one
    /// value at a time.
    public enum HalfConversion<Scalar: KernelScalar> {
        @inlinable
        public static func widen(
            _ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Scalar>, count: Int
        ) {
            var value: Float = 0
            for i in 0..<count {
                HalfBitConversion.widen(source + i, &value, count: 1)
                destination[i] = Scalar(value)
            }
        }

        @inlinable
        public static func narrow(
            _ source: UnsafePointer<Scalar>, _ destination: UnsafeMutablePointer<UInt16>, count: Int
        ) {
            for i in 0..<count {
                var value = Float(source[i])
                HalfBitConversion.narrow(&value, destination + i, count: 1)
            }
        }
    }
#endif
