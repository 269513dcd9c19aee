import CZlib
import Foundation
import Softmax

/// Whether `bytes` start with the gzip magic number `1f 8b`.
///
/// Data files are recognised by content, not by name, so `train.csv` that is really gzip
/// still reads, and `train.csv.gz` that was already unpacked does too.
///
/// - Parameter bytes: the start of a file (two bytes are enough).
/// - Returns: `true` when the first two bytes are `0x1f 0x8b`.
public func isGzip(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Inflates a gzip stream with zlib.
///
/// Concatenated gzip members (what `cat a.gz b.gz` or `pigz` produce) are inflated one after
/// the other into one output, as `gunzip` does; zero bytes after the last member (block
/// padding of tape or `tar` tools) are ignored.
///
/// - Parameters:
///   - bytes: the compressed stream, starting with a gzip header.
///   - source: the name of the file, for error messages.
/// - Returns: the decompressed bytes.
/// - Throws: `DataError` `"<source>: not a valid gzip stream (<reason>)"` when the stream is
///   corrupt (bad header, bad deflate data, CRC or length mismatch) or truncated.
public func gunzip(_ bytes: [UInt8], source: String) throws -> [UInt8] {
    func invalid(_ reason: String) -> DataError {
        DataError("\(source): not a valid gzip stream (\(reason))")
    }
    guard isGzip(bytes) else { throw invalid("no gzip magic number 1f 8b at byte 0") }

    var stream = z_stream()
    // 15 + 32: the largest window, and let zlib detect the gzip header (and check its CRC).
    // `inflateInit2` is a C macro, so call the function behind it.
    let initStatus = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard initStatus == Z_OK else {
        throw DataError("\(source): cannot start zlib (inflateInit2 returned \(initStatus))")
    }
    defer { inflateEnd(&stream) }

    // The first guess never exceeds the memory limit; growing past it is checked below.
    var output = [UInt8](
        repeating: 0, count: min(initialOutputCapacity(compressed: bytes), max(ResourceLimits.maximumBytes, 1)))
    var produced = 0
    try bytes.withUnsafeBufferPointer { input in
        guard let inputBase = input.baseAddress else { return }
        var consumed = 0
        while true {
            if produced == output.count {
                let (doubled, overflow) = output.count.multipliedReportingOverflow(by: 2)
                guard !overflow else { throw invalid("decompressed size overflows Int") }
                try ResourceLimits.check(doubled, for: "decompressing '\(source)'")
                output.append(contentsOf: repeatElement(0, count: doubled - output.count))
            }
            // zlib counts in UInt32: feed and drain at most 1 GiB per call.
            let inputChunk = min(input.count - consumed, 1 << 30)
            let outputChunk = min(output.count - produced, 1 << 30)
            stream.next_in = UnsafeMutablePointer(mutating: inputBase + consumed)
            stream.avail_in = UInt32(inputChunk)
            let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                stream.next_out = out.baseAddress! + produced
                stream.avail_out = UInt32(outputChunk)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let read = inputChunk - Int(stream.avail_in)
            let written = outputChunk - Int(stream.avail_out)
            consumed += read
            produced += written

            switch status {
            case Z_STREAM_END:
                let rest = input[consumed...]
                if rest.allSatisfy({ $0 == 0 }) { return }
                // Another member follows: start over on it (its header is checked again).
                guard inflateReset(&stream) == Z_OK else { throw invalid("cannot reset zlib") }
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either the output is full (grow it above) or the
                // input ran out before the end of the member.
                if produced == output.count { continue }
                if consumed == input.count {
                    throw invalid("truncated: ends after \(input.count) bytes, inside a gzip member")
                }
                throw invalid("zlib could not make progress at byte \(consumed)")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw invalid("\(message), near byte \(consumed)")
            }
        }
    }
    output.removeLast(output.count - produced)
    return output
}

/// A first guess at the decompressed size, so that most files inflate without regrowing.
///
/// The gzip trailer's last four bytes are the uncompressed size modulo 2³²; it is trusted only
/// up to deflate's maximum ratio (about 1032:1) and 256 MiB, so that a garbage trailer cannot
/// make us allocate gigabytes up front (bigger outputs grow by doubling).
private func initialOutputCapacity(compressed bytes: [UInt8]) -> Int {
    let floor = 64 * 1024
    guard bytes.count >= 18 else { return floor }
    let n = bytes.count
    let trailerSize =
        Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
    let (limit, overflow) = bytes.count.multipliedReportingOverflow(by: 1032)
    let ceiling = overflow ? Int.max : limit
    return max(floor, min(trailerSize, ceiling, 256 << 20))
}

/// Reads a whole file, inflating it when it is gzip-compressed.
///
/// Whether to inflate is decided by the first two bytes (the gzip magic), whatever the file is
/// called, so `train-images-idx3-ubyte.gz` and an already unpacked `train-images-idx3-ubyte`
/// both work.
///
/// - Parameter path: the file to read; `-` (standard input), `/dev/stdin`, FIFOs and other
///   streams work too (see `FileIO.read(_:limit:)`).
/// - Returns: the file's bytes, decompressed if they were gzip.
/// - Throws: `FileError` (`cannot read 'x': no such file or directory`) when the file cannot
///   be opened or read, `SoftmaxError.tooLarge` over the memory limit, and the errors of
///   ``gunzip(_:source:)`` for a corrupt gzip file.
public func readDataFile(_ path: String) throws -> [UInt8] {
    let bytes = try FileIO.read(path)
    return isGzip(bytes) ? try gunzip(bytes, source: path) : bytes
}

/// Compresses `bytes` into one gzip member with zlib's deflate.
///
/// - Parameters:
///   - bytes: the data.
///   - level: zlib's level, 0 (store) to 9 (smallest).
/// - Returns: a gzip file's bytes (`gunzip` reads them back).
/// - Throws: `DataError` if zlib refuses the level or the data.
public func gzip(_ bytes: [UInt8], level: Int32 = 6) throws -> [UInt8] {
    var stream = z_stream()
    // Window bits 15 + 16: the largest window, with a gzip header and trailer.
    let status = deflateInit2_(
        &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw DataError("gzip: zlib refused level \(level) (\(status))") }
    defer { deflateEnd(&stream) }
    guard bytes.count <= Int(UInt32.max) else {
        throw DataError("gzip: \(bytes.count) bytes is more than one call takes")
    }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
    var input = bytes
    let written = try input.withUnsafeMutableBufferPointer { source in
        try output.withUnsafeMutableBufferPointer { destination in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            stream.next_out = destination.baseAddress
            stream.avail_out = UInt32(destination.count)
            let result = deflate(&stream, Z_FINISH)
            guard result == Z_STREAM_END else { throw DataError("gzip: deflate stopped with \(result)") }
            return destination.count - Int(stream.avail_out)
        }
    }
    return Array(output.prefix(written))
}
