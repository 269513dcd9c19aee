import Foundation
import Softmax

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
