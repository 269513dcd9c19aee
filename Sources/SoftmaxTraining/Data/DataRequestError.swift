import Softmax

/// A `DataRequest` whose parts do not go together, naming the request's properties — not
/// command-line options: a front end words it with its own names through
/// `description(naming:)` (the `softmax` tool says `--labels needs a data file`), and
/// `description` uses the property names (`labelsPath needs a data file`).
public enum DataRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request's properties that its errors name.
    public enum Setting: String, Sendable, CaseIterable {
        /// `DataRequest.labelsPath`.
        case labelsPath
        /// `DataRequest.labelColumn`.
        case labelColumn
    }

    /// Labels were given without a data file (the built-in sets carry their own).
    case labelsWithoutData
    /// Labels were given for a CSV file, which holds them in a column.
    case labelsForCSV
    /// The data at `source` has no labels (no masks, for segmentation) and none were given.
    case missingLabels(source: String, task: SoftmaxModel.Task)

    /// The message with each setting called by `name(setting)`.
    ///
    /// - Parameter name: What the caller calls each setting (a flag, a key).
    /// - Returns: One line, without the `error:` prefix.
    public func description(naming name: (Setting) -> String) -> String {
        switch self {
        case .labelsWithoutData: "\(name(.labelsPath)) needs a data file"
        case .labelsForCSV:
            "\(name(.labelsPath)) is for .npy and IDX data; a CSV file holds its labels in \(name(.labelColumn))"
        case .missingLabels(let source, .segmentation):
            "\(source): no masks (give them with \(name(.labelsPath)) MASKS.npy)"
        case .missingLabels(let source, .classification):
            "\(source): no labels (give them with \(name(.labelsPath)) LABELS.npy)"
        }
    }

    /// The message naming the `DataRequest` properties.
    public var description: String { description(naming: \.rawValue) }
}

extension DataRequestError: UserInputError {}
