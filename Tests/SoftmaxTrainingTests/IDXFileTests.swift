import Foundation
import Softmax
import Testing

@testable import SoftmaxTraining

/// An IDX header: magic `00 00`, the type byte, the rank, big-endian dimensions.
func idxHeader(type: UInt8, shape: [UInt32]) -> [UInt8] {
    [0, 0, type, UInt8(shape.count)] + shape.flatMap(bigEndianBytes)
}

/// The four big-endian bytes of `value`.
func bigEndianBytes(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

@Suite("IDX files")
struct IDXFileTests {
    @Test func uint8ImagesIn3D() throws {
        // Two 2×3 "images", as in train-images-idx3-ubyte.
        let pixels: [UInt8] = [0, 1, 2, 253, 254, 255, 10, 20, 30, 40, 50, 60]
        let array = try IDXArray(bytes: idxHeader(type: 0x08, shape: [2, 2, 3]) + pixels, source: "images")
        #expect(array.shape == [2, 2, 3])
        #expect(array.values == pixels.map(Float.init))
    }

    @Test func float32Vector() throws {
        let values: [Float] = [1.5, -2, 0.25, .greatestFiniteMagnitude]
        let bytes = idxHeader(type: 0x0D, shape: [4]) + values.flatMap { bigEndianBytes($0.bitPattern) }
        let array = try IDXArray(bytes: bytes, source: "floats")
        #expect(array.shape == [4])
        #expect(array.values == values)
    }

    @Test func otherItemTypes() throws {
        let int8 = try IDXArray(bytes: idxHeader(type: 0x09, shape: [3]) + [0x7F, 0x80, 0xFF], source: "i8")
        #expect(int8.values == [127, -128, -1])
        let int16 = try IDXArray(bytes: idxHeader(type: 0x0B, shape: [2]) + [0x01, 0x02, 0xFF, 0xFE], source: "i16")
        #expect(int16.values == [258, -2])
        let int32 = try IDXArray(
            bytes: idxHeader(type: 0x0C, shape: [2]) + bigEndianBytes(100_000) + bigEndianBytes(UInt32(bitPattern: -7)),
            source: "i32")
        #expect(int32.values == [100_000, -7])
        let bits = (-0.375 as Double).bitPattern
        let float64 = try IDXArray(
            bytes: idxHeader(type: 0x0E, shape: [1, 1]) + bigEndianBytes(UInt32(bits >> 32))
                + bigEndianBytes(UInt32(bits & 0xFFFF_FFFF)),
            source: "f64")
        #expect(float64.shape == [1, 1])
        #expect(float64.values == [-0.375])
        // MNIST labels: 1-D uint8; and an empty array.
        #expect(try IDXArray(bytes: idxHeader(type: 0x08, shape: [3]) + [5, 0, 4], source: "l").values == [5, 0, 4])
        #expect(try IDXArray(bytes: idxHeader(type: 0x08, shape: [0, 28, 28]), source: "e").values == [])
    }

    @Test func wrongMagicAndTypeThrow() {
        #expect(throws: DataError("x: not an IDX file: the magic number starts with 1F 8B, expected 00 00")) {
            try IDXArray(bytes: [0x1f, 0x8b, 8, 0, 0, 0], source: "x")
        }
        #expect(
            throws: DataError(
                "x: unknown IDX item type 07 at byte 2 "
                    + "(expected 08 uint8, 09 int8, 0B int16, 0C int32, 0D float32 or 0E float64)")
        ) {
            try IDXArray(bytes: idxHeader(type: 0x07, shape: [1]) + [0], source: "x")
        }
        #expect(throws: DataError("x: not an IDX file: 3 bytes, shorter than the 4-byte magic number")) {
            try IDXArray(bytes: [0, 0, 8], source: "x")
        }
    }

    @Test func truncatedAndOverlongDataThrow() {
        #expect(throws: DataError("t: truncated: 5 bytes of data, expected 6 (2×3 uint8 items)")) {
            try IDXArray(bytes: idxHeader(type: 0x08, shape: [2, 3]) + [1, 2, 3, 4, 5], source: "t")
        }
        #expect(throws: DataError("t: truncated: 7 bytes of data, expected 8 (2 float32 items)")) {
            try IDXArray(bytes: idxHeader(type: 0x0D, shape: [2]) + [0, 0, 0, 0, 0, 0, 0], source: "t")
        }
        #expect(throws: DataError("t: 1 bytes after the data: 7 bytes of data, expected 6 (2×3 uint8 items)")) {
            try IDXArray(bytes: idxHeader(type: 0x08, shape: [2, 3]) + [1, 2, 3, 4, 5, 6, 7], source: "t")
        }
        #expect(throws: DataError("t: truncated IDX header: 3 dimensions need 16 bytes, the file has 12")) {
            try IDXArray(bytes: Array(idxHeader(type: 0x08, shape: [60000, 28, 28]).prefix(12)), source: "t")
        }
    }

    @Test func overflowingDimensionsThrow() {
        let huge = UInt32.max
        #expect(throws: DataError.self) {
            try IDXArray(bytes: idxHeader(type: 0x08, shape: [huge, huge, huge]), source: "o")
        }
        #expect(throws: DataError.self) {
            try IDXArray(bytes: idxHeader(type: 0x0E, shape: [huge, huge]), source: "o")
        }
        // Huge but not overflowing: a plain "truncated" error, and no attempt to allocate.
        #expect(throws: DataError("o: truncated: 0 bytes of data, expected 34359738360 (4294967295×2 float32 items)")) {
            try IDXArray(bytes: idxHeader(type: 0x0D, shape: [huge, 2]), source: "o")
        }
    }

    @Test func readsGzipFilesByPath() throws {
        let pixels = (0..<(3 * 28 * 28)).map { UInt8($0 % 256) }
        let path = temporaryPath("t10k-images-idx3-ubyte.gz")
        let file = gzipCompress(idxHeader(type: 0x08, shape: [3, 28, 28]) + pixels)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(file)))
        let array = try IDXArray(contentsOf: path)
        #expect(array.shape == [3, 28, 28])
        #expect(array.values == pixels.map(Float.init))
        #expect(
            throws: FileError(path: "/nonexistent/x-idx1-ubyte", operation: .read, reason: "no such file or directory")
        ) {
            try IDXArray(contentsOf: "/nonexistent/x-idx1-ubyte")
        }
    }
}
