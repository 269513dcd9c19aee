import CZlib

/// Encodes an image as an 8-bit RGB PNG file (colour type 2, no interlacing).
///
/// Every row gets filter type 0 (none): the images written here are segmentation masks and small
/// previews, where flat colour areas already compress well and the encoder stays simple.  The
/// image data is compressed with zlib and split into IDAT chunks of at most 1 MiB.
///
/// - Parameters:
///   - width: Pixels per row, 1...2^31-1 (the PNG limit).
///   - height: Rows, 1...2^31-1.
///   - rgb: `width * height * 3` bytes: the rows top to bottom, each pixel red, green, blue.
/// - Returns: The complete file, signature to IEND.
/// - Throws: `DataError` if a dimension is out of range, `rgb` has the wrong length, or zlib
///   fails (out of memory).
public func pngBytes(width: Int, height: Int, rgb: [UInt8]) throws -> [UInt8] {
    let pixelCount = try checkedPixelCount(width: width, height: height)
    // `checkedPixelCount` keeps three bytes per pixel within `Int`.
    guard rgb.count == pixelCount * 3 else {
        throw DataError(
            "PNG image: \(rgb.count) RGB bytes for \(width)×\(height) pixels, expected \(pixelCount * 3)")
    }

    // Each row is preceded by its filter-type byte.
    let rowBytes = width * 3
    var scanlines = [UInt8](repeating: 0, count: height * (rowBytes + 1))
    scanlines.withUnsafeMutableBufferPointer { destination in
        rgb.withUnsafeBufferPointer { source in
            for row in 0..<height {
                let target = destination.baseAddress! + row * (rowBytes + 1) + 1
                target.update(from: source.baseAddress! + row * rowBytes, count: rowBytes)
            }
        }
    }
    let compressed = try zlibCompressed(scanlines)

    var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var header = [UInt8]()
    appendBigEndian(UInt32(width), to: &header)
    appendBigEndian(UInt32(height), to: &header)
    // Bit depth 8, colour type 2 (RGB), compression 0 (deflate), filter method 0, no interlace.
    header += [8, 2, 0, 0, 0]
    appendPNGChunk("IHDR", header, to: &png)
    let idatLimit = 1 << 20
    var start = 0
    repeat {
        let end = min(start + idatLimit, compressed.count)
        appendPNGChunk("IDAT", compressed[start..<end], to: &png)
        start = end
    } while start < compressed.count
    appendPNGChunk("IEND", [], to: &png)
    return png
}

/// Colours for the classes of a segmentation mask, in the style of the PASCAL VOC palette.
public enum MaskPalette {
    /// The label conventionally meaning "do not score this pixel" (object borders in VOC).
    public static let ignoreLabel = 255

    /// The colour of class `index`.
    ///
    /// Spreads the bits of the index over the three channels from the most significant bit down
    /// (bit 0 to red, 1 to green, 2 to blue, then the next three one bit lower), so neighbouring
    /// indices differ strongly and every index below 2^24 gets its own colour: 0 is black, 1 dark
    /// red, 2 dark green, 3 olive, 7 gray, 15 pink (VOC's person), and so on.
    ///
    /// - Parameter index: A class index.  `ignoreLabel` (255) and negative values give a light
    ///   gray that stands apart from the object colours.
    /// - Returns: Red, green and blue.
    public static func color(forClass index: Int) -> (UInt8, UInt8, UInt8) {
        if index == ignoreLabel || index < 0 { return (224, 224, 224) }
        var red: UInt8 = 0
        var green: UInt8 = 0
        var blue: UInt8 = 0
        var remaining = index
        for shift in stride(from: 7, through: 0, by: -1) {
            red |= UInt8(remaining & 1) << shift
            green |= UInt8((remaining >> 1) & 1) << shift
            blue |= UInt8((remaining >> 2) & 1) << shift
            remaining >>= 3
        }
        return (red, green, blue)
    }
}

/// Encodes a segmentation mask as an RGB PNG, each class in its `MaskPalette` colour.
///
/// - Parameters:
///   - mask: One class index per pixel, rows top to bottom (e.g. `[Int32]`, `[UInt8]`, `[Int]`).
///   - width: Pixels per row, 1...2^31-1.
///   - height: Rows, 1...2^31-1.
/// - Returns: The PNG file.
/// - Throws: `DataError` if a dimension is out of range or `mask.count != width * height`.
public func maskPNGBytes<Label: BinaryInteger>(mask: [Label], width: Int, height: Int) throws -> [UInt8] {
    let pixelCount = try checkedPixelCount(width: width, height: height)
    guard mask.count == pixelCount else {
        throw DataError("mask PNG: \(mask.count) labels for \(width)×\(height) pixels")
    }
    // Masks hold few distinct labels over many pixels: look the common ones up instead of
    // recomputing the palette per pixel.
    let table = (0..<256).map { MaskPalette.color(forClass: $0) }
    var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
    for (pixel, label) in mask.enumerated() {
        let index = Int(clamping: label)
        let color = (0..<256).contains(index) ? table[index] : MaskPalette.color(forClass: index)
        rgb[pixel * 3] = color.0
        rgb[pixel * 3 + 1] = color.1
        rgb[pixel * 3 + 2] = color.2
    }
    return try pngBytes(width: width, height: height, rgb: rgb)
}

// MARK: - Helpers

/// `width * height` after checking both against the PNG limits.
///
/// - Parameters:
///   - width: Pixels per row.
///   - height: Rows.
/// - Returns: The number of pixels.
/// - Throws: `DataError` if a dimension is outside 1...2^31-1 or the product overflows `Int`.
func checkedPixelCount(width: Int, height: Int) throws -> Int {
    let limit = 1...Int(Int32.max)
    guard limit.contains(width), limit.contains(height) else {
        throw DataError("PNG image: \(width)×\(height) pixels; width and height must be 1...\(Int32.max)")
    }
    let (count, overflow) = width.multipliedReportingOverflow(by: height)
    // The scanlines take 3 bytes per pixel plus a byte per row; keep all of that within Int.
    guard !overflow, count <= (Int.max - height) / 3 else {
        throw DataError("PNG image: \(width)×\(height) pixels is too large")
    }
    return count
}

/// Appends one PNG chunk: length, type, data, and the CRC-32 of type and data.
///
/// - Parameters:
///   - type: The four-letter chunk type.
///   - data: The chunk data, shorter than 4 GiB (the callers keep it to 1 MiB).
///   - png: The file being written.
func appendPNGChunk(_ type: String, _ data: some Collection<UInt8>, to png: inout [UInt8]) {
    appendBigEndian(UInt32(data.count), to: &png)
    let typeAndData = Array(type.utf8) + data
    png += typeAndData
    appendBigEndian(zlibCRC32(typeAndData), to: &png)
}

/// Appends `value` most significant byte first, as PNG stores all integers.
///
/// - Parameters:
///   - value: The number.
///   - bytes: The buffer to append to.
func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
}

/// The CRC-32 (ISO 3309, as used by PNG and gzip) of `bytes`, computed by zlib.
///
/// - Parameter bytes: The data, shorter than 4 GiB.
/// - Returns: The checksum.
func zlibCRC32(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { buffer in
        UInt32(truncatingIfNeeded: crc32(0, buffer.baseAddress, uInt(buffer.count)))
    }
}

/// `bytes` compressed into the zlib format (deflate with the zlib header and Adler-32), which is
/// what PNG's IDAT chunks carry.
///
/// - Parameter bytes: The data.
/// - Returns: The compressed stream.
/// - Throws: `DataError` if zlib fails or the data is too large for zlib's length type.
func zlibCompressed(_ bytes: [UInt8]) throws -> [UInt8] {
    guard let sourceLength = uLong(exactly: bytes.count) else {
        throw DataError("PNG image: \(bytes.count) bytes of image data is too large for zlib")
    }
    var destinationLength = compressBound(sourceLength)
    var compressed = [UInt8](repeating: 0, count: Int(destinationLength))
    let status = compressed.withUnsafeMutableBufferPointer { destination in
        bytes.withUnsafeBufferPointer { source in
            compress2(
                destination.baseAddress, &destinationLength, source.baseAddress, sourceLength, Z_DEFAULT_COMPRESSION)
        }
    }
    guard status == Z_OK else { throw DataError("PNG image: zlib compress2 failed with status \(status)") }
    compressed.removeSubrange(Int(destinationLength)...)
    return compressed
}
