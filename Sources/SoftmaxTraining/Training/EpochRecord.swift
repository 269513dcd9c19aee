/// What one training epoch achieved (accuracies are fractions in 0...1).
///
/// Defined here, next to the trainer that produces it; the report code (SVG curves) reads it.
public struct EpochRecord: Sendable, Codable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// The mean mini-batch loss over the epoch (the training objective, with smoothing and
    /// class weights).
    public var trainLoss: Double
    /// Accuracy on the training samples after the epoch.
    public var trainAccuracy: Double
    /// Mean cross-entropy on the test samples after the epoch.
    public var testLoss: Double?
    /// Accuracy on the test samples after the epoch.
    public var testAccuracy: Double?
    /// Wall-clock seconds the epoch took (training and both evaluations).
    public var seconds: Double

    /// A record.
    public init(
        epoch: Int, trainLoss: Double, trainAccuracy: Double, testLoss: Double? = nil, testAccuracy: Double? = nil,
        seconds: Double = 0
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
        self.seconds = seconds
    }
}
