import Foundation
import Softmax
import Testing

// Bad .npy input gives the right NPYError, never a trap.

/// The error `NPYArray(npyBytes:)` throws for `bytes`, or nil when it reads them.
func npyError(_ bytes: [UInt8]) -> Error? {
    do {
        _ = try NPYArray(npyBytes: bytes)
        return nil
    } catch {
        return error
    }
}

private let goodHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
private let goodData = [Float](repeating: 1, count: 6).flatMap { littleEndianBytes($0.bitPattern) }

@Suite("NPY errors")
struct NPYErrorTests {
    @Test("not a .npy file")
    func notNPY() {
        #expect(npyError(Array("hello, world; this is text".utf8)) as? NPYError == .notNPY)
        #expect(npyError(Array("PK\u{3}\u{4} a zip file, as .npz would be".utf8)) as? NPYError == .notNPY)
        var wrongMagic = handBuiltNPY(header: goodHeader, data: goodData)
        wrongMagic[1] = UInt8(ascii: "n")
        #expect(npyError(wrongMagic) as? NPYError == .notNPY)
    }

    @Test("files that end early")
    func truncatedPrefix() {
        #expect(npyError([]) as? NPYError == .truncated(what: "magic string", expected: 6, available: 0))
        #expect(npyError([0x93, 0x4E]) as? NPYError == .truncated(what: "magic string", expected: 6, available: 2))
        let file = handBuiltNPY(header: goodHeader, data: goodData)
        #expect(npyError(Array(file[0..<7])) as? NPYError == .truncated(what: "version", expected: 2, available: 1))
        #expect(
            npyError(Array(file[0..<9])) as? NPYError == .truncated(what: "header length", expected: 2, available: 1))
        let v2 = handBuiltNPY(major: 2, header: goodHeader, data: goodData)
        #expect(
            npyError(Array(v2[0..<10])) as? NPYError == .truncated(what: "header length", expected: 4, available: 2))
    }

    @Test("header cut short")
    func truncatedHeader() {
        let file = handBuiltNPY(header: goodHeader, data: goodData)
        let headerLength = Int(file[8]) | Int(file[9]) << 8
        #expect(headerLength == 118)
        #expect(
            npyError(Array(file[0..<40])) as? NPYError
                == .truncated(what: "header", expected: headerLength, available: 30))
    }

    @Test("data cut short")
    func truncatedData() {
        let file = handBuiltNPY(header: goodHeader, data: goodData)
        #expect(
            npyError(Array(file.dropLast(4))) as? NPYError
                == .truncated(what: "data of shape (2, 3)", expected: 24, available: 20))
        let noData = handBuiltNPY(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", data: [])
        #expect(npyError(noData) as? NPYError == .truncated(what: "data of shape ()", expected: 8, available: 0))
    }

    @Test("a shape whose byte count overflows is refused, not trapped")
    func overflowingShape() {
        // 2^61 · 2 elements fit in Int, but not their bytes; 2^62 · 4 elements do not fit at all.
        let bytes = handBuiltNPY(
            header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2305843009213693952, 2), }", data: [])
        #expect(npyError(bytes) is NPYError)
        let count = handBuiltNPY(
            header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", data: [])
        guard case .malformedHeader? = npyError(count) as? NPYError else {
            Issue.record("expected malformedHeader, got \(String(describing: npyError(count)))")
            return
        }
        let huge = handBuiltNPY(
            header: "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", data: [])
        guard case .malformedHeader? = npyError(huge) as? NPYError else {
            Issue.record("expected malformedHeader, got \(String(describing: npyError(huge)))")
            return
        }
    }

    @Test(
        "malformed header dictionaries",
        arguments: [
            "{'descr': '<f4', 'fortran_order': False}",  // no shape
            "{'fortran_order': False, 'shape': (2, 3)}",  // no descr
            "{'descr': '<f4', 'shape': (2, 3)}",  // no fortran_order
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}",  // fortran_order not a bool
            "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}",  // shape a list
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5, 3)}",  // fractional dimension
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'a')}",  // string dimension
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, -3)}",  // negative dimensions
            "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}",  // missing comma
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",  // unclosed brace
            "{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3)}",  // broken quoting
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3",  // unclosed tuple
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}",  // missing tuple comma
            "('descr', '<f4')",  // not a dictionary
            "",  // empty
            "{",  // just a brace
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-, 3)}",  // a lone minus
        ])
    func malformedHeader(_ header: String) {
        let error = npyError(handBuiltNPY(header: header, data: goodData))
        guard case .malformedHeader(let reason)? = error as? NPYError else {
            Issue.record(
                "header \(header.debugDescription): expected malformedHeader, got \(String(describing: error))")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test(
        "unsupported dtypes",
        arguments: ["<c8", "<c16", "|b1", "|O", "<U3", "|S5", "<M8[ns]", "<f16", "|f4", "|i4", "f4", "", "<V8", "<i3"])
    func unsupportedType(_ descr: String) {
        let file = handBuiltNPY(
            header: "{'descr': '\(descr)', 'fortran_order': False, 'shape': (2, 3), }", data: goodData + goodData)
        #expect(npyError(file) as? NPYError == .unsupportedType(descr: descr))
        #expect(NPYError.unsupportedType(descr: descr).description.contains("'\(descr)'"))
    }

    @Test("structured dtypes are unsupported")
    func structuredType() {
        let file = handBuiltNPY(
            header: "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }", data: goodData)
        guard case .unsupportedType? = npyError(file) as? NPYError else {
            Issue.record("expected unsupportedType, got \(String(describing: npyError(file)))")
            return
        }
    }

    @Test("unsupported versions", arguments: [(UInt8(4), UInt8(0)), (0, 0), (1, 1), (2, 5), (255, 255)])
    func unsupportedVersion(_ major: UInt8, _ minor: UInt8) {
        let file = handBuiltNPY(major: major, minor: minor, header: goodHeader, data: goodData)
        #expect(npyError(file) as? NPYError == .unsupportedVersion(major: major, minor: minor))
        #expect(NPYError.unsupportedVersion(major: major, minor: minor).description.contains("\(major).\(minor)"))
    }

    @Test("reading elements as the wrong type")
    func typeMismatch() throws {
        let array = try NPYArray(shape: [2], scalars: [1.0, 2.0])
        #expect(throws: NPYError.typeMismatch(expected: "Float", actual: .float64)) {
            try array.scalars(as: Float.self)
        }
        #expect(throws: NPYError.typeMismatch(expected: "Int64", actual: .float64)) {
            try array.scalars(as: Int64.self)
        }
        #expect(try array.scalars(as: Double.self) == [1, 2])
    }

    @Test("a missing file, a missing directory and a directory give FileError with the reason")
    func ioErrors() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let missing = tmp.path("missing.npy")
        #expect(throws: FileError(path: missing, operation: .read, reason: "no such file or directory")) {
            try NPYArray(contentsOf: missing)
        }
        #expect(
            FileError(path: missing, operation: .read, reason: "no such file or directory").description
                == "cannot read '\(missing)': no such file or directory")
        let array = try NPYArray(shape: [1], scalars: [Float(1)])
        let badOut = tmp.path("no/such/dir/out.npy")
        #expect(throws: FileError(path: badOut, operation: .write, reason: "no such file or directory")) {
            try array.write(to: badOut)
        }
        #expect(!FileManager.default.fileExists(atPath: badOut))
        #expect(throws: FileError(path: tmp.url.path, operation: .read, reason: "is a directory")) {
            try NPYArray(contentsOf: tmp.url.path)
        }
        #expect(throws: FileError(path: tmp.url.path, operation: .write, reason: "is a directory")) {
            try array.write(to: tmp.url.path)
        }
    }
}
