import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

// FileIO on files, links and FIFOs the tests make in their own temporary directory: regular
// files are replaced atomically, links are followed, and nothing that is not a regular file is
// ever replaced.  No test touches a real /dev node.

/// A temporary directory of its own, removed by `cleanUp()`.
private struct Scratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-fileio-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// The names in the directory (a temporary file left behind would show here).
    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    func cleanUp() { try? FileManager.default.removeItem(atPath: path) }
}

private func contents(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

private func fileType(_ path: String) -> mode_t {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
}

private func permissions(_ path: String) -> mode_t {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
}

/// Reads a FIFO to its end on another thread while `body` writes it.  Were the FIFO replaced
/// instead of written (the regression these tests guard against), the reader would wait for a
/// writer for ever: it is given 30 s, then the test fails rather than hangs.
private func readingFIFO(_ path: String, while body: () throws -> Void) throws -> [UInt8] {
    nonisolated(unsafe) var received: [UInt8] = []
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        if let handle = FileHandle(forReadingAtPath: path) { received = [UInt8](handle.readDataToEndOfFile()) }
        done.signal()
    }
    try body()
    guard done.wait(timeout: .now() + 30) == .success else {
        Issue.record("nothing reached the reader of \(path) in 30 s")
        return []
    }
    return received
}

@Suite("FileIO: writes replace regular files only, reads take streams", .timeLimit(.minutes(2)))
struct FileIOTests {
    let payload: [UInt8] = Array("first part|".utf8)
    let tail: [UInt8] = Array((0..<1000).map { UInt8($0 % 251) })

    @Test("a new path is created with the umask's permissions, not a temporary file's 0600")
    func newFile() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        let path = dir.file("new.bin")
        try FileIO.write(payload, tail, to: path)
        #expect(try contents(path) == payload + tail)
        let mask = umask(0o022)
        umask(mask)
        #expect(permissions(path) == 0o666 & ~mask)
        #expect(try dir.names() == ["new.bin"])
    }

    @Test("an existing file is replaced whole, keeping its permissions, with nothing left beside it")
    func replacesRegularFile() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        let path = dir.file("old.bin")
        try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o4640)  // set-user-ID is not carried over to the new file
        try FileIO.write(payload, to: path)
        #expect(try contents(path) == payload)
        #expect(permissions(path) == 0o640)
        #expect(try dir.names() == ["old.bin"])
    }

    @Test("a symbolic link is followed: the target is replaced and the link stays a link")
    func followsLinks() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        let target = dir.file("target.bin")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: dir.file("link.bin"), withDestinationPath: "target.bin")
        try FileManager.default.createSymbolicLink(atPath: dir.file("chain.bin"), withDestinationPath: "link.bin")
        try FileIO.write(payload, to: dir.file("chain.bin"))
        #expect(fileType(dir.file("chain.bin")) == S_IFLNK)
        #expect(fileType(dir.file("link.bin")) == S_IFLNK)
        #expect(fileType(target) == S_IFREG)
        #expect(try contents(target) == payload)

        // A link to a file that does not exist yet: the file is created where the link points.
        try FileManager.default.createSymbolicLink(atPath: dir.file("dangling.bin"), withDestinationPath: "later.bin")
        try FileIO.write(tail, to: dir.file("dangling.bin"))
        #expect(fileType(dir.file("dangling.bin")) == S_IFLNK)
        #expect(try contents(dir.file("later.bin")) == tail)
        #expect(try dir.names() == ["chain.bin", "dangling.bin", "later.bin", "link.bin", "target.bin"])
    }

    @Test("a FIFO is written through and stays a FIFO; it reads as a stream")
    func fifos() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        let fifo = dir.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = try readingFIFO(fifo) { try FileIO.write(payload, tail, to: fifo) }
        #expect(received == payload + tail)
        #expect(fileType(fifo) == S_IFIFO)

        // Reading: a writer on another thread, the reader sees every byte (more than a pipe holds).
        let big = [UInt8]((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let writer = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            if let handle = FileHandle(forWritingAtPath: fifo) {
                handle.write(Data(big))
                try? handle.close()
            }
            writer.signal()
        }
        #expect(try FileIO.read(fifo) == big)
        #expect(writer.wait(timeout: .now() + 30) == .success)
        #expect(fileType(fifo) == S_IFIFO)
    }

    @Test("a descriptor path writes to the open descriptor; a write error is a FileError")
    func descriptors() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        let path = dir.file("fd.bin")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        try FileIO.write(payload, to: "/dev/fd/\(fd)")
        close(fd)
        #expect(try contents(path) == payload)

        // Opened for reading only: writing fails, and the error says why.
        let readOnly = open(path, O_RDONLY)
        defer { close(readOnly) }
        #expect(throws: FileError(path: "/proc/self/fd/\(readOnly)", operation: .write, reason: "bad file descriptor"))
        {
            try FileIO.write(payload, to: "/proc/self/fd/\(readOnly)")
        }
        #expect(try FileIO.read("/dev/fd/\(readOnly)") == payload)
        #expect(FileIO.descriptor(named: "/dev/fd/01", writing: true) == nil)
        #expect(FileIO.descriptor(named: "-", writing: true) == STDOUT_FILENO)
        #expect(FileIO.descriptor(named: "-", writing: false) == STDIN_FILENO)
    }

    @Test("directories and missing directories are errors that say so, and leave nothing")
    func pathErrors() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        #expect(throws: FileError(path: dir.path, operation: .write, reason: "is a directory")) {
            try FileIO.write(payload, to: dir.path)
        }
        #expect(throws: FileError(path: dir.path, operation: .read, reason: "is a directory")) {
            try FileIO.read(dir.path)
        }
        let missing = dir.file("none/out.bin")
        #expect(throws: FileError(path: missing, operation: .write, reason: "no such file or directory")) {
            try FileIO.write(payload, to: missing)
        }
        #expect(throws: FileError(path: missing, operation: .read, reason: "no such file or directory")) {
            try FileIO.read(missing)
        }
        let notDirectory = dir.file("plain")
        try FileIO.write(payload, to: notDirectory)
        #expect(throws: FileError(path: notDirectory + "/x", operation: .write, reason: "not a directory")) {
            try FileIO.write(payload, to: notDirectory + "/x")
        }
        #expect(try dir.names() == ["plain"])
        #expect(FileError(path: "-", operation: .read, reason: "x").description == "cannot read standard input: x")
    }

    @Test("the read limit: a regular file before reading, a stream as it arrives")
    func readLimit() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        let path = dir.file("big.bin")
        try Data(count: 100_000).write(to: URL(fileURLWithPath: path))
        #expect(try FileIO.read(path, limit: 100_000).count == 100_000)
        #expect(throws: SoftmaxError.self) { try FileIO.read(path, limit: 99_999) }

        let fifo = dir.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        // The reader stops early and closes: the writer's next write fails with EPIPE, not a signal.
        signal(SIGPIPE, SIG_IGN)
        let writer = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            if let handle = FileHandle(forWritingAtPath: fifo) {
                _ = try? handle.write(contentsOf: Data(count: 200_000))
                try? handle.close()
            }
            writer.signal()
        }
        #expect(throws: SoftmaxError.self) { try FileIO.read(fifo, limit: 150_000) }
        #expect(writer.wait(timeout: .now() + 30) == .success)
    }

    @Test("a file that may be written is written even where no temporary file may be made; one that may not is kept")
    func writePermissions() throws {
        let dir = try Scratch()
        defer {
            chmod(dir.path, 0o755)
            dir.cleanUp()
        }
        let readOnly = dir.file("read-only.bin")
        try FileIO.write(payload, to: readOnly)
        chmod(readOnly, 0o444)
        if geteuid() == 0 {
            // Root may write any file, as `>` and np.save may: it is replaced.
            try FileIO.write(tail, to: readOnly)
            #expect(try contents(readOnly) == tail)
        } else {
            #expect(throws: FileError(path: readOnly, operation: .write, reason: "permission denied")) {
                try FileIO.write(tail, to: readOnly)
            }
            #expect(try contents(readOnly) == payload)
        }
        // A writable file in a directory that is not (root ignores the directory's mode, and
        // the write is atomic then): the file is written in place.
        let writable = dir.file("writable.bin")
        try FileIO.write(payload, to: writable)
        chmod(dir.path, 0o555)
        try FileIO.write(tail, to: writable)
        #expect(try contents(writable) == tail)
        chmod(dir.path, 0o755)
        #expect(try dir.names() == ["read-only.bin", "writable.bin"])
    }

    @Test("a long name's temporary file fits the file system's limit of 255 bytes")
    func longNames() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        let name = String(repeating: "😀", count: 62) + ".npy"  // 252 bytes
        #expect(FileIO.temporaryNameStem(dir.file(name)).utf8.count <= 100)
        #expect(FileIO.temporaryNameStem("/a/b/short.npy") == "short.npy")
        try FileIO.write(payload, to: dir.file(name))
        #expect(try contents(dir.file(name)) == payload)
        #expect(try dir.names() == [name])
    }

    @Test("file identity sees through links, and is nil for streams and FIFOs")
    func identity() throws {
        let dir = try Scratch()
        defer { dir.cleanUp() }
        let file = dir.file("a.bin")
        try FileIO.write(payload, to: file)
        try FileManager.default.createSymbolicLink(atPath: dir.file("l.bin"), withDestinationPath: "a.bin")
        #expect(link(file, dir.file("hard.bin")) == 0)
        #expect(FileIO.fileIdentity(file) != nil)
        #expect(FileIO.fileIdentity(file) == FileIO.fileIdentity(dir.file("l.bin")))
        #expect(FileIO.fileIdentity(file) == FileIO.fileIdentity(dir.file("hard.bin")))
        #expect(
            FileIO.fileIdentity(file)
                == FileIO.fileIdentity(dir.path + "/./../" + (dir.path as NSString).lastPathComponent + "/a.bin"))
        #expect(FileIO.fileIdentity(dir.file("new.bin")) == FileIO.fileIdentity(dir.path + "/./new.bin"))
        #expect(FileIO.fileIdentity(dir.file("new.bin")) != FileIO.fileIdentity(file))
        #expect(mkfifo(dir.file("p"), 0o600) == 0)
        #expect(FileIO.fileIdentity(dir.file("p")) == nil)
        #expect(FileIO.fileIdentity("-") == nil)
        #expect(FileIO.fileIdentity("/dev/stdout") == nil)
        #expect(FileIO.fileIdentity(dir.path) == nil)
    }
}
