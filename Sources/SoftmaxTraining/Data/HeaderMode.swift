/// `CSVTable.HeaderMode`, as `DataRequest` and callers name it.
public typealias HeaderMode = CSVTable.HeaderMode

extension CSVTable {
    /// Whether the first row of a file is a header of column names.
    public enum HeaderMode: Sendable, Equatable {
        /// Decide from the first two rows: the first row is a header when one of its fields
        /// is not a number while the same field of the second row is one (so a text label
        /// column, which is text in every row, is no evidence either way).  A file with a
        /// single row has no header.
        case auto
        /// The first row is a header.
        case present
        /// Every row is data.
        case absent
    }
}

extension CSVTable.HeaderMode {
    /// `auto`, `yes` or `no`.
    public var argument: String {
        switch self {
        case .auto: "auto"
        case .present: "yes"
        case .absent: "no"
        }
    }

    /// Parses `auto`, `yes` or `no`.
    public init?(argument: String) {
        switch argument {
        case "auto": self = .auto
        case "yes": self = .present
        case "no": self = .absent
        default: return nil
        }
    }
}
