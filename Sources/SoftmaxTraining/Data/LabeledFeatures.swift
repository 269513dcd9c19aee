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
