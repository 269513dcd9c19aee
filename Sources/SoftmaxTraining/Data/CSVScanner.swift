/// Where one field lies in the bytes.
struct CSVField {
    /// The first byte of the content (inside the quotes, for a quoted field).
    var start: Int
    /// One past the last byte of the content.
    var end: Int
    /// Whether the content holds `""` pairs that stand for one quote each.
    var hasEscapedQuotes: Bool
}

/// A cursor over CSV bytes that reads one field at a time; shared by the parse (which only
/// counts fields and finds row starts) and the conversions (which re-read rows from there).
struct CSVScanner {
    static let quote = UInt8(ascii: "\"")
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    let bytes: UnsafeBufferPointer<UInt8>
    let delimiter: UInt8
    /// The file's name, for error messages.
    let source: String
    /// The next byte to read.
    var position: Int
    /// The 1-based line of `position`.
    var line = 1

    init(bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8, source: String, position: Int) {
        self.bytes = bytes
        self.delimiter = delimiter
        self.source = source
        self.position = position
    }

    /// Whether `byte` is a space or tab that is not the delimiter (so trimmed around fields).
    @inline(__always)
    func isBlank(_ byte: UInt8) -> Bool {
        (byte == Self.space || byte == Self.tab) && byte != delimiter
    }

    /// Steps over a UTF-8 byte-order mark, which spreadsheet programs write at the start.
    mutating func skipByteOrderMark() {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
    }

    /// Steps over lines that are empty or hold only spaces and tabs.
    ///
    /// - Returns: `false` at the end of the bytes, `true` when a row starts at `position`.
    mutating func skipBlankLines() -> Bool {
        var p = position
        while true {
            while p < bytes.count && isBlank(bytes[p]) { p += 1 }
            guard p < bytes.count else {
                position = p
                return false
            }
            guard bytes[p] == Self.lineFeed || bytes[p] == Self.carriageReturn else { return true }
            p = afterLineEnd(p)
            position = p
            line += 1
        }
    }

    /// The position after the line end (LF, CRLF or CR) at `p`.
    @inline(__always)
    func afterLineEnd(_ p: Int) -> Int {
        bytes[p] == Self.carriageReturn && p + 1 < bytes.count && bytes[p + 1] == Self.lineFeed ? p + 2 : p + 1
    }

    /// Reads the field at `position` and the delimiter or line end after it.
    ///
    /// - Parameter column: the field's 1-based column, for error messages.
    /// - Returns: the field, and whether it was the last of its row.
    /// - Throws: `DataError` for an unclosed quote or text after a closing quote.
    @inline(__always)
    mutating func nextField(column: Int) throws -> (field: CSVField, endsRow: Bool) {
        let count = bytes.count
        var p = position
        while p < count && isBlank(bytes[p]) { p += 1 }
        var field: CSVField
        if p < count && bytes[p] == Self.quote {
            field = try quotedField(from: p, column: column)
            p = position
            while p < count && isBlank(bytes[p]) { p += 1 }
        } else {
            let start = p
            while p < count {
                let byte = bytes[p]
                if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn { break }
                p += 1
            }
            var end = p
            while end > start && isBlank(bytes[end - 1]) { end -= 1 }
            field = CSVField(start: start, end: end, hasEscapedQuotes: false)
        }
        guard p < count else {
            position = p
            return (field, true)
        }
        let byte = bytes[p]
        if byte == delimiter {
            position = p + 1
            return (field, false)
        }
        if byte == Self.lineFeed || byte == Self.carriageReturn {
            position = afterLineEnd(p)
            line += 1
            return (field, true)
        }
        // Only a quoted field can stop at another byte: `"ab"c`.
        throw DataError(
            "\(source) line \(line), column \(column): unexpected \(Self.describe(byte)) after a closing quote")
    }

    /// Reads a quoted field whose opening quote is at `open`; leaves `position` after the
    /// closing quote.
    private mutating func quotedField(from open: Int, column: Int) throws -> CSVField {
        let openingLine = line
        var p = open + 1
        var escaped = false
        while p < bytes.count {
            let byte = bytes[p]
            if byte == Self.quote {
                if p + 1 < bytes.count && bytes[p + 1] == Self.quote {
                    escaped = true
                    p += 2
                    continue
                }
                position = p + 1
                return CSVField(start: open + 1, end: p, hasEscapedQuotes: escaped)
            }
            if byte == Self.lineFeed || (byte == Self.carriageReturn && afterLineEnd(p) == p + 1) { line += 1 }
            p += 1
        }
        throw DataError(
            "\(source) line \(openingLine), column \(column): the quoted field is not closed before the end of the file"
        )
    }

    /// The field's text, with `""` unescaped.
    func string(_ field: CSVField) -> String {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[field.start..<field.end]), as: UTF8.self)
        return field.hasEscapedQuotes ? text.replacing("\"\"", with: "\"") : text
    }

    /// The field's text in single quotes for an error message, shortened when long.
    func quotedForMessage(_ field: CSVField) -> String {
        if field.start == field.end { return "an empty field" }
        let text = string(field)
        return "'" + (text.count > 40 ? String(text.prefix(40)) + "…" : text) + "'"
    }

    /// The field as a `Float`, or `nil` when it is not a number; may be NaN or infinite when
    /// the text says so or overflows.
    @inline(__always)
    func number(_ field: CSVField) -> Float? {
        if field.hasEscapedQuotes || field.start == field.end { return nil }
        let base = bytes.baseAddress! + field.start
        let length = field.end - field.start
        if let value = parseDecimalFloat(base, count: length) { return value }
        return Float(String(decoding: UnsafeBufferPointer(start: base, count: length), as: UTF8.self))
    }

    /// A byte named for an error message: the character when printable ASCII, else hex.
    static func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
    }
}
