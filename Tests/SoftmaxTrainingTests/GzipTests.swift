import Foundation
import Softmax
import Testing

@testable import SoftmaxTraining

/// One gzip member holding `bytes`, made with the library's `gzip` (zlib's deflate), so the
/// tests need no `gzip` program.
func gzipCompress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
    do { return try gzip(bytes, level: level) } catch { preconditionFailure("gzip failed: \(error)") }
}

/// A path in a fresh temporary directory (removed with the process's temporary files).
func temporaryPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("SoftmaxTrainingTests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name).path
}

/// Bytes that compress but not to nothing: text with some variety.
func sampleText(lines: Int) -> [UInt8] {
    Array((0..<lines).map { "line \($0): \($0 * 7919 % 1000) apples, \($0 % 13) pears\n" }.joined().utf8)
}

@Suite("gzip")
struct GzipTests {
    @Test func roundTripsText() throws {
        let original = sampleText(lines: 2000)
        let compressed = gzipCompress(original)
        #expect(compressed.count < original.count / 2)
        #expect(try gunzip(compressed, source: "t.gz") == original)
    }

    @Test func roundTripsEmptyAndIncompressibleData() throws {
        #expect(try gunzip(gzipCompress([]), source: "empty.gz") == [])
        var state: UInt64 = 42
        let noise = (0..<100_000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        #expect(try gunzip(gzipCompress(noise, level: 0), source: "stored.gz") == noise)
        #expect(try gunzip(gzipCompress(noise, level: 9), source: "noise.gz") == noise)
    }

    @Test func inflatesConcatenatedMembersAndGrowsTheOutput() throws {
        // The trailer only gives the last member's size (10 bytes), so the 3 MB first member
        // needs the output buffer to grow many times.
        let big = [UInt8](repeating: 7, count: 3_000_000) + sampleText(lines: 100)
        let small = Array("0123456789".utf8)
        let joined = gzipCompress(big) + gzipCompress(small) + gzipCompress([]) + gzipCompress(small)
        #expect(try gunzip(joined, source: "cat.gz") == big + small + small)
    }

    @Test func ignoresZeroPaddingAfterTheLastMember() throws {
        let original = sampleText(lines: 10)
        #expect(try gunzip(gzipCompress(original) + [0, 0, 0, 0, 0, 0, 0, 0], source: "padded.gz") == original)
    }

    @Test func truncatedStreamThrows() {
        let compressed = gzipCompress(sampleText(lines: 500))
        for keep in [10, compressed.count / 2, compressed.count - 4, compressed.count - 1] {
            #expect {
                try gunzip(Array(compressed.prefix(keep)), source: "cut.gz")
            } throws: { error in
                let message = (error as? DataError)?.description ?? ""
                return message.hasPrefix("cut.gz: not a valid gzip stream (") && message.contains("truncated")
            }
        }
        // A truncated second member too.
        let two = gzipCompress(sampleText(lines: 5)) + gzipCompress(sampleText(lines: 5)).dropLast(3)
        #expect(throws: DataError.self) { try gunzip(two, source: "cut2.gz") }
    }

    @Test func corruptedBytesThrow() {
        let compressed = gzipCompress(sampleText(lines: 500))
        // A flipped bit in the deflate data: bad codes or a CRC mismatch, either way an error.
        for position in [12, compressed.count / 2, compressed.count - 12] {
            var damaged = compressed
            damaged[position] ^= 0x10
            #expect(throws: DataError.self) { try gunzip(damaged, source: "bad.gz") }
        }
        // The stored CRC itself.
        var badChecksum = compressed
        badChecksum[compressed.count - 6] ^= 0xFF
        #expect {
            try gunzip(badChecksum, source: "bad.gz")
        } throws: { error in
            (error as? DataError)?.description.hasPrefix("bad.gz: not a valid gzip stream (incorrect data check")
                == true
        }
        // Garbage after a complete member is not another member.
        #expect {
            try gunzip(compressed + Array("junk".utf8), source: "junk.gz")
        } throws: { error in
            (error as? DataError)?.description.hasPrefix("junk.gz: not a valid gzip stream (") == true
        }
    }

    @Test func rejectsDataWithoutTheMagicNumber() {
        #expect(throws: DataError("x: not a valid gzip stream (no gzip magic number 1f 8b at byte 0)")) {
            try gunzip(Array("hello".utf8), source: "x")
        }
        #expect(throws: DataError.self) { try gunzip([], source: "x") }
        #expect(throws: DataError.self) { try gunzip([0x1f, 0x8b], source: "x") }
    }

    @Test func recognisesTheMagicNumber() {
        #expect(isGzip([0x1f, 0x8b, 8]))
        #expect(isGzip(gzipCompress([1, 2, 3])))
        #expect(!isGzip([0x1f]))
        #expect(!isGzip([]))
        #expect(!isGzip(Array("1f8b".utf8)))
    }

    @Test func readsPlainAndGzipFilesByContent() throws {
        let text = sampleText(lines: 50)
        let plain = temporaryPath("plain.csv")
        let packed = temporaryPath("packed.csv")  // gzip without a .gz name
        #expect(FileManager.default.createFile(atPath: plain, contents: Data(text)))
        #expect(FileManager.default.createFile(atPath: packed, contents: Data(gzipCompress(text))))
        #expect(try readDataFile(plain) == text)
        #expect(try readDataFile(packed) == text)

        let empty = temporaryPath("empty")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(try readDataFile(empty) == [])
    }

    @Test func unreadableFilesThrowWithTheReason() {
        let missing = temporaryPath("missing.csv")
        #expect(throws: FileError(path: missing, operation: .read, reason: "no such file or directory")) {
            try readDataFile(missing)
        }
        let directory = (missing as NSString).deletingLastPathComponent
        #expect(throws: FileError(path: directory, operation: .read, reason: "is a directory")) {
            try readDataFile(directory)
        }

        let corrupt = temporaryPath("corrupt.gz")
        #expect(FileManager.default.createFile(atPath: corrupt, contents: Data([0x1f, 0x8b, 8, 0, 1, 2])))
        #expect {
            try readDataFile(corrupt)
        } throws: { error in
            (error as? DataError)?.description.hasPrefix("\(corrupt): not a valid gzip stream") == true
        }
    }

    @Test func embeddedDigitsInflateToTheCSV() throws {
        let csv = try gunzip(EmbeddedData.digitsCSVGzip, source: "digits")
        let table = try CSVTable.parse(csv, source: "digits")
        #expect(table.header == nil)
        #expect(table.rowCount == 1797)
        #expect(table.columnCount == 65)
        let data = try table.labeledFeatures(labelColumn: .last, source: "digits")
        #expect(data.rows == 1797)
        #expect(data.columns == 64)
        #expect(data.features.count == 1797 * 64)
        #expect(data.features.allSatisfy { $0 >= 0 && $0 <= 16 && $0 == $0.rounded() })
        #expect(Set(data.labels ?? []) == Set((0...9).map(String.init)))
        #expect(data.featureNames == nil)
    }
}
