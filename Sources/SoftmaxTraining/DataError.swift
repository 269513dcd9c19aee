import Softmax

/// Bad input found while reading or checking a data set, a model file or training options.
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
