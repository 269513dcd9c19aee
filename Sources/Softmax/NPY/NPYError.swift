/// Why a `.npy` file could not be read or written.
public enum NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The first bytes are not `\x93NUMPY`.
    case notNPY
    /// A format version other than 1.0, 2.0 or 3.0.
    case unsupportedVersion(major: UInt8, minor: UInt8)
    /// The file ends before the header or the data does.
    case truncated(what: String, expected: Int, available: Int)
    /// The header dictionary cannot be parsed or lacks a key.
    case malformedHeader(reason: String)
    /// The `descr` names a type this package does not read.
    case unsupportedType(descr: String)
    /// The elements are not of the requested type.
    case typeMismatch(expected: String, actual: NPYDataType)

    /// The message the command-line tool prints after `error:`.
    public var description: String {
        switch self {
        case .notNPY: "not a NumPy .npy file (the magic string \\x93NUMPY is missing)"
        case .unsupportedVersion(let major, let minor):
            "unsupported .npy format version \(major).\(minor) (1.0, 2.0 and 3.0 are read)"
        case .truncated(let what, let expected, let available):
            "truncated .npy file: the \(what) needs \(expected) bytes but only \(available) are left"
        case .malformedHeader(let reason): "malformed .npy header: \(reason)"
        case .unsupportedType(let descr):
            "unsupported .npy dtype '\(descr)' (supported: float16/32/64, int8/16/32/64, uint8/16/32/64)"
        case .typeMismatch(let expected, let actual): "expected \(expected) elements, the file holds \(actual.rawValue)"
        }
    }
}
