import Testing

@testable import SoftmaxTraining

@Suite("CSV tables")
struct CSVTableTests {
    // MARK: Dialect

    @Test func quotedFieldsWithDelimitersQuotesAndLineEnds() throws {
        let text = "a, \"b,c\" ,\"say \"\"hi\"\"\",  d \n" + "\"multi\nline\",,\"\",x"
        let table = try CSVTable.parse(text, source: "q.csv", header: .absent)
        #expect(table.rows == [["a", "b,c", "say \"hi\"", "d"], ["multi\nline", "", "", "x"]])
        #expect(table.lineNumber(ofRow: 1) == 2)
    }

    @Test func crlfLineEndsBlankLinesAndNoFinalNewline() throws {
        let text = "1,2,3\r\n\r\n   \r\n4,5,6\r\n7,8,9"
        let table = try CSVTable.parse(text, source: "crlf.csv")
        #expect(table.header == nil)
        #expect(table.rows == [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"]])
        #expect((0..<3).map(table.lineNumber(ofRow:)) == [1, 4, 5])
        // A trailing newline, a bare CR line end, and a byte-order mark.
        let other = try CSVTable.parse([0xEF, 0xBB, 0xBF] + Array("1,2\r3,4\n".utf8), source: "cr.csv")
        #expect(other.rows == [["1", "2"], ["3", "4"]])
    }

    @Test func otherDelimiters() throws {
        let table = try CSVTable.parse("x\ty\n1.5\t a b \n", source: "t.tsv", delimiter: UInt8(ascii: "\t"))
        #expect(table.header == ["x", "y"])
        #expect(table.rows == [["1.5", "a b"]])
        let semicolons = try CSVTable.parse("1;2\n3;4\n", source: "s.csv", delimiter: UInt8(ascii: ";"))
        #expect(semicolons.rows == [["1", "2"], ["3", "4"]])
    }

    @Test func tablesBuiltInCodeRoundTrip() throws {
        let rows = [["1", "a,b", " padded ", ""], ["2", "say \"x\"", "line\nbreak", "z"]]
        let table = try CSVTable(header: ["n", "text", "space", "empty"], rows: rows)
        #expect(table.header == ["n", "text", "space", "empty"])
        #expect(table.rows == rows)
        #expect(throws: DataError("table line 2: 1 fields, expected 2")) {
            try CSVTable(header: nil, rows: [["a", "b"], ["c"]])
        }
    }

    // MARK: Header detection

    @Test func autoDetectsAHeaderOfNamesOverNumbers() throws {
        let table = try CSVTable.parse("width,height,species\n1.5,2,cat\n3,4e1,dog\n", source: "h.csv")
        #expect(table.header == ["width", "height", "species"])
        #expect(table.rowCount == 2)
        #expect(table.lineNumber(ofRow: 0) == 2)
    }

    @Test func autoDetectsNoHeaderWhenTheFirstRowIsData() throws {
        // Numbers in the first row: data.
        #expect(try CSVTable.parse("1,2,cat\n3,4,dog\n", source: "d.csv").header == nil)
        // Text in both rows of the same columns (a text label column) is no evidence.
        #expect(try CSVTable.parse("cat,1\ndog,2\n", source: "d.csv").header == nil)
        #expect(try CSVTable.parse("a,b\nc,d\n", source: "d.csv").header == nil)
        // A single row is data.
        #expect(try CSVTable.parse("x,y\n", source: "d.csv").header == nil)
    }

    @Test func headerModeCanBeForced() throws {
        let present = try CSVTable.parse("1,2\n3,4\n", source: "f.csv", header: .present)
        #expect(present.header == ["1", "2"])
        #expect(present.rows == [["3", "4"]])
        let absent = try CSVTable.parse("x,y\n3,4\n", source: "f.csv", header: .absent)
        #expect(absent.header == nil)
        #expect(absent.rows == [["x", "y"], ["3", "4"]])
        let headerOnly = try CSVTable.parse("x,y\n", source: "f.csv", header: .present)
        #expect(headerOnly.rowCount == 0)
        #expect(throws: DataError("f.csv: no data rows, only a header")) {
            try headerOnly.labeledFeatures(labelColumn: .last, source: "f.csv")
        }
    }

    // MARK: Label column

    let iris = "sepal_length,sepal_width,species\n5.1,3.5,setosa\n7.0,3.2, versicolor\n-1e-3,\"+2.5\",virginica\n"

    @Test func labelColumnByNameIndexNegativeIndexAndEnds() throws {
        let table = try CSVTable.parse(iris, source: "iris.csv")
        for column in [LabelColumn.last, .name("species"), .index(2), .index(-1)] {
            let data = try table.labeledFeatures(labelColumn: column, source: "iris.csv")
            #expect(data.rows == 3)
            #expect(data.columns == 2)
            #expect(data.features == [5.1, 3.5, 7.0, 3.2, -0.001, 2.5])
            #expect(data.labels == ["setosa", "versicolor", "virginica"])
            #expect(data.featureNames == ["sepal_length", "sepal_width"])
        }
        // -3 is the first column here, which leaves the text column among the features.
        #expect(throws: DataError("iris.csv line 2, column 3: 'setosa' is not a number")) {
            try table.labeledFeatures(labelColumn: .index(-3), source: "iris.csv")
        }
    }

    @Test func labelColumnFirstAndNone() throws {
        let table = try CSVTable.parse("label,p1,p2\n7,0,255\n2,10,0.5\n", source: "mnist.csv")
        let first = try table.labeledFeatures(labelColumn: .first, source: "mnist.csv")
        #expect(first.labels == ["7", "2"])
        #expect(first.features == [0, 255, 10, 0.5])
        #expect(first.featureNames == ["p1", "p2"])
        let none = try table.labeledFeatures(labelColumn: .none, source: "mnist.csv")
        #expect(none.labels == nil)
        #expect(none.columns == 3)
        #expect(none.features == [7, 0, 255, 2, 10, 0.5])
        #expect(none.featureNames == ["label", "p1", "p2"])
    }

    @Test func labelColumnArguments() {
        #expect(LabelColumn(argument: "last") == .last)
        #expect(LabelColumn(argument: "first") == .first)
        #expect(LabelColumn(argument: "none") == LabelColumn.none)
        #expect(LabelColumn(argument: "0") == .index(0))
        #expect(LabelColumn(argument: "-1") == .index(-1))
        #expect(LabelColumn(argument: "64") == .index(64))
        #expect(LabelColumn(argument: "species") == .name("species"))
    }

    @Test func badLabelColumnsThrow() throws {
        let table = try CSVTable.parse(iris, source: "iris.csv")
        #expect(
            throws: DataError(
                "iris.csv: no column named 'class'; the header has 'sepal_length', 'sepal_width', 'species'")
        ) {
            try table.labeledFeatures(labelColumn: .name("class"), source: "iris.csv")
        }
        let outOfRange = DataError(
            "iris.csv: label column 3 is out of range: the file has 3 columns (0...2, or -3...-1 counting from the end)"
        )
        #expect(throws: outOfRange) { try table.labeledFeatures(labelColumn: .index(3), source: "iris.csv") }
        #expect(throws: DataError.self) { try table.labeledFeatures(labelColumn: .index(-4), source: "iris.csv") }
        let headerless = try CSVTable.parse("1,2\n3,4\n", source: "n.csv")
        #expect(throws: DataError("n.csv: label column 'y' is a name, but the file has no header row")) {
            try headerless.labeledFeatures(labelColumn: .name("y"), source: "n.csv")
        }
        let single = try CSVTable.parse("1\n2\n", source: "one.csv")
        #expect(throws: DataError("one.csv: no feature columns: the only column is the label column")) {
            try single.labeledFeatures(labelColumn: .last, source: "one.csv")
        }
    }

    // MARK: Errors with places

    @Test func raggedRowNamesTheLine() {
        #expect(throws: DataError("r.csv line 4: 2 fields, expected 3")) {
            try CSVTable.parse("a,b,c\n1,2,3\n\n4,5\n", source: "r.csv")
        }
        #expect(throws: DataError("r.csv line 2: 4 fields, expected 3")) {
            try CSVTable.parse("1,2,3\r\n1,2,3,\r\n", source: "r.csv")
        }
    }

    @Test func nonNumbersNameLineAndColumn() throws {
        let table = try CSVTable.parse("x,y,label\n1,2,a\n3,abc,b\n", source: "n.csv")
        #expect(throws: DataError("n.csv line 3, column 2: 'abc' is not a number")) {
            try table.labeledFeatures(labelColumn: .last, source: "n.csv")
        }
        let empty = try CSVTable.parse("1,2,a\n3,,b\n", source: "e.csv")
        #expect(throws: DataError("e.csv line 2, column 2: an empty field is not a number")) {
            try empty.labeledFeatures(labelColumn: .last, source: "e.csv")
        }
        let labelFirst = try CSVTable.parse("a,1,2\nb,3,x\n", source: "f.csv")
        #expect(throws: DataError("f.csv line 2, column 3: 'x' is not a number")) {
            try labelFirst.labeledFeatures(labelColumn: .first, source: "f.csv")
        }
        #expect(throws: DataError("f.csv line 1, column 1: 'a' is not a number")) {
            try labelFirst.labeledFeatures(labelColumn: .none, source: "f.csv")
        }
    }

    @Test func nonFiniteNumbersThrow() throws {
        for text in ["nan", "NaN", "inf", "-Infinity", "1e50"] {
            let table = try CSVTable.parse("1,2,a\n3,\(text),b\n", source: "i.csv")
            #expect(throws: DataError("i.csv line 2, column 2: '\(text)' is not a finite number")) {
                try table.labeledFeatures(labelColumn: .last, source: "i.csv")
            }
        }
    }

    @Test func malformedQuotingAndEmptyFilesThrow() {
        #expect(throws: DataError("u.csv line 2, column 2: the quoted field is not closed before the end of the file"))
        {
            try CSVTable.parse("1,2\n3,\"4\n5,6\n", source: "u.csv")
        }
        #expect(throws: DataError("g.csv line 1, column 1: unexpected 'x' after a closing quote")) {
            try CSVTable.parse("\"a\"x,b\n", source: "g.csv")
        }
        #expect(throws: DataError("e.csv: empty file, no rows")) { try CSVTable.parse("", source: "e.csv") }
        #expect(throws: DataError("e.csv: empty file, no rows")) { try CSVTable.parse("\n \r\n\n", source: "e.csv") }
        #expect(throws: DataError.self) { try CSVTable.parse("a\"b\n", source: "d.csv", delimiter: UInt8(ascii: "\"")) }
    }

    // MARK: Numbers

    @Test func numberFormsParse() throws {
        let fields = [
            "0", "-0", "12", "-0.5", "+3", "1e-3", "2.5E+2", ".25", "7.", "0x1p-2", "1234567890123", "3.4e38",
        ]
        let table = try CSVTable.parse(fields.joined(separator: ",") + ",label\n", source: "n.csv", header: .absent)
        let data = try table.labeledFeatures(labelColumn: .last, source: "n.csv")
        #expect(data.features == fields.map { Float($0)! })
        #expect(data.features[1].sign == .minus)
    }

    /// The fast decimal path must give exactly what `Float(String)` gives.
    @Test func fastDecimalParsingMatchesFloatInit() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        var checked = 0
        for _ in 0..<200_000 {
            let digits = Int(next() % 19) + 1
            var text = next() % 2 == 0 ? "" : "-"
            var body = String(next() % 9 + 1)
            for _ in 1..<digits { body += String(next() % 10) }
            let point = Int(next() % UInt64(digits + 1))
            if point < digits { body.insert(".", at: body.index(body.startIndex, offsetBy: point)) }
            text += body
            if next() % 3 == 0 { text += "e" + String(Int(next() % 50) - 25) }
            let bytes = Array(text.utf8)
            let fast = bytes.withUnsafeBufferPointer { parseDecimalFloat($0.baseAddress!, count: $0.count) }
            if let fast {
                #expect(fast.bitPattern == Float(text)!.bitPattern, "\(text)")
                checked += 1
            }
        }
        // Most plain decimals take the fast path.
        #expect(checked > 150_000)
        // Known hard cases: halfway values and the edges of the Float range.
        for text in ["16777217", "1.00000005960464477539062", "3.4028235e38", "1.17549435e-38", "0.1", "0.3"] {
            let bytes = Array(text.utf8)
            let fast = bytes.withUnsafeBufferPointer { parseDecimalFloat($0.baseAddress!, count: $0.count) }
            if let fast { #expect(fast.bitPattern == Float(text)!.bitPattern, "\(text)") }
        }
    }
}
