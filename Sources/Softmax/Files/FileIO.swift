#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file reads and writes with the conventions of Unix tools.
///
/// - `-` is standard input when reading and standard output when writing.
/// - A regular file (or a path that does not exist yet) is written atomically: a temporary file
///   in the same directory, renamed over the destination, so a failed run never leaves a
///   partial file.  A symbolic link is followed and its target replaced; the link stays.
/// - Anything else — a character device such as `/dev/null`, a FIFO, a socket, `/dev/stdout`
///   or `/dev/fd/N` — is written directly, never replaced: a rename would swap the device or
///   the system's link for a regular file.  A failed write (`/dev/full`) is a `FileError`.
/// - Inputs that are not regular files (FIFOs, `/dev/stdin`, process substitution) are read
///   as streams, up to ``ResourceLimits/maximumBytes``.
public enum FileIO {
    /// The path that names standard input (reading) or standard output (writing): `-`.
    public static let standardStream = "-"

    /// How a path is to be written.
    enum Destination: Equatable {
        /// An open descriptor of this process (`-`, `/dev/stdout`, `/dev/fd/N`): written to as is.
        case descriptor(Int32)
        /// A device, FIFO or socket: opened for writing, never created or replaced.
        case special(path: String)
        /// A regular file, or a new one, at this path (symbolic links resolved): written to a
        /// temporary file that is renamed over it.  `replacing` describes the file being
        /// replaced, `nil` for a new file.
        case regular(path: String, replacing: ReplacedFile?)
    }

    /// What a replacement keeps of the file it replaces: permissions (without set-user-ID,
    /// set-group-ID and sticky bits) and, where the process may set them, owner and group.
    struct ReplacedFile: Equatable {
        var mode: mode_t
        var owner: uid_t
        var group: gid_t

        init(_ info: stat) {
            (mode, owner, group) = (info.st_mode & 0o777, info.st_uid, info.st_gid)
        }
    }

    /// `path` in messages: quoted, or `standard input`/`standard output` for `-`.
    public static func displayName(_ path: String, writing: Bool = false) -> String {
        path == standardStream ? (writing ? "standard output" : "standard input") : "'\(path)'"
    }

    /// The descriptor a path names without opening anything, or `nil`: `-` (standard input or
    /// output), `/dev/stdin`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N`.
    ///
    /// Writing to these through the descriptor, rather than opening the path, keeps the
    /// caller's redirection as it is (`>>` still appends, a socket still works).
    static func descriptor(named path: String, writing: Bool) -> Int32? {
        switch path {
        case standardStream: return writing ? STDOUT_FILENO : STDIN_FILENO
        case "/dev/stdin": return STDIN_FILENO
        case "/dev/stdout": return STDOUT_FILENO
        case "/dev/stderr": return STDERR_FILENO
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                let number = path.dropFirst(prefix.count)
                if let fd = Int32(number), fd >= 0, String(fd) == number { return fd }
            }
            return nil
        }
    }

    /// Whether writing `path` goes to standard output (so a command's report must not).
    public static func writesToStandardOutput(_ path: String) -> Bool {
        descriptor(named: path, writing: true) == STDOUT_FILENO
    }

    /// Whether reading `path` reads standard input (`-`, `/dev/stdin`, `/dev/fd/0`).
    public static func readsStandardInput(_ path: String) -> Bool {
        descriptor(named: path, writing: false) == STDIN_FILENO
    }

    /// A key that is equal for two paths exactly when they name the same file, for files that
    /// are written by replacing them: an existing regular file by device and inode (so `.`,
    /// `..`, symbolic and hard links see through), a new one by its resolved directory and
    /// name.  `nil` for streams, devices, FIFOs and directories, which are never replaced.
    public static func fileIdentity(_ path: String) -> String? {
        guard descriptor(named: path, writing: true) == nil, descriptor(named: path, writing: false) == nil else {
            return nil
        }
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFREG else { return nil }
            return "file \(info.st_dev):\(info.st_ino)"
        }
        guard let target = try? danglingLinkTarget(path) else { return nil }
        guard let resolved = realpath(directory(of: target), nil) else { return "path \(target)" }
        defer { free(resolved) }
        return "path \(String(cString: resolved))/\(fileName(of: target))"
    }

    /// Retries `call` while it fails with `EINTR`.
    @inline(__always)
    static func retrying<R: BinaryInteger>(_ call: () -> R) -> R {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}

/// `read(2)`, named apart from `FileIO.read`.
@inline(__always)
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.read(fd, buffer, count)
    #elseif canImport(Musl)
        Musl.read(fd, buffer, count)
    #else
        Darwin.read(fd, buffer, count)
    #endif
}

/// `write(2)`, named apart from `FileIO.write`.
@inline(__always)
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
        Musl.write(fd, buffer, count)
    #else
        Darwin.write(fd, buffer, count)
    #endif
}
