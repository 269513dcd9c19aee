import Foundation
import Softmax

/// Caffe's SGD solver: momentum, L2 weight decay and a learning-rate policy.
///
/// Each `step` applies, per parameter blob, Caffe's `SGDSolver::ApplyUpdate`:
///
///     diff    += weightDecay · decayMultiplier · data        (Regularize, L2)
///     history  = momentum · history + rate · diff            (ComputeUpdateValue)
///     data    -= history                                     (Blob::Update)
///
/// then clears every `diff` (Caffe's `ClearParamDiffs` before the next iteration).
/// `rate` is the policy's learning rate at the current iteration.
public final class SGDSolver {
    /// Caffe's `lr_policy`.
    public enum LearningRatePolicy: Sendable, Equatable {
        /// `base_lr` throughout.
        case fixed
        /// `base_lr · gamma^⌊iteration / stepSize⌋`.
        case step(stepSize: Int, gamma: Double)
        /// `base_lr · (1 + gamma · iteration)^(−power)` (Caffe's LeNet example uses
        /// `gamma 1e-4, power 0.75`).
        case inverse(gamma: Double, power: Double)
    }

    /// One learnable blob and its per-blob multipliers (Caffe's `lr_mult`, `decay_mult`).
    public struct Parameter {
        /// The blob whose `data` is updated from its `diff`.
        public let blob: Blob<Float>
        /// Multiplies the learning rate for this blob.
        public var rateMultiplier: Float
        /// Multiplies the weight decay for this blob (0 for biases, as usual in Caffe models).
        public var decayMultiplier: Float

        /// A parameter with its multipliers.
        public init(_ blob: Blob<Float>, rateMultiplier: Float = 1, decayMultiplier: Float = 1) {
            self.blob = blob
            self.rateMultiplier = rateMultiplier
            self.decayMultiplier = decayMultiplier
        }
    }

    /// The parameters, in a fixed order.
    public let parameters: [Parameter]
    /// `base_lr`.
    public let baseLearningRate: Double
    /// `momentum`.
    public let momentum: Double
    /// `weight_decay` (L2).
    public let weightDecay: Double
    /// `lr_policy`.
    public let policy: LearningRatePolicy
    /// Updates applied so far (Caffe's `iter_`).
    public private(set) var iteration = 0
    /// The momentum history, one array per parameter.
    private var history: [[Float]]

    /// A solver over `parameters`.
    ///
    /// - Throws: `LayerError.invalidSolverSetting` for a value that breaks its `Setting` rule
    ///   (a rate that is not positive, a momentum outside `[0, 1)`, a negative weight decay, a
    ///   step policy with a step that is not positive or a gamma that is not positive) or an
    ///   `inverse` policy with a negative gamma or an infinite power.
    public init(
        parameters: [Parameter], learningRate: Double, momentum: Double = 0.9, weightDecay: Double = 0,
        policy: LearningRatePolicy = .fixed
    ) throws {
        for (setting, value) in [
            (Setting.learningRate, learningRate), (.momentum, momentum), (.weightDecay, weightDecay),
        ] {
            if let requirement = setting.requirement(violatedBy: value) {
                throw LayerError.invalidSolverSetting(name: setting.name, value: value, reason: "it " + requirement)
            }
        }
        switch policy {
        case .fixed: break
        case .step(let stepSize, let gamma):
            guard stepSize > 0, Setting.stepGamma.requirement(violatedBy: gamma) == nil else {
                throw LayerError.invalidSolverSetting(
                    name: "step policy", value: gamma, reason: "step size must be positive and gamma positive")
            }
        case .inverse(let gamma, let power):
            guard gamma.isFinite, gamma >= 0, power.isFinite else {
                throw LayerError.invalidSolverSetting(
                    name: "inv policy", value: gamma, reason: "gamma ≥ 0, power finite")
            }
        }
        self.parameters = parameters
        self.baseLearningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.policy = policy
        history = parameters.map { [Float](repeating: 0, count: $0.blob.count) }
    }

    /// The learning rate the next `step` uses (Caffe's `GetLearningRate`).
    public var learningRate: Double {
        switch policy {
        case .fixed: baseLearningRate
        case .step(let stepSize, let gamma): baseLearningRate * pow(gamma, Double(iteration / stepSize))
        case .inverse(let gamma, let power): baseLearningRate * pow(1 + gamma * Double(iteration), -power)
        }
    }

    /// Applies one update from the parameters' diffs, then clears the diffs.
    public func step() {
        let rate = learningRate
        for (index, parameter) in parameters.enumerated() {
            let blob = parameter.blob
            let decay = Float(weightDecay) * parameter.decayMultiplier
            let localRate = Float(rate) * parameter.rateMultiplier
            let momentum = Float(momentum)
            let count = Swift.min(blob.count, blob.diff.count, history[index].count)
            blob.data.withUnsafeMutableBufferPointer { data in
                blob.diff.withUnsafeMutableBufferPointer { diff in
                    history[index].withUnsafeMutableBufferPointer { h in
                        for i in 0..<count {
                            let g = diff[i] + decay * data[i]
                            h[i] = momentum * h[i] + localRate * g
                            data[i] -= h[i]
                            diff[i] = 0
                        }
                    }
                }
            }
        }
        iteration += 1
    }
}
