#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension FileIO {
    /// Reads all of `path`: a regular file, or a stream (`-` for standard input, `/dev/stdin`,
    /// a FIFO, process substitution) read to its end.
    ///
    /// - Parameters:
    ///   - path: the file; `-` is standard input.
    ///   - limit: the most bytes accepted (default ``ResourceLimits/maximumBytes``).  A regular
    ///     file is checked against it before anything is read, a stream as it arrives.
    /// - Returns: the file's bytes.
    /// - Throws: `FileError` (`no such file or directory`, `is a directory`, `permission
    ///   denied`, …) or `SoftmaxError.tooLarge`.
    /// - Complexity: O(n) in the file's size.
    public static func read(_ path: String, limit: Int = ResourceLimits.maximumBytes) throws -> [UInt8] {
        let what = "reading \(displayName(path))"
        let fd: Int32
        let owned: Bool
        if let named = descriptor(named: path, writing: false) {
            (fd, owned) = (named, false)
        } else {
            fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
            guard fd >= 0 else { throw FileError(path: path, operation: .read, errno: errno) }
            owned = true
        }
        defer { if owned { _ = close(fd) } }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(path: path, operation: .read, errno: errno) }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { throw FileError(path: path, operation: .read, errno: EISDIR) }
        // A regular file's size is known: refuse it whole before reading.  Anything else (and a
        // file that grows while it is read) is bounded as it arrives.
        let expected = type == S_IFREG ? Int(info.st_size) : 0
        if expected > limit { throw SoftmaxError.tooLarge(what: what, bytes: expected, limit: limit) }

        var bytes = [UInt8](repeating: 0, count: Swift.max(expected + 1, 64 * 1024))
        var count = 0
        while true {
            if count == bytes.count {
                let grown = ResourceLimits.bytes(adding: bytes.count, bytes.count)
                if count >= limit {
                    throw SoftmaxError.tooLarge(what: what, bytes: grown, limit: limit)
                }
                bytes.append(contentsOf: repeatElement(0, count: Swift.min(grown, limit + 1) - bytes.count))
            }
            let received = bytes.withUnsafeMutableBytes { buffer in
                retrying { systemRead(fd, buffer.baseAddress! + count, buffer.count - count) }
            }
            if received < 0 { throw FileError(path: path, operation: .read, errno: errno) }
            if received == 0 { break }
            count += received
            if count > limit { throw SoftmaxError.tooLarge(what: what, bytes: count, limit: limit) }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }
}
