#if arch(x86_64)
    /// `Float16` ↔ `Float` conversion in integer vector arithmetic, for x86-64 without F16C
    /// (the portable set).
    ///
    /// There, `Float(half)` and `Float16(float)` are one runtime call per value, a tenth of the
    /// portable kernels' speed; these loops convert eight values per step with
    /// SSE2 integer and float operations.  Both are exact: widening is exact, narrowing rounds
    /// to nearest even with subnormals, overflow to infinity, and NaN handled as `vcvtph2ps` /
    /// `vcvtps2ph` do (payload kept, quiet bit set), so every instruction set converts to the
    /// same bits (a Float16 result is its set's float32 result, narrowed).
    public enum HalfBitConversion {
        /// Eight lanes at a time: two SSE2 registers, independent work for the core.
        @usableFromInline typealias Lanes = SIMD8<Int32>

        /// `destination[i]` = the half whose bit pattern is `source[i]`, as a `Float`, for `i < count`.
        ///
        /// - Complexity: O(count).
        @inlinable
        public static func widen(
            _ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>, count: Int
        ) {
            let bits = source
            var i = 0
            while i + Lanes.scalarCount <= count {
                let h = Lanes(truncatingIfNeeded: UnsafeRawPointer(bits + i).loadUnaligned(as: SIMD8<UInt16>.self))
                UnsafeMutableRawPointer(destination + i).storeBytes(of: widened(h), as: Lanes.self)
                i += Lanes.scalarCount
            }
            if i < count {
                var h = Lanes()
                for j in 0..<(count - i) { h[j] = Int32(bits[i + j]) }
                let f = widened(h)
                for j in 0..<(count - i) { destination[i + j] = Float(bitPattern: UInt32(bitPattern: f[j])) }
            }
        }

        /// `destination[i]` = the bit pattern of `source[i]` as a half, rounded to nearest even, for
        /// `i < count`.
        ///
        /// - Complexity: O(count).
        @inlinable
        public static func narrow(
            _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<UInt16>, count: Int
        ) {
            let bits = destination
            var i = 0
            while i + Lanes.scalarCount <= count {
                let h = narrowed(UnsafeRawPointer(source + i).loadUnaligned(as: Lanes.self))
                UnsafeMutableRawPointer(bits + i).storeBytes(
                    of: SIMD8<UInt16>(truncatingIfNeeded: h), as: SIMD8<UInt16>.self)
                i += Lanes.scalarCount
            }
            if i < count {
                var f = Lanes()
                for j in 0..<(count - i) { f[j] = Int32(bitPattern: source[i + j].bitPattern) }
                let h = narrowed(f)
                for j in 0..<(count - i) { bits[i + j] = UInt16(truncatingIfNeeded: h[j]) }
            }
        }

        /// Float bit patterns of the halves whose bit patterns are in the low 16 bits of `h`.
        @inlinable @inline(__always)
        static func widened(_ h: Lanes) -> Lanes {
            let exponentMask: Int32 = 0x7c00 << 13  // the half's exponent, at the float's place
            var o = (h & 0x7fff) &<< 13
            let exponent = o & exponentMask
            o &+= (127 - 15) << 23  // rebias the exponent
            // Infinity and NaN: the exponent all ones; a NaN also gets the quiet bit (bit 10
            // of `m + 0x3ff` is set when the mantissa `m` is not 0).
            let quiet = (((h & 0x3ff) &+ 0x3ff) & 0x400) &<< 12
            o = select(exponent .== Lanes(repeating: exponentMask), (o &+ ((128 - 16) << 23)) | quiet, else: o)
            // Zero and subnormals: the mantissa as a normal float 2^-14·(1 + m/1024), less
            // 2^-14 (exact: the result is m·2^-24).
            let minimumNormal = Lanes(repeating: 113 << 23)
            let renormalised = floatBits(asFloat(o &+ (1 << 23)) - asFloat(minimumNormal))
            o = select(exponent .== Lanes(repeating: 0), renormalised, else: o)
            return o | ((h & 0x8000) &<< 16)
        }

        /// Half bit patterns (in the low 16 bits) of the floats whose bit patterns are `f`.
        @inlinable @inline(__always)
        static func narrowed(_ f: Lanes) -> Lanes {
            let sign = f & Int32(bitPattern: 0x8000_0000)
            let a = f ^ sign  // |f|, non-negative as an integer and ordered like the floats
            // Normal results: rebias, then add just under half an ulp plus the kept mantissa's
            // last bit, so that a tie rounds to even; a carry moves into the exponent (up to
            // infinity for 65520 and above).
            let odd = (a &>> 13) & 1
            var o = (a &+ (((15 - 127) << 23) &+ 0xfff) &+ odd) &>> 13
            // Below 2^-14 the result is subnormal: adding 0.5 puts the float's ulp at 2^-24,
            // the half subnormal's, so the float addition does the rounding to nearest even.
            let half = Lanes(repeating: 126 << 23)
            let subnormal = floatBits(asFloat(a) + asFloat(half)) &- half
            o = select(a .< Lanes(repeating: 113 << 23), subnormal, else: o)
            o = select(a .< Lanes(repeating: 143 << 23), o, else: Lanes(repeating: 0x7c00))  // ≥ 2^16: infinity
            // NaN: the payload's top ten bits, quieted.
            o = select(Lanes(repeating: 0x7f80_0000) .< a, ((a &>> 13) & 0x3ff) | 0x7e00, else: o)
            return o | ((sign &>> 16) & 0x8000)
        }

        /// `x` where `mask` is set, `y` elsewhere, on the bits (as in `SIMD+Select.swift`):
        /// `replacing(with:where:)` and the mask operators other than the comparisons `.<` and
        /// `.==` of two vectors (not a vector and a scalar) go lane by lane, which made these
        /// loops 3× slower than the runtime calls they replace.
        @inlinable @inline(__always)
        static func select(_ mask: SIMDMask<Lanes>, _ x: Lanes, else y: Lanes) -> Lanes {
            y ^ ((x ^ y) & unsafeBitCast(mask, to: Lanes.self))
        }

        @inlinable @inline(__always)
        static func asFloat(_ bits: Lanes) -> SIMD8<Float> { unsafeBitCast(bits, to: SIMD8<Float>.self) }

        @inlinable @inline(__always)
        static func floatBits(_ value: SIMD8<Float>) -> Lanes { unsafeBitCast(value, to: Lanes.self) }
    }
#endif
