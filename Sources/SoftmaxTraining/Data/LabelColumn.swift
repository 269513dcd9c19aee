/// Which column of a table holds the class labels.
public enum LabelColumn: Sendable, Equatable {
    /// The last column (the default: scikit-learn and UCI files put the label last).
    case last
    /// The first column (as in the Kaggle MNIST CSVs).
    case first
    /// A 0-based column index; negative indices count from the end (`-1` is the last column).
    case index(Int)
    /// The column with this name in the header.
    case name(String)
    /// No label column: every column is a feature (for prediction inputs).
    case none

    /// Parses a command-line argument: `last`, `first`, `none`, an integer (0-based, negative
    /// from the end), or otherwise a header name.
    ///
    /// - Parameter argument: the argument's text.
    public init(argument: String) {
        switch argument {
        case "last": self = .last
        case "first": self = .first
        case "none": self = .none
        default: self = Int(argument).map { .index($0) } ?? .name(argument)
        }
    }

    /// The 0-based column this names in a table, or `nil` for ``none``.
    ///
    /// - Throws: `DataError` when an index is out of range or a name is not in the header.
    func resolve(in table: CSVTable, source: String) throws -> Int? {
        let columns = table.columnCount
        switch self {
        case .none: return nil
        case .last: return columns - 1
        case .first: return 0
        case .index(let index):
            let resolved = index < 0 ? columns + index : index
            guard resolved >= 0 && resolved < columns else {
                throw DataError(
                    "\(source): label column \(index) is out of range: the file has \(columns) columns "
                        + "(0...\(columns - 1), or -\(columns)...-1 counting from the end)")
            }
            return resolved
        case .name(let name):
            guard let header = table.header else {
                throw DataError("\(source): label column '\(name)' is a name, but the file has no header row")
            }
            guard let resolved = header.firstIndex(of: name) else {
                let shown = header.prefix(20).map { "'\($0)'" }.joined(separator: ", ")
                let more = header.count > 20 ? ", … (\(header.count) in all)" : ""
                throw DataError("\(source): no column named '\(name)'; the header has \(shown)\(more)")
            }
            return resolved
        }
    }
}

extension LabelColumn {
    /// The spelling `init(argument:)` reads back: how the command line and a model's
    /// training record write the column.
    public var argument: String {
        switch self {
        case .last: "last"
        case .first: "first"
        case .none: "none"
        case .index(let i): String(i)
        case .name(let name): name
        }
    }
}
