import Softmax

/// Bad input found while reading or checking a data set (its files, features and labels).
/// A model file that does not fit together is a `ModelError`, a training setting out of range
/// a `TrainingSettingError`, and labels given where they cannot be used a `DataRequestError`.
///
/// The description is one line that names the file, and where it helps the line, column or
/// element, e.g. `digits.csv line 12, column 3: 'x' is not a number`.  The command-line tool
/// prints it after `error:`.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The message, without the `error:` prefix.
    public let description: String

    /// An error with `description`.
    public init(_ description: String) { self.description = description }
}

extension DataError: UserInputError {}
