#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// SplitMix64 (Steele, Lea & Flood, 2014): a small, fast, seeded random number generator, so
/// that data, initial weights and shuffles are the same on every run and machine.
///
/// Not for cryptography.  (`SystemRandomNumberGenerator` makes a system call per number, which
/// is far too slow for filling arrays.)
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is determined by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A normal sample (Box–Muller; one value per pair of uniforms).
    public mutating func gaussian(mean: Double = 0, std: Double = 1) -> Double {
        let u1 = 1 - uniform()  // (0, 1]: the logarithm is finite
        let u2 = uniform()
        return mean + std * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
