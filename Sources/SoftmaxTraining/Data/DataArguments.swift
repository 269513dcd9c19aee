/// `HeaderMode` as the command line and model files spell it.
public typealias HeaderMode = CSVTable.HeaderMode

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

extension LabelColumn {
    /// The command-line spelling, which `init(argument:)` reads back.
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
