// A table keeps the file's bytes and where each row starts rather than a `String` per field:
// MNIST as CSV is 47 million fields, and materialising them as strings would cost more than the
// whole parse.  Fields are re-scanned (by `CSVScanner`) from the row starts when they are needed.

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
