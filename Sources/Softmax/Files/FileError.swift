#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file that could not be read or written, with the reason as a person reads it.
///
/// `description` is the sentence the command-line tool prints after `error:`:
/// `cannot read 'data': is a directory`, `cannot write '/dev/full': no space left on device`.
public struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being done to the file.
    public enum Operation: String, Sendable {
        /// Opening or reading.
        case read
        /// Creating, writing or renaming into place.
        case write
    }

    /// The path as the caller gave it (`-` for a standard stream).
    public var path: String
    /// Reading or writing.
    public var operation: Operation
    /// Why, in lower case: `no such file or directory`, `permission denied`, `is a directory`.
    public var reason: String

    /// A failure of `operation` on `path` for `reason`.
    public init(path: String, operation: Operation, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    /// A failure whose reason is the system's text for `errno` value `code`.
    init(path: String, operation: Operation, errno code: Int32) {
        self.init(path: path, operation: operation, reason: Self.reason(errno: code))
    }

    /// The message the command-line tool prints after `error:`.
    public var description: String {
        "cannot \(operation.rawValue) \(FileIO.displayName(path, writing: operation == .write)): \(reason)"
    }

    /// `strerror`'s text with its first letter in lower case, as it reads after a colon.
    static func reason(errno code: Int32) -> String {
        let text = String(cString: strerror(code))
        guard let first = text.first else { return "error \(code)" }
        // Acronyms ("I/O error") keep their case.
        let second = text.dropFirst().first
        if let second, second.isUppercase || second == "/" { return text }
        return first.lowercased() + text.dropFirst()
    }
}
