import Foundation
import Softmax

/// The package's seeded generator, with helpers for test data.
public typealias SeededGenerator = SplitMix64

extension SplitMix64 {
    /// `count` normal samples with standard deviation `std`.
    public mutating func gaussians(_ count: Int, std: Double = 1) -> [Double] {
        (0..<count).map { _ in gaussian(std: std) }
    }

    /// A random shape of rank 1...4 with dimensions 1...maxDim, and a valid axis in it.
    public mutating func shapeAndAxis(maxDim: Int = 9) -> ([Int], Int) {
        let rank = Int.random(in: 1...4, using: &self)
        let shape = (0..<rank).map { _ in Int.random(in: 1...maxDim, using: &self) }
        let axis = Int.random(in: -rank..<rank, using: &self)
        return (shape, axis)
    }
}

/// Caffe's `GaussianFiller`: `count` normal samples, rounded to `T`.
public func gaussianFill<T: SoftmaxScalar>(
    _ count: Int, mean: Double = 0, std: Double = 1, using rng: inout SplitMix64, as _: T.Type = T.self
) -> [T] {
    (0..<count).map { _ in T(rng.gaussian(mean: mean, std: std)) }
}

/// Caffe's label fill in `test_softmax_with_loss_layer.cpp`: whole numbers in `0..<classes`
/// stored as floats.
public func labelFill<T: SoftmaxScalar>(
    _ count: Int, classes: Int, using rng: inout SplitMix64, as _: T.Type = T.self
) -> [T] {
    (0..<count).map { _ in T(Int.random(in: 0..<classes, using: &rng)) }
}
