/// An array read from or to be written to a NumPy `.npy` file: element type, shape, and the
/// elements' bytes in native byte order and C order.
///
/// Reads format versions 1.0, 2.0 and 3.0, little- and big-endian, C or Fortran order
/// (Fortran-order data is reordered to C order).  Writes version 1.0 (2.0 when the header
/// needs it) in native byte order.
public struct NPYArray: Sendable, Equatable {
    /// The element type.
    public var dataType: NPYDataType
    /// The dimensions; `[]` for a 0-d array (one element).
    public var shape: [Int]
    /// `shape`'s element count times the item size, native byte order, C order.
    public var bytes: [UInt8]

    /// The number of elements.
    public var count: Int { bytes.count / dataType.itemSize }

    /// An array of `scalars` with `shape`.
    ///
    /// - Throws: `SoftmaxError` when the shape is invalid or does not match the count.
    public init<T: NPYElement>(shape: [Int], scalars: [T]) throws {
        try checkCount(scalars.count, try Layout.elementCount(shape), "array")
        self.dataType = T.npyDataType
        self.shape = shape
        self.bytes = scalars.withUnsafeBytes { Array($0) }
    }

    /// Parses the contents of a `.npy` file.
    ///
    /// - Throws: `NPYError` naming what is wrong: magic, version, truncation, header, dtype.
    public init(npyBytes file: [UInt8]) throws {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard file.count >= 6 else {
            throw NPYError.truncated(what: "magic string", expected: 6, available: file.count)
        }
        guard Array(file[0..<6]) == magic else { throw NPYError.notNPY }
        guard file.count >= 8 else { throw NPYError.truncated(what: "version", expected: 2, available: file.count - 6) }
        let (major, minor) = (file[6], file[7])
        guard (1...3).contains(major), minor == 0 else { throw NPYError.unsupportedVersion(major: major, minor: minor) }
        let lengthBytes = major == 1 ? 2 : 4
        guard file.count >= 8 + lengthBytes else {
            throw NPYError.truncated(what: "header length", expected: lengthBytes, available: file.count - 8)
        }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(file[8 + k]) << (8 * k) }
        let headerStart = 8 + lengthBytes
        // NumPy writes headers of well under 1 kB (and its reader refuses more than 10000 bytes
        // by default); a megabyte is generous and keeps a crafted header from costing much.
        guard headerLength <= Self.maximumHeaderLength else {
            throw NPYError.malformedHeader(
                reason:
                    "the header is \(headerLength) bytes, more than the \(Self.maximumHeaderLength) this reader accepts"
            )
        }
        guard file.count - headerStart >= headerLength else {
            throw NPYError.truncated(what: "header", expected: headerLength, available: file.count - headerStart)
        }
        let headerBytes = file[headerStart..<(headerStart + headerLength)]
        // Versions 1 and 2 are Latin-1; every byte NumPy writes there is ASCII.  Version 3 is UTF-8.
        let header = try NPYHeader(parsing: String(decoding: headerBytes, as: UTF8.self))
        guard let (type, bigEndian) = NPYDataType.parse(descr: header.descr) else {
            throw NPYError.unsupportedType(descr: header.descr)
        }
        let count: Int
        do { count = try Layout.elementCount(header.shape) } catch let error as SoftmaxError {
            throw NPYError.malformedHeader(reason: error.description)
        }
        try Self.checkNumPyCanHold(header.shape, itemSize: type.itemSize, type: type)
        let byteCount = count * type.itemSize
        let dataStart = headerStart + headerLength
        guard file.count - dataStart >= byteCount else {
            throw NPYError.truncated(
                what: "data of shape \(SoftmaxError.shapeText(header.shape))", expected: byteCount,
                available: file.count - dataStart)
        }
        var data = Array(file[dataStart..<(dataStart + byteCount)])
        if bigEndian != (1.bigEndian == 1) { Self.swapBytes(&data, itemSize: type.itemSize) }
        if header.fortranOrder && header.shape.count > 1 {
            data = Self.fortranToC(data, shape: header.shape, itemSize: type.itemSize)
        }
        self.dataType = type
        self.shape = header.shape
        self.bytes = data
    }

    /// The most dimensions an array may have: NumPy 2's `NPY_MAXDIMS`.
    public static let maximumRank = 64

    /// Throws as NumPy refuses an array it cannot create: more than 64 dimensions, or a byte
    /// count that overflows `Int` — checked over the nonzero dimensions, so `(0, 2⁶²)` of
    /// float32 is refused although it holds nothing ("array is too big" in NumPy).
    static func checkNumPyCanHold(_ shape: [Int], itemSize: Int, type: NPYDataType) throws {
        guard shape.count <= maximumRank else {
            throw NPYError.malformedHeader(
                reason: "the shape has \(shape.count) dimensions; NumPy arrays have at most \(maximumRank)")
        }
        var bytes = itemSize
        for d in shape where d > 0 {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw NPYError.malformedHeader(
                    reason: "shape \(SoftmaxError.shapeText(shape)) of \(type.rawValue) is too big: its dimensions "
                        + "times the item size overflow Int (NumPy refuses it too, even when a dimension is 0)")
            }
            bytes = product
        }
    }

    /// The longest header `init(npyBytes:)` accepts: 1 MiB.
    public static let maximumHeaderLength = 1 << 20

    /// Reads a `.npy` file: a path, or `-` for standard input (see ``FileIO/read(_:limit:)``).
    ///
    /// - Throws: `SoftmaxError.tooLarge` for a file over `ResourceLimits.maximumBytes`,
    ///   `FileError` when the file cannot be read, else as `init(npyBytes:)`.
    public init(contentsOf path: String) throws {
        try self.init(npyBytes: FileIO.read(path))
    }

    /// The file contents: magic, version, header padded to 64 bytes, data.
    public func npyBytes() -> [UInt8] { npyPrefix() + bytes }

    /// Everything before the data: magic, version, header length and the header padded to 64 bytes.
    func npyPrefix() -> [UInt8] {
        var header = Array(NPYHeader(descr: dataType.descr, shape: shape).text.utf8)
        let version: UInt8 = header.count + 12 > 65535 ? 2 : 1
        let prefix = version == 1 ? 10 : 12
        let padding = (64 - (prefix + header.count + 1) % 64) % 64
        header += [UInt8](repeating: 0x20, count: padding) + [0x0A]
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        for k in 0..<(version == 1 ? 2 : 4) { out.append(UInt8((header.count >> (8 * k)) & 0xFF)) }
        return out + header
    }

    /// Writes the array to `path` (`-` for standard output) with ``FileIO/write(_:to:)``: a
    /// regular file atomically, so a failure never leaves a partial file; a device or FIFO
    /// directly.
    ///
    /// - Throws: `FileError`.
    public func write(to path: String) throws {
        try FileIO.write(npyPrefix(), bytes, to: path)
    }

    /// The elements as `T`, which must be the stored type.
    ///
    /// - Throws: `NPYError.typeMismatch`.
    public func scalars<T: NPYElement>(as _: T.Type = T.self) throws -> [T] {
        guard dataType == T.npyDataType else { throw NPYError.typeMismatch(expected: "\(T.self)", actual: dataType) }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
            initialized = count
        }
    }

    /// The elements converted to `Double` (exact for every type but the largest 64-bit integers).
    public func doubles() -> [Double] {
        func load<T: NPYElement & BitwiseCopyable>(_: T.Type, _ convert: (T) -> Double) -> [Double] {
            bytes.withUnsafeBytes { raw in
                (0..<count).map { convert(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.stride, as: T.self)) }
            }
        }
        switch dataType {
        case .float16:
            return load(UInt16.self) { Self.halfToDouble($0) }
        case .float32: return load(Float.self) { Double($0) }
        case .float64: return load(Double.self) { $0 }
        case .int8: return load(Int8.self) { Double($0) }
        case .int16: return load(Int16.self) { Double($0) }
        case .int32: return load(Int32.self) { Double($0) }
        case .int64: return load(Int64.self) { Double($0) }
        case .uint8: return load(UInt8.self) { Double($0) }
        case .uint16: return load(UInt16.self) { Double($0) }
        case .uint32: return load(UInt32.self) { Double($0) }
        case .uint64: return load(UInt64.self) { Double($0) }
        }
    }

    // MARK: - Helpers

    /// IEEE half-precision bits to `Double`, for platforms without `Float16`.
    static func halfToDouble(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(bits >> 10) & 0x1F
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    private static func swapBytes(_ data: inout [UInt8], itemSize: Int) {
        guard itemSize > 1 else { return }
        var start = 0
        while start < data.count {
            data[start..<(start + itemSize)].reverse()
            start += itemSize
        }
    }

    /// Reorders Fortran-order elements (first index fastest) into C order.
    private static func fortranToC(_ data: [UInt8], shape: [Int], itemSize: Int) -> [UInt8] {
        let count = data.count / itemSize
        var out = [UInt8](repeating: 0, count: data.count)
        var fortranStrides = [Int](repeating: 1, count: shape.count)
        for d in 1..<shape.count { fortranStrides[d] = fortranStrides[d - 1] * shape[d - 1] }
        var index = [Int](repeating: 0, count: shape.count)
        for c in 0..<count {
            var f = 0
            for d in shape.indices { f += index[d] * fortranStrides[d] }
            for b in 0..<itemSize { out[c * itemSize + b] = data[f * itemSize + b] }
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return out
    }
}
