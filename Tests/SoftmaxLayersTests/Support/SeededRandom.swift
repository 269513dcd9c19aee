import Foundation
import Softmax

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded generator, so every test sees the same
/// data on every run and machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 random bits.
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A normal sample (Box–Muller; the second value of each pair is dropped for simplicity).
    mutating func gaussian(mean: Double = 0, std: Double = 1) -> Double {
        let u1 = 1 - uniform()  // (0, 1]: log is finite
        let u2 = uniform()
        return mean + std * (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

/// Caffe's `GaussianFiller`: `count` normal samples, rounded to `T`.
func gaussianFill<T: SoftmaxScalar>(
    _ count: Int, mean: Double = 0, std: Double = 1, using rng: inout SplitMix64, as _: T.Type = T.self
) -> [T] {
    (0..<count).map { _ in T(rng.gaussian(mean: mean, std: std)) }
}

/// Caffe's label fill in `test_softmax_with_loss_layer.cpp`: whole numbers in `0..<classes`
/// stored as floats.
func labelFill<T: SoftmaxScalar>(_ count: Int, classes: Int, using rng: inout SplitMix64, as _: T.Type = T.self) -> [T]
{
    (0..<count).map { _ in T(Int.random(in: 0..<classes, using: &rng)) }
}
