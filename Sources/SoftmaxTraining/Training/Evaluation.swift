/// What a model scores on a set of samples.
public struct Evaluation: Sendable {
    /// Mean cross-entropy (−log p of the true class, no smoothing or weights) over the
    /// non-ignored positions.
    public var loss: Double
    /// True against predicted classes.
    public var confusion: ConfusionMatrix
    /// Accuracy (pixel accuracy for segmentation).
    public var accuracy: Double { confusion.accuracy }
}
