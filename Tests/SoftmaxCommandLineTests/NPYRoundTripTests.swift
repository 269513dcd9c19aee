import Foundation
import Softmax
import Testing

// Writing with NPYArray(shape:scalars:) + npyBytes() and reading back with
// NPYArray(npyBytes:), for every element type; the layout of written files.

/// The element types Swift can build arrays of here: every one, less `float16` where the
/// platform has no `Float16` (macOS on Intel) — a compile-time condition.
let buildableTypes: [NPYDataType] = {
    #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
        NPYDataType.allCases.filter { $0 != .float16 }
    #else
        NPYDataType.allCases
    #endif
}()

/// Sample values of each type (extremes included) as an array of shape (2, 3).
///
/// - Throws: `NoFloat16` for `float16` where `buildableTypes` leaves it out.
func sampleArray(_ type: NPYDataType) throws -> (array: NPYArray, values: [Double], bitPatterns: [[UInt8]]) {
    func make<T: NPYElement>(_ scalars: [T], _ toDouble: (T) -> Double, _ bits: (T) -> [UInt8]) throws
        -> (NPYArray, [Double], [[UInt8]])
    {
        (try NPYArray(shape: [2, 3], scalars: scalars), scalars.map(toDouble), scalars.map(bits))
    }
    switch type {
    case .float16:
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            let s: [Float16] = [1.5, -0.25, 65504, -.infinity, 0x1p-24, -0]
            return try make(s, { Double($0) }, { littleEndianBytes($0.bitPattern) })
        #else
            throw NoFloat16()
        #endif
    case .float32:
        let s: [Float] = [1.5, -0.1, .greatestFiniteMagnitude, .infinity, .leastNonzeroMagnitude, -0]
        return try make(s, { Double($0) }, { littleEndianBytes($0.bitPattern) })
    case .float64:
        let s: [Double] = [.pi, -1e-300, .greatestFiniteMagnitude, -.infinity, .leastNonzeroMagnitude, 42]
        return try make(s, { $0 }, { littleEndianBytes($0.bitPattern) })
    case .int8:
        let s: [Int8] = [.min, -1, 0, 1, 100, .max]
        return try make(s, { Double($0) }, { littleEndianBytes($0) })
    case .int16:
        let s: [Int16] = [.min, -300, 0, 1, 30000, .max]
        return try make(s, { Double($0) }, { littleEndianBytes($0) })
    case .int32:
        let s: [Int32] = [.min, -70000, 0, 1, 1 << 30, .max]
        return try make(s, { Double($0) }, { littleEndianBytes($0) })
    case .int64:
        let s: [Int64] = [-(1 << 53), -1, 0, 1, 1 << 40, 1 << 53]
        return try make(s, { Double($0) }, { littleEndianBytes($0) })
    case .uint8:
        let s: [UInt8] = [0, 1, 7, 128, 254, .max]
        return try make(s, { Double($0) }, { littleEndianBytes($0) })
    case .uint16:
        let s: [UInt16] = [0, 1, 255, 256, 40000, .max]
        return try make(s, { Double($0) }, { littleEndianBytes($0) })
    case .uint32:
        let s: [UInt32] = [0, 1, 65536, 1 << 31, 3_000_000_000, .max]
        return try make(s, { Double($0) }, { littleEndianBytes($0) })
    case .uint64:
        let s: [UInt64] = [0, 1, 1 << 32, 1 << 52, 1 << 63, 1 << 53]
        return try make(s, { Double($0) }, { littleEndianBytes($0) })
    }
}

/// `sampleArray(.float16)` on a platform without `Float16`.
struct NoFloat16: Error {}

/// NumPy's `descr` for a little-endian machine.
func expectedDescr(_ type: NPYDataType) -> String {
    switch type {
    case .float16: "<f2"
    case .float32: "<f4"
    case .float64: "<f8"
    case .int8: "|i1"
    case .int16: "<i2"
    case .int32: "<i4"
    case .int64: "<i8"
    case .uint8: "|u1"
    case .uint16: "<u2"
    case .uint32: "<u4"
    case .uint64: "<u8"
    }
}

/// The parts of a written file: version, header text (with padding), data.
func splitNPY(_ file: [UInt8]) -> (major: UInt8, minor: UInt8, headerLength: Int, header: String, data: [UInt8])? {
    guard file.count >= 10, Array(file[0..<6]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] else { return nil }
    let lengthBytes = file[6] == 1 ? 2 : 4
    var length = 0
    for k in 0..<lengthBytes { length |= Int(file[8 + k]) << (8 * k) }
    let start = 8 + lengthBytes
    guard file.count >= start + length else { return nil }
    let header = String(decoding: file[start..<(start + length)], as: UTF8.self)
    return (file[6], file[7], length, header, Array(file[(start + length)...]))
}

@Suite("NPY round trip and written layout")
struct NPYRoundTripTests {
    @Test("every element type round-trips through npyBytes()", arguments: buildableTypes)
    func roundTrip(_ type: NPYDataType) throws {
        let (array, values, bits) = try sampleArray(type)
        #expect(array.dataType == type)
        #expect(array.count == 6)
        let file = array.npyBytes()
        let back = try NPYArray(npyBytes: file)
        #expect(back == array)
        #expect(back.dataType == type)
        #expect(back.shape == [2, 3])
        #expect(back.doubles() == values)

        // The file itself: NumPy's header for this type and the values' little-endian bytes.
        let parts = try #require(splitNPY(file))
        #expect(
            parts.header.hasPrefix("{'descr': '\(expectedDescr(type))', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(parts.data == bits.flatMap { $0 })
    }

    @Test("write(to:) and init(contentsOf:) round-trip", arguments: buildableTypes)
    func fileRoundTrip(_ type: NPYDataType) throws {
        let (array, values, _) = try sampleArray(type)
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let path = tmp.path("a.npy")
        try array.write(to: path)
        let back = try NPYArray(contentsOf: path)
        #expect(back == array)
        #expect(back.doubles() == values)
    }

    @Test(
        "written headers are padded to a multiple of 64 and end with a newline",
        arguments: [
            [], [5], [0, 3], [2, 3], [7, 1, 9], [1, 2, 3, 4, 5, 6, 7, 8], [123_456_789, 0],
        ])
    func headerPadding(_ shape: [Int]) throws {
        for type in [NPYDataType.float32, .uint8, .int64] {
            let count = shape.contains(0) ? 0 : shape.reduce(1, *)
            let array = try NPYArray(shape: shape, scalars: [Int64](repeating: 3, count: count))
            var typed = array
            typed.dataType = type
            typed.bytes = [UInt8](repeating: 0, count: count * type.itemSize)
            let file = typed.npyBytes()
            let parts = try #require(splitNPY(file))
            #expect(parts.major == 1 && parts.minor == 0)
            #expect((10 + parts.headerLength) % 64 == 0, "header of \(shape) \(type)")
            #expect(parts.header.last == "\n")
            #expect(parts.header.dropLast().allSatisfy { $0 != "\n" })
            // The padding is spaces between the dictionary and the newline.
            let dict = parts.header.prefix { $0 != "}" } + "}"
            #expect(parts.header.dropFirst(dict.count).dropLast().allSatisfy { $0 == " " })
            #expect(parts.data.count == count * type.itemSize)
            #expect(try NPYArray(npyBytes: file) == typed)
        }
    }

    @Test("0-d, 1-d and empty shapes are written as NumPy tuples")
    func shapeTuples() throws {
        let cases: [([Int], String)] = [([], "()"), ([5], "(5,)"), ([0, 3], "(0, 3)"), ([2, 1, 4], "(2, 1, 4)")]
        for (shape, tuple) in cases {
            let count = shape.contains(0) ? 0 : shape.reduce(1, *)
            let array = try NPYArray(shape: shape, scalars: (0..<count).map { Double($0) + 0.5 })
            let parts = try #require(splitNPY(array.npyBytes()))
            #expect(parts.header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': \(tuple), }"))
            let back = try NPYArray(npyBytes: array.npyBytes())
            #expect(back.shape == shape)
            #expect(back.doubles() == (0..<count).map { Double($0) + 0.5 })
        }
    }

    @Test("a header too long for version 1.0 is written as version 2.0; over 64 dimensions it is not read back")
    func longHeaderUsesVersion2() throws {
        // A shape of many 1s makes a long header while keeping one element.  Only shapes of
        // more than NumPy's 64 dimensions make headers that long, and the reader refuses those
        // as NumPy does; the version-2 reading itself is covered by the hand-built files.
        var versions: Set<UInt8> = []
        for ones in [10, 21_800, 21_820, 21_823, 21_824, 21_830, 25_000] {
            let shape = [Int](repeating: 1, count: ones)
            let array = try NPYArray(shape: shape, scalars: [Float(2.5)])
            let file = array.npyBytes()
            let parts = try #require(splitNPY(file), "\(ones) ones")
            versions.insert(parts.major)
            let dictLength = parts.header.trimmingCharacters(in: .whitespacesAndNewlines).utf8.count
            if parts.major == 1 {
                #expect(parts.headerLength <= 65535)
                #expect((10 + parts.headerLength) % 64 == 0)
            } else {
                #expect(parts.major == 2 && parts.minor == 0)
                // Version 2.0 only when 1.0 cannot (or can only just) hold the padded header.
                #expect(dictLength + 11 + 64 > 65535, "\(ones) ones: version 2 for a header that fits version 1")
                #expect((12 + parts.headerLength) % 64 == 0)
            }
            #expect(parts.header.last == "\n")
            if ones > NPYArray.maximumRank {
                #expect(
                    throws: NPYError.malformedHeader(
                        reason: "the shape has \(ones) dimensions; NumPy arrays have at most 64")
                ) {
                    try NPYArray(npyBytes: file)
                }
            }
        }
        #expect(versions == [1, 2])
        for ones in [1, 63, 64] {
            let shape = [Int](repeating: 1, count: ones)
            let back = try NPYArray(npyBytes: try NPYArray(shape: shape, scalars: [Float(2.5)]).npyBytes())
            #expect(back.shape == shape)
            #expect(back.doubles() == [2.5])
        }
    }

    @Test("NPYArray.doubles() converts every integer type by value")
    func doublesByValue() throws {
        for type in integerTypes + floatTypes {
            let array = try labelArray(type, shape: [4], [0, 1, 2, 100])
            #expect(array.doubles() == [0, 1, 2, 100], "\(type)")
        }
    }

    @Test("NPYArray(shape:scalars:) refuses a count that does not match the shape")
    func countMismatch() {
        #expect(throws: SoftmaxError.self) { try NPYArray(shape: [2, 3], scalars: [Float](repeating: 0, count: 5)) }
        #expect(throws: SoftmaxError.self) { try NPYArray(shape: [-1, 3], scalars: [Float](repeating: 0, count: 3)) }
        #expect(throws: Never.self) { try NPYArray(shape: [0, 3], scalars: [Float]()) }
    }
}
