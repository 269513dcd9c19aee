#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension FileIO {
    /// Writes `parts`, one after the other, as the whole contents of `path`.
    ///
    /// A regular file or a new path is replaced atomically (see ``FileIO``), keeping the
    /// permissions (and, where allowed, the owner) of the file it replaces; a symbolic link's
    /// target is replaced and the link kept; `-`, `/dev/stdout`, devices and FIFOs are written
    /// directly.  An existing file that the process may write but whose directory it may not
    /// (or that cannot be renamed over: a file bind-mounted into a container) is written in
    /// place instead, as `np.save` and the shell's `>` would — not atomically then.  A file the
    /// process may not write is refused (`permission denied`), not replaced.
    ///
    /// - Parameters:
    ///   - parts: the bytes, in order (a header and the data, without joining them first).
    ///   - path: the destination; `-` is standard output.
    /// - Throws: `FileError` naming `path`: `is a directory`, `no such file or directory` (a
    ///   missing directory), `permission denied`, `no space left on device`, … .  Nothing is
    ///   left behind at a regular destination when it throws.
    /// - Complexity: O(n) in the bytes written.
    public static func write(_ parts: [UInt8]..., to path: String) throws {
        switch try destination(of: path) {
        case .descriptor(let fd):
            // What `print` buffered comes first.
            if fd == STDOUT_FILENO { fflush(nil) }
            try writeAll(parts, to: fd, path: path)
        case .special(let device):
            // Opened first and checked on the descriptor: were the path replaced by a regular
            // file since `stat`, it is replaced in turn rather than written over in place.
            let fd = retrying { open(device, O_WRONLY | O_NOCTTY | O_CLOEXEC) }
            guard fd >= 0 else { throw FileError(path: path, operation: .write, errno: errno) }
            var info = stat()
            if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                _ = close(fd)
                return try replace(try resolvedPath(path), with: parts, replacing: ReplacedFile(info), path: path)
            }
            try writeAll(parts, toOwned: fd, path: path)
        case .regular(let target, let replaced):
            try replace(target, with: parts, replacing: replaced, path: path)
        }
    }

    /// How `path` is to be written: a descriptor, a device to write through, or a regular file
    /// (links resolved) to replace.
    static func destination(of path: String) throws -> Destination {
        if let fd = descriptor(named: path, writing: true) { return .descriptor(fd) }
        var info = stat()
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                return .regular(path: try resolvedPath(path), replacing: ReplacedFile(info))
            case S_IFDIR:
                throw FileError(path: path, operation: .write, errno: EISDIR)
            default:
                return .special(path: path)
            }
        }
        let code = errno
        guard code == ENOENT else { throw FileError(path: path, operation: .write, errno: code) }
        // Nothing there, or a symbolic link to nothing: create the file the link names, as
        // `cp` and the shell's `>` do.
        return .regular(path: try danglingLinkTarget(path), replacing: nil)
    }

    /// `path` with every symbolic link resolved (the file exists).
    private static func resolvedPath(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else { throw FileError(path: path, operation: .write, errno: errno) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The path a chain of symbolic links starting at `path` ends at, which does not exist;
    /// `path` itself when it is not a link.
    static func danglingLinkTarget(_ path: String) throws -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length >= 0 else { throw FileError(path: path, operation: .write, errno: errno) }
            let target = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = target.hasPrefix("/") ? target : directory(of: current) + "/" + target
        }
        throw FileError(path: path, operation: .write, errno: ELOOP)
    }

    /// The last component of `path` (the path itself when it has none, as `/`).
    static func fileName(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The directory part of `path`: `.` for a bare name, `/` for a file in the root.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Replaces the regular file `target` (or creates it) with `parts`: atomically through a
    /// temporary file, or in place when only the file itself may be written (see `write`).
    private static func replace(
        _ target: String, with parts: [[UInt8]], replacing replaced: ReplacedFile?, path: String
    )
        throws
    {
        // As `np.save` and `>`: a file the process may not write is not replaced either.
        if replaced != nil, access(target, W_OK) != 0 {
            throw FileError(path: path, operation: .write, errno: errno)
        }
        do {
            try replaceAtomically(target, with: parts, replacing: replaced, path: path)
        } catch let error as AtomicReplacementFailure {
            guard replaced != nil, [EACCES, EPERM, EBUSY, EXDEV].contains(error.code) else {
                throw FileError(path: path, operation: .write, errno: error.code)
            }
            try writeInPlace(target, with: parts, path: path)
        }
    }

    /// Why the temporary file could not be created or renamed (the caller decides whether to
    /// write in place).
    private struct AtomicReplacementFailure: Error {
        let code: Int32
    }

    /// Writes `parts` to a new temporary file beside `target` and renames it over `target`.
    ///
    /// - Throws: `AtomicReplacementFailure` when the temporary file cannot be created or
    ///   renamed; `FileError` when writing it fails.
    private static func replaceAtomically(
        _ target: String, with parts: [[UInt8]], replacing replaced: ReplacedFile?, path: String
    ) throws {
        let directory = directory(of: target)
        let name = temporaryNameStem(target)
        var generator = SystemRandomNumberGenerator()
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<100 {
            let tag = String(generator.next() as UInt64, radix: 36)
            temporary = "\(directory)/.\(name).\(tag).tmp"
            fd = retrying { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666) }
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw AtomicReplacementFailure(code: errno) }
        do {
            if let replaced {
                // Best effort: only root may give the file to another owner.
                _ = fchown(fd, replaced.owner, replaced.group)
                _ = fchmod(fd, replaced.mode)
            }
            try writeAll(parts, to: fd, path: path)
            guard close(fd) == 0 else {
                fd = -1
                throw FileError(path: path, operation: .write, errno: errno)
            }
            fd = -1
            guard rename(temporary, target) == 0 else { throw AtomicReplacementFailure(code: errno) }
        } catch {
            if fd >= 0 { _ = close(fd) }
            _ = unlink(temporary)
            throw error
        }
    }

    /// The target's name cut to at most 100 bytes of UTF-8 on a character boundary, so the
    /// hidden temporary name fits any file system's 255-byte limit.
    static func temporaryNameStem(_ target: String) -> String {
        var stem = ""
        for character in fileName(of: target) {
            guard stem.utf8.count + character.utf8.count <= 100 else { break }
            stem.append(character)
        }
        return stem
    }

    /// Truncates the existing regular file `target` and writes `parts` into it.
    private static func writeInPlace(_ target: String, with parts: [[UInt8]], path: String) throws {
        let fd = retrying { open(target, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC) }
        guard fd >= 0 else { throw FileError(path: path, operation: .write, errno: errno) }
        try writeAll(parts, toOwned: fd, path: path)
    }

    /// Writes `parts` to `fd` and closes it, whatever happens; a failed close is an error too
    /// (deferred write errors surface there on some file systems).
    private static func writeAll(_ parts: [[UInt8]], toOwned fd: Int32, path: String) throws {
        do { try writeAll(parts, to: fd, path: path) } catch {
            _ = close(fd)
            throw error
        }
        guard close(fd) == 0 || errno == EINTR else { throw FileError(path: path, operation: .write, errno: errno) }
    }

    /// Writes every byte of `parts` to `fd`, through short writes and interruptions.
    private static func writeAll(_ parts: [[UInt8]], to fd: Int32, path: String) throws {
        for part in parts {
            try part.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = retrying {
                        systemWrite(fd, raw.baseAddress! + offset, Swift.min(raw.count - offset, 1 << 30))
                    }
                    guard written > 0 else {
                        throw FileError(path: path, operation: .write, errno: written < 0 ? errno : EIO)
                    }
                    offset += written
                }
            }
        }
    }
}
