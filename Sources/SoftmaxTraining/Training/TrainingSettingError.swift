import Softmax

/// A training setting out of range, naming the `TrainingSettings` property — not a
/// command-line flag: a front end words it with its own name for the setting through
/// `description(naming:)` (the `softmax` tool says `--lr -1.0: must be positive`), and
/// `description` uses the property's name (`learningRate -1.0: must be positive`).
public struct TrainingSettingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong with the setting's value.
    public enum Problem: Equatable, Sendable {
        /// The value breaks its range; `requirement` follows the value (`must be positive`).
        case outOfRange(value: String, requirement: String)
        /// One element of a list breaks its rule; `problem` follows the element
        /// (`is not a finite non-negative weight`).
        case badElement(value: String, problem: String)
        /// A list has `count` values where `expected` are needed, one per `unit`
        /// (`classes`).
        case wrongCount(count: Int, expected: Int, unit: String)
    }

    /// The setting.
    public var setting: TrainingSettings.Setting
    /// What is wrong.
    public var problem: Problem

    /// An error for `setting`.
    ///
    /// - Parameters:
    ///   - setting: The setting whose value is bad.
    ///   - problem: What is wrong with it.
    public init(_ setting: TrainingSettings.Setting, _ problem: Problem) {
        self.setting = setting
        self.problem = problem
    }

    /// The message with the setting called `name`: `name value: requirement`,
    /// `name: element problem` or `name has 3 values for 4 classes`.
    ///
    /// - Parameter name: What the caller calls the setting (a flag, a key in a file).
    /// - Returns: One line, without the `error:` prefix.
    public func description(naming name: String) -> String {
        switch problem {
        case .outOfRange(let value, let requirement): "\(name) \(value): \(requirement)"
        case .badElement(let value, let problem): "\(name): \(value) \(problem)"
        case .wrongCount(let count, let expected, let unit): "\(name) has \(count) values for \(expected) \(unit)"
        }
    }

    /// The message naming the `TrainingSettings` property.
    public var description: String { description(naming: setting.rawValue) }
}

extension TrainingSettingError: UserInputError {}
