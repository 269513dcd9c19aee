extension SGDSolver {
    /// A solver setting with a range rule.  The rules live here, once: `SGDSolver.init` applies
    /// them, and a caller that checks its own settings earlier (the trainer, before it reads any
    /// data) asks the same rule, so the two cannot disagree.
    public enum Setting: Sendable, CaseIterable {
        /// `base_lr`: positive and finite.
        case learningRate
        /// `momentum`: in `[0, 1)`.
        case momentum
        /// `weight_decay`: 0 or positive, finite.
        case weightDecay
        /// The `step` policy's `gamma`: positive and finite.
        case stepGamma

        /// The setting's name in messages: `learning rate`, `momentum`, `weight decay`,
        /// `step gamma`.
        public var name: String {
            switch self {
            case .learningRate: "learning rate"
            case .momentum: "momentum"
            case .weightDecay: "weight decay"
            case .stepGamma: "step gamma"
            }
        }

        /// What `value` breaks, or `nil` when the setting may take it.
        ///
        /// - Parameter value: A candidate value.
        /// - Returns: The requirement, worded to follow the value (`must be positive`), or `nil`.
        /// - Complexity: O(1).
        public func requirement(violatedBy value: Double) -> String? {
            switch self {
            case .learningRate, .stepGamma: value.isFinite && value > 0 ? nil : "must be positive"
            case .momentum: value.isFinite && value >= 0 && value < 1 ? nil : "must be in [0, 1)"
            case .weightDecay: value.isFinite && value >= 0 ? nil : "must be 0 or more"
            }
        }
    }
}
