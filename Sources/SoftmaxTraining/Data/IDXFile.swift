/// An array read from an IDX file, the format of the MNIST and Fashion-MNIST distributions
/// (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, …), converted to `Float`.
///
/// The format: two zero bytes, a type byte (`0x08` uint8, `0x09` int8, `0x0B` int16, `0x0C`
/// int32, `0x0D` float32, `0x0E` float64), a byte with the number of dimensions, that many
/// big-endian `UInt32` sizes, then the items, big-endian, row-major.
public struct IDXArray: Sendable {
    /// The sizes of the dimensions, outermost first (`[60000, 28, 28]` for MNIST images).
    public var shape: [Int]
    /// The items, row-major, converted to `Float` (exactly for uint8, int8 and int16).
    public var values: [Float]

    /// An array with the given shape and values; the caller checks that the counts agree.
    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    /// Reads an IDX file, gzip-compressed or not (`train-images-idx3-ubyte.gz` works as is).
    ///
    /// - Parameter path: the file.
    /// - Throws: `DataError` when the file cannot be read, is corrupt gzip, or is not a valid
    ///   IDX file (see ``init(bytes:source:)``).
    public init(contentsOf path: String) throws {
        try self.init(bytes: readDataFile(path), source: path)
    }

    /// Parses the bytes of an IDX file.
    ///
    /// - Parameters:
    ///   - bytes: the whole file, decompressed.
    ///   - source: the file's name, for error messages.
    /// - Throws: `DataError` when the magic number or the type byte is wrong, the header is
    ///   cut short, the product of the dimensions overflows, or the data is shorter
    ///   (`"<source>: truncated: 100 bytes of data, expected 784"`) or longer than the
    ///   dimensions say.
    public init(bytes: [UInt8], source: String) throws {
        guard bytes.count >= 4 else {
            throw DataError("\(source): not an IDX file: \(bytes.count) bytes, shorter than the 4-byte magic number")
        }
        guard bytes[0] == 0 && bytes[1] == 0 else {
            throw DataError(
                "\(source): not an IDX file: the magic number starts with \(hex(bytes[0])) \(hex(bytes[1])), "
                    + "expected 00 00")
        }
        guard let type = IDXItemType(rawValue: bytes[2]) else {
            throw DataError(
                "\(source): unknown IDX item type \(hex(bytes[2])) at byte 2 "
                    + "(expected 08 uint8, 09 int8, 0B int16, 0C int32, 0D float32 or 0E float64)")
        }
        let rank = Int(bytes[3])
        let dataStart = 4 + 4 * rank
        guard bytes.count >= dataStart else {
            throw DataError(
                "\(source): truncated IDX header: \(rank) dimensions need \(dataStart) bytes, the file has \(bytes.count)"
            )
        }

        var shape: [Int] = []
        var count = 1
        for axis in 0..<rank {
            let offset = 4 + 4 * axis
            let size = Int(bigEndianUInt32(bytes, at: offset))
            shape.append(size)
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw DataError(
                    "\(source): the IDX dimensions \(shapeText(shape))… overflow Int (dimension \(axis) at byte \(offset))"
                )
            }
            count = product
        }
        let (expected, overflow) = count.multipliedReportingOverflow(by: type.itemSize)
        guard !overflow else {
            throw DataError("\(source): the IDX dimensions \(shapeText(shape)) need more bytes than Int can count")
        }
        let actual = bytes.count - dataStart
        guard actual >= expected else {
            throw DataError(
                "\(source): truncated: \(actual) bytes of data, expected \(expected) "
                    + "(\(shapeText(shape)) \(type.name) items)")
        }
        guard actual == expected else {
            throw DataError(
                "\(source): \(actual - expected) bytes after the data: \(actual) bytes of data, expected \(expected) "
                    + "(\(shapeText(shape)) \(type.name) items)")
        }

        self.shape = shape
        self.values = bytes.withUnsafeBufferPointer { buffer in
            type.decode(UnsafeBufferPointer(rebasing: buffer[dataStart...]), count: count)
        }
    }
}

/// The item types of the IDX format, by their type byte.
private enum IDXItemType: UInt8 {
    case uint8 = 0x08
    case int8 = 0x09
    case int16 = 0x0B
    case int32 = 0x0C
    case float32 = 0x0D
    case float64 = 0x0E

    /// Bytes per item.
    var itemSize: Int {
        switch self {
        case .uint8, .int8: 1
        case .int16: 2
        case .int32, .float32: 4
        case .float64: 8
        }
    }

    /// The type's name for messages.
    var name: String { "\(self)" }

    /// `count` big-endian items from `data` (which holds exactly `count × itemSize` bytes) as
    /// `Float`s.
    func decode(_ data: UnsafeBufferPointer<UInt8>, count: Int) -> [Float] {
        switch self {
        case .uint8: return data.map { Float($0) }
        case .int8: return data.map { Float(Int8(bitPattern: $0)) }
        case .int16:
            return (0..<count).map { i in Float(Int16(bitPattern: UInt16(data[2 * i]) << 8 | UInt16(data[2 * i + 1]))) }
        case .int32:
            return (0..<count).map { i in Float(Int32(bitPattern: bigEndianUInt32(data, at: 4 * i))) }
        case .float32:
            return (0..<count).map { i in Float(bitPattern: bigEndianUInt32(data, at: 4 * i)) }
        case .float64:
            return (0..<count).map { i in
                let bits = UInt64(bigEndianUInt32(data, at: 8 * i)) << 32 | UInt64(bigEndianUInt32(data, at: 8 * i + 4))
                return Float(Double(bitPattern: bits))
            }
        }
    }
}

/// The big-endian `UInt32` at `offset` (the caller has checked the four bytes exist).
@inline(__always)
private func bigEndianUInt32<Bytes: RandomAccessCollection>(_ bytes: Bytes, at offset: Int) -> UInt32
where Bytes.Element == UInt8, Bytes.Index == Int {
    let base = bytes.startIndex + offset
    return UInt32(bytes[base]) << 24 | UInt32(bytes[base + 1]) << 16 | UInt32(bytes[base + 2]) << 8
        | UInt32(bytes[base + 3])
}

/// `0A`-style two-digit hex for messages.
private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return digits.count == 1 ? "0" + digits : digits
}

/// `60000×28×28`-style text for a shape.
private func shapeText(_ shape: [Int]) -> String {
    shape.map(String.init).joined(separator: "×")
}
