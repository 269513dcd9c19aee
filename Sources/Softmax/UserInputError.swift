/// An error caused by what a user supplied — a file, a shape, an option — rather than by a
/// bug: its `description` is one sentence that names the bad value and where it is, fit to
/// print after `error:`.
///
/// Every error type of the package that bad input can cause conforms (`SoftmaxError`,
/// `NPYError`, `FileError`, and in the other modules `LayerError`, `DataError`,
/// `DataRequestError`, `TrainingSettingError`, `ModelError`, `TrainingDiverged`), so a caller
/// reports them all with one `catch`:
///
/// ```swift
/// do { try run() } catch let error as any UserInputError { print("error: \(error)") }
/// ```
public protocol UserInputError: Error, CustomStringConvertible, Sendable {}

extension SoftmaxError: UserInputError {}
extension NPYError: UserInputError {}
extension FileError: UserInputError {}
