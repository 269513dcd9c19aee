// The CSV reader: `CSVTable` (the parsed file), `LabelColumn` and `LabeledFeatures` (a table
// split into a label column and numeric features), and the byte-level scanner and number
// parser they share.
//
// A table keeps the file's bytes and where each row starts rather than a `String` per field:
// MNIST as CSV is 47 million fields, and materialising them as strings would cost more than the
// whole parse.  Fields are re-scanned from the row starts when they are needed.

// MARK: - CSVTable

/// A parsed CSV (or TSV, or any single-byte-delimited) file: an optional header row and data
/// rows that all have the same number of fields.
///
/// The dialect is RFC 4180 with the usual leniencies: fields may be quoted with `"` (a quote
/// inside is written `""`, and quoted fields may span lines), lines end with LF, CRLF or CR,
/// the last line may lack a line end, blank lines are skipped, spaces and tabs around unquoted
/// fields are trimmed, and a UTF-8 byte-order mark at the start is ignored.
///
/// The table stores the file's bytes and the start of each row, not one `String` per field, so
/// that a 110 MB file parses in well under a second; ``rows`` and ``row(_:)`` make the strings
/// on demand, and ``labeledFeatures(labelColumn:source:)`` turns the table into numbers
/// without making any.
public struct CSVTable: Sendable {
    /// Whether the first row of a file is a header of column names.
    public enum HeaderMode: Sendable, Equatable {
        /// Decide from the first two rows: the first row is a header when one of its fields
        /// is not a number while the same field of the second row is one (so a text label
        /// column, which is text in every row, is no evidence either way).  A file with a
        /// single row has no header.
        case auto
        /// The first row is a header.
        case present
        /// Every row is data.
        case absent
    }

    /// The column names, when the file has a header row.
    public var header: [String]?
    /// The number of data rows (the header is not counted).
    public let rowCount: Int
    /// The number of fields in every row.
    public let columnCount: Int

    /// The file's bytes; the rows are ranges of it.
    let bytes: [UInt8]
    /// The field separator.
    let delimiter: UInt8
    /// Byte offset where each data row starts.
    let rowStarts: [Int]
    /// 1-based file line where each data row starts, for error messages.
    let rowLines: [Int]

    /// The data rows as strings (quotes removed, `""` unescaped, unquoted fields trimmed).
    ///
    /// This makes a `String` per field: fine for small tables and tests, slow for big ones —
    /// use ``labeledFeatures(labelColumn:source:)`` to get numbers.
    public var rows: [[String]] { (0..<rowCount).map { row($0) } }

    /// The fields of data row `index` (0-based, header not counted) as strings.
    ///
    /// - Parameter index: a row in `0..<rowCount`.
    /// - Returns: `columnCount` strings.
    public func row(_ index: Int) -> [String] {
        precondition(index >= 0 && index < rowCount, "row \(index) is not in 0..<\(rowCount)")
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = CSVScanner(bytes: buffer, delimiter: delimiter, source: "", position: rowStarts[index])
            return (0..<columnCount).map { column in
                // The row was scanned without error when the table was made, so it scans again.
                let field = (try? scanner.nextField(column: column + 1))?.field
                return field.map { scanner.string($0) } ?? ""
            }
        }
    }

    /// The 1-based line of the file where data row `index` starts (counting the header line
    /// and blank lines), as error messages give it.
    ///
    /// - Parameter index: a row in `0..<rowCount`.
    /// - Returns: the line number.
    public func lineNumber(ofRow index: Int) -> Int { rowLines[index] }

    /// Parses CSV text held in memory.
    ///
    /// - Parameters:
    ///   - text: the whole file.
    ///   - source: the file's name, for error messages.
    ///   - delimiter: the field separator, a single ASCII byte (`,` by default; `\t` for TSV).
    ///   - header: whether the first row is a header (``HeaderMode/auto`` by default).
    /// - Returns: the table.
    /// - Throws: `DataError`, as the overload that parses bytes.
    public static func parse(
        _ text: String, source: String, delimiter: UInt8 = UInt8(ascii: ","), header: HeaderMode = .auto
    ) throws -> CSVTable {
        try parse(Array(text.utf8), source: source, delimiter: delimiter, header: header)
    }

    /// Parses the bytes of a CSV file (UTF-8 or ASCII).
    ///
    /// - Parameters:
    ///   - bytes: the whole file, already decompressed (see ``readDataFile(_:)``).
    ///   - source: the file's name, for error messages.
    ///   - delimiter: the field separator, a single byte (`,` by default; `\t` for TSV).  It
    ///     may not be `"`, CR or LF.
    ///   - header: whether the first row is a header (``HeaderMode/auto`` by default).
    /// - Returns: the table.
    /// - Throws: `DataError` when the file has no rows (`"<source>: empty file, no rows"`), a row
    ///   has a different number of fields than the first (`"<source> line 7: 5 fields, expected
    ///   65"`), a quoted field is not closed, or text follows a closing quote.
    public static func parse(
        _ bytes: [UInt8], source: String, delimiter: UInt8 = UInt8(ascii: ","), header: HeaderMode = .auto
    ) throws -> CSVTable {
        guard delimiter != CSVScanner.quote, delimiter != CSVScanner.lineFeed, delimiter != CSVScanner.carriageReturn
        else {
            throw DataError("\(source): the delimiter cannot be a quote or a line end")
        }
        var rowStarts: [Int] = []
        var rowLines: [Int] = []
        var columnCount = 0
        try bytes.withUnsafeBufferPointer { buffer in
            var scanner = CSVScanner(bytes: buffer, delimiter: delimiter, source: source, position: 0)
            scanner.skipByteOrderMark()
            while scanner.skipBlankLines() {
                let start = scanner.position
                let line = scanner.line
                var fields = 0
                var endsRow = false
                while !endsRow {
                    fields += 1
                    endsRow = try scanner.nextField(column: fields).endsRow
                }
                if rowStarts.isEmpty {
                    columnCount = fields
                } else if fields != columnCount {
                    throw DataError("\(source) line \(line): \(fields) fields, expected \(columnCount)")
                }
                rowStarts.append(start)
                rowLines.append(line)
            }
        }
        guard !rowStarts.isEmpty else { throw DataError("\(source): empty file, no rows") }

        let table = CSVTable(
            header: nil, rowCount: rowStarts.count, columnCount: columnCount, bytes: bytes, delimiter: delimiter,
            rowStarts: rowStarts, rowLines: rowLines)
        let hasHeader: Bool
        switch header {
        case .present: hasHeader = true
        case .absent: hasHeader = false
        case .auto: hasHeader = table.firstRowLooksLikeHeader()
        }
        guard hasHeader else { return table }
        return CSVTable(
            header: table.row(0), rowCount: rowStarts.count - 1, columnCount: columnCount, bytes: bytes,
            delimiter: delimiter, rowStarts: Array(rowStarts.dropFirst()), rowLines: Array(rowLines.dropFirst()))
    }

    /// A table of the given strings, as if parsed from a comma-separated file (for building
    /// tables in code and in tests).
    ///
    /// - Parameters:
    ///   - header: column names, or `nil`.
    ///   - rows: the data rows.
    /// - Throws: `DataError` when the rows (and the header) do not all have the same number of
    ///   fields, or there is no row at all.
    public init(header: [String]?, rows: [[String]]) throws {
        var text = ""
        for fields in (header.map { [$0] } ?? []) + rows {
            text += fields.map(Self.quotedIfNeeded).joined(separator: ",") + "\n"
        }
        self = try Self.parse(text, source: "table", header: header == nil ? .absent : .present)
    }

    /// The memberwise initialiser, for `parse`.
    private init(
        header: [String]?, rowCount: Int, columnCount: Int, bytes: [UInt8], delimiter: UInt8, rowStarts: [Int],
        rowLines: [Int]
    ) {
        self.header = header
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.bytes = bytes
        self.delimiter = delimiter
        self.rowStarts = rowStarts
        self.rowLines = rowLines
    }

    /// `field` written so that it parses back to itself: quoted when it has a comma, quote,
    /// line end or surrounding space, or is empty (an empty row would read as a blank line).
    private static func quotedIfNeeded(_ field: String) -> String {
        let needsQuotes =
            field.isEmpty || field.first == " " || field.last == " " || field.first == "\t" || field.last == "\t"
            || field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        return needsQuotes ? "\"" + field.replacing("\"", with: "\"\"") + "\"" : field
    }

    /// The ``HeaderMode/auto`` rule: some field of row 0 is not a number while the same field
    /// of row 1 is.
    private func firstRowLooksLikeHeader() -> Bool {
        guard rowCount >= 2 else { return false }
        return bytes.withUnsafeBufferPointer { buffer in
            var first = CSVScanner(bytes: buffer, delimiter: delimiter, source: "", position: rowStarts[0])
            var second = CSVScanner(bytes: buffer, delimiter: delimiter, source: "", position: rowStarts[1])
            for column in 1...columnCount {
                guard let a = try? first.nextField(column: column).field,
                    let b = try? second.nextField(column: column).field
                else { return false }
                if first.number(a) == nil && second.number(b) != nil { return true }
            }
            return false
        }
    }
}

// MARK: - Labels and features

/// Which column of a table holds the class labels.
public enum LabelColumn: Sendable, Equatable {
    /// The last column (the default: scikit-learn and UCI files put the label last).
    case last
    /// The first column (as in the Kaggle MNIST CSVs).
    case first
    /// A 0-based column index; negative indices count from the end (`-1` is the last column).
    case index(Int)
    /// The column with this name in the header.
    case name(String)
    /// No label column: every column is a feature (for prediction inputs).
    case none

    /// Parses a command-line argument: `last`, `first`, `none`, an integer (0-based, negative
    /// from the end), or otherwise a header name.
    ///
    /// - Parameter argument: the argument's text.
    public init(argument: String) {
        switch argument {
        case "last": self = .last
        case "first": self = .first
        case "none": self = .none
        default: self = Int(argument).map { .index($0) } ?? .name(argument)
        }
    }

    /// The 0-based column this names in a table, or `nil` for ``none``.
    ///
    /// - Throws: `DataError` when an index is out of range or a name is not in the header.
    func resolve(in table: CSVTable, source: String) throws -> Int? {
        let columns = table.columnCount
        switch self {
        case .none: return nil
        case .last: return columns - 1
        case .first: return 0
        case .index(let index):
            let resolved = index < 0 ? columns + index : index
            guard resolved >= 0 && resolved < columns else {
                throw DataError(
                    "\(source): label column \(index) is out of range: the file has \(columns) columns "
                        + "(0...\(columns - 1), or -\(columns)...-1 counting from the end)")
            }
            return resolved
        case .name(let name):
            guard let header = table.header else {
                throw DataError("\(source): label column '\(name)' is a name, but the file has no header row")
            }
            guard let resolved = header.firstIndex(of: name) else {
                let shown = header.prefix(20).map { "'\($0)'" }.joined(separator: ", ")
                let more = header.count > 20 ? ", … (\(header.count) in all)" : ""
                throw DataError("\(source): no column named '\(name)'; the header has \(shown)\(more)")
            }
            return resolved
        }
    }
}

/// A table split into numeric features and (optionally) a label per row.
public struct LabeledFeatures: Sendable {
    /// The features, row-major: `rows × columns`.
    public var features: [Float]
    /// The number of samples.
    public var rows: Int
    /// The number of features per sample (the table's columns less the label column).
    public var columns: Int
    /// One label per row, as written in the file (trimmed), or `nil` without a label column.
    public var labels: [String]?
    /// The feature columns' names, from the header, or `nil` without one.
    public var featureNames: [String]?

    /// Features and labels as given; the caller checks that the counts agree.
    public init(features: [Float], rows: Int, columns: Int, labels: [String]?, featureNames: [String]?) {
        self.features = features
        self.rows = rows
        self.columns = columns
        self.labels = labels
        self.featureNames = featureNames
    }
}

extension CSVTable {
    /// Splits off the label column and parses every other field as a `Float`.
    ///
    /// Plain decimals (`12`, `-0.5`, `1e-3`) are parsed by a fast path that gives the same,
    /// correctly rounded, result as `Float(String)`; anything else goes through
    /// `Float(String)`.
    ///
    /// - Parameters:
    ///   - labelColumn: which column holds the labels (``LabelColumn/none`` for none).
    ///   - source: the file's name, for error messages.
    /// - Returns: the features (`rowCount × (columnCount − 1)`, or `× columnCount` without a
    ///   label column), the labels as trimmed strings, and the feature columns' names.
    /// - Throws: `DataError` when a feature is not a number (`"<source> line 12, column 3: 'abc'
    ///   is not a number"`, lines 1-based counting the header, columns 1-based counting the
    ///   label column), is NaN or infinite (`"… is not a finite number"`), the label column is
    ///   out of range or not in the header, no feature column is left, or there are no data rows.
    public func labeledFeatures(labelColumn: LabelColumn, source: String) throws -> LabeledFeatures {
        let labelIndex = try labelColumn.resolve(in: self, source: source)
        let featureCount = columnCount - (labelIndex == nil ? 0 : 1)
        guard featureCount > 0 else {
            throw DataError("\(source): no feature columns: the only column is the label column")
        }
        guard rowCount > 0 else { throw DataError("\(source): no data rows, only a header") }
        let (total, overflow) = rowCount.multipliedReportingOverflow(by: featureCount)
        guard !overflow else { throw DataError("\(source): \(rowCount) × \(featureCount) features overflow Int") }

        var labels: [String] = []
        if labelIndex != nil { labels.reserveCapacity(rowCount) }
        let features = try [Float](unsafeUninitializedCapacity: total) { output, initialized in
            try bytes.withUnsafeBufferPointer { buffer in
                var scanner = CSVScanner(bytes: buffer, delimiter: delimiter, source: source, position: 0)
                var next = 0
                for row in 0..<rowCount {
                    scanner.position = rowStarts[row]
                    scanner.line = rowLines[row]
                    for column in 0..<columnCount {
                        let line = scanner.line
                        let field = try scanner.nextField(column: column + 1).field
                        if column == labelIndex {
                            labels.append(scanner.string(field).trimmingBlanks())
                            continue
                        }
                        guard let value = scanner.number(field) else {
                            throw DataError(
                                "\(source) line \(line), column \(column + 1): \(scanner.quotedForMessage(field)) "
                                    + "is not a number")
                        }
                        guard value.isFinite else {
                            throw DataError(
                                "\(source) line \(line), column \(column + 1): \(scanner.quotedForMessage(field)) "
                                    + "is not a finite number")
                        }
                        output[next] = value
                        next += 1
                    }
                }
            }
            initialized = total
        }
        var featureNames = header
        if let labelIndex { featureNames?.remove(at: labelIndex) }
        return LabeledFeatures(
            features: features, rows: rowCount, columns: featureCount, labels: labelIndex == nil ? nil : labels,
            featureNames: featureNames)
    }
}

extension String {
    /// `self` without leading and trailing spaces, tabs and line ends.
    fileprivate func trimmingBlanks() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return first == startIndex && last == index(before: endIndex) ? self : String(self[first...last])
    }
}

// MARK: - Scanner

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

// MARK: - Decimal numbers

/// Parses a plain decimal — optional sign, digits with an optional point, optional exponent —
/// to the correctly rounded `Float`, or returns `nil` for anything else (hex, `nan`, `inf`,
/// more than 19 digits, huge exponents, results outside the normal `Float` range, or the rare
/// ties described below), which the caller then hands to `Float(String)`.
///
/// Why it is exact: with the digits as an integer `m` and a power of ten `10^e`, when `m` and
/// `10^|e|` are both exactly representable, one IEEE multiply or divide is correctly rounded
/// (Clinger's fast path).  That holds in `Float` for `m < 2²⁴` and `|e| ≤ 10`, and in `Double`
/// for `m < 2⁵³` and `|e| ≤ 22`; the `Double` result is then rounded to `Float`, which is
/// still correct unless the `Double` lies exactly halfway between two `Float`s (double
/// rounding could then go the wrong way), so those ties go to the slow path.
@inline(__always)
func parseDecimalFloat(_ text: UnsafePointer<UInt8>, count: Int) -> Float? {
    let zero = UInt8(ascii: "0")
    var i = 0
    var negative = false
    if i < count && (text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+")) {
        negative = text[i] == UInt8(ascii: "-")
        i += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var exponent = 0
    while i < count && text[i] &- zero < 10 {
        mantissa = mantissa &* 10 &+ UInt64(text[i] &- zero)
        digits += 1
        i += 1
    }
    if i < count && text[i] == UInt8(ascii: ".") {
        i += 1
        while i < count && text[i] &- zero < 10 {
            mantissa = mantissa &* 10 &+ UInt64(text[i] &- zero)
            digits += 1
            exponent -= 1
            i += 1
        }
    }
    guard digits > 0 && digits <= 19 else { return nil }
    if i < count && text[i] | 0x20 == UInt8(ascii: "e") {
        i += 1
        var exponentNegative = false
        if i < count && (text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+")) {
            exponentNegative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        var written = 0
        var exponentDigits = 0
        // Stop accumulating well before overflow; such exponents take the slow path.
        while i < count && text[i] &- zero < 10 && written < 100_000 {
            written = written * 10 + Int(text[i] &- zero)
            exponentDigits += 1
            i += 1
        }
        guard exponentDigits > 0 else { return nil }
        exponent += exponentNegative ? -written : written
    }
    guard i == count else { return nil }

    if mantissa < 1 << 24 && exponent >= -10 && exponent <= 10 {
        let m = Float(mantissa)
        let value = exponent < 0 ? m / floatPowerOfTen(-exponent) : m * floatPowerOfTen(exponent)
        return negative ? -value : value
    }
    if mantissa < 1 << 53 && exponent >= -22 && exponent <= 22 {
        let m = Double(mantissa)
        let value = exponent < 0 ? m / doublePowerOfTen(-exponent) : m * doublePowerOfTen(exponent)
        guard
            value == 0
                || (value >= Double(Float.leastNormalMagnitude) && value <= Double(Float.greatestFiniteMagnitude))
        else { return nil }
        // A Double exactly halfway between two Floats has the 29 bits below a Float's
        // significand equal to 1000…0.
        guard value.bitPattern & 0x1FFF_FFFF != 0x1000_0000 else { return nil }
        let rounded = Float(value)
        return negative ? -rounded : rounded
    }
    return nil
}

/// `10^e` for `e` in `0...10`, exact in `Float`.
@inline(__always)
private func floatPowerOfTen(_ e: Int) -> Float {
    switch e {
    case 0: 1
    case 1: 1e1
    case 2: 1e2
    case 3: 1e3
    case 4: 1e4
    case 5: 1e5
    case 6: 1e6
    case 7: 1e7
    case 8: 1e8
    case 9: 1e9
    default: 1e10
    }
}

/// `10^e` for `e` in `0...22`, exact in `Double`.
@inline(__always)
private func doublePowerOfTen(_ e: Int) -> Double {
    var result = 1.0
    var remaining = e
    // Exact: every partial product is a power of ten up to 1e22, representable in Double.
    while remaining >= 4 {
        result *= 1e4
        remaining -= 4
    }
    while remaining > 0 {
        result *= 10
        remaining -= 1
    }
    return result
}
