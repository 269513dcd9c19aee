import Softmax

/// Training stopped because the loss or the parameters stopped being finite numbers — almost
/// always a learning rate too large for the data.
///
/// The description names the setting (`learning rate`); the command-line tool names its flag.
public struct TrainingDiverged: Error, Equatable, Sendable, CustomStringConvertible {
    /// The epoch (from 1) in which the loss was first not finite.
    public var epoch: Int
    /// The loss seen then: NaN or ±infinity.
    public var loss: Double
    /// The learning rate the training ran with.
    public var learningRate: Double

    /// A divergence at `epoch` with `loss`, training at `learningRate`.
    public init(epoch: Int, loss: Double, learningRate: Double) {
        self.epoch = epoch
        // A NaN's sign bit is noise ("-nan"); every NaN reads "nan".
        self.loss = loss.isNaN ? .nan : loss
        self.learningRate = learningRate
    }

    /// `training diverged at epoch 1 (loss nan): lower the learning rate (1e+30)`.
    public var description: String {
        "training diverged at epoch \(epoch) (loss \(loss)): lower the learning rate (\(learningRate))"
    }
}

extension TrainingDiverged: UserInputError {}
