/// The header dictionary of a `.npy` file: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
struct NPYHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// The keys `np.load` requires, and the only ones it accepts.
    static let keys: Set<String> = ["descr", "fortran_order", "shape"]

    /// Parses the Python literal NumPy writes, and what `np.load` (`ast.literal_eval`) also
    /// reads: either quote style, any key order, trailing commas, integers in hexadecimal,
    /// octal or binary or with underscores, `L` suffixes from Python 2, `u'…'` and adjacent
    /// strings, whitespace before the brace, whitespace and `#` comments after it.  Refused as NumPy refuses them: keys
    /// other than the three, anything else after the closing brace, a shape that is not a tuple.
    init(parsing text: String) throws {
        var parser = LiteralParser(Array(text.utf8))
        parser.skipSpace()
        guard parser.peek == UInt8(ascii: "{") else { throw parser.fail("the header is not a dictionary") }
        let dict = try parser.parseDictionary()
        try parser.expectEnd()
        let unknown = dict.keys.filter { !Self.keys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw NPYError.malformedHeader(
                reason:
                    "unknown key\(unknown.count == 1 ? "" : "s") \(unknown.map { "'\($0)'" }.joined(separator: ", ")) "
                    + "(a .npy header holds exactly 'descr', 'fortran_order' and 'shape')")
        }
        guard case .string(let descr)? = dict["descr"] else {
            if dict["descr"] != nil { throw NPYError.unsupportedType(descr: "structured or non-string descr") }
            throw NPYError.malformedHeader(reason: "no 'descr' key")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw NPYError.malformedHeader(reason: "no boolean 'fortran_order' key")
        }
        guard case .tuple(let dims)? = dict["shape"] else {
            if dict["shape"] != nil { throw NPYError.malformedHeader(reason: "'shape' is not a tuple of integers") }
            throw NPYError.malformedHeader(reason: "no tuple 'shape' key")
        }
        self.descr = descr
        self.fortranOrder = fortran
        self.shape = dims
    }

    init(descr: String, fortranOrder: Bool = false, shape: [Int]) {
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
    }

    /// The dictionary as NumPy writes it.
    var text: String {
        "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), "
            + "'shape': \(SoftmaxError.shapeText(shape)), }"
    }
}

/// A recursive-descent parser for the small subset of Python literals a header uses.
private struct LiteralParser {
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case integer(Int)
        case tuple([Int])
        case other
    }

    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDictionary() throws -> [String: Value] {
        try expect(UInt8(ascii: "{"))
        var result: [String: Value] = [:]
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") {
                i += 1
                return result
            }
            guard case .string(let key) = try parseValue() else { throw fail("dictionary keys must be strings") }
            skipSpace()
            try expect(UInt8(ascii: ":"))
            result[key] = try parseValue()
            skipSpace()
            if peek == UInt8(ascii: ",") {
                i += 1
            } else if peek != UInt8(ascii: "}") {
                throw fail("expected ',' or '}'")
            }
        }
    }

    mutating func parseValue() throws -> Value {
        skipSpace()
        guard let c = peek else { throw fail("unexpected end") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try parseStrings())
        case UInt8(ascii: "("):
            i += 1
            var dims: [Int] = []
            var comma = false
            while true {
                skipSpace()
                if peek == UInt8(ascii: ")") {
                    i += 1
                    // `(2)` is the integer 2 in Python, not a tuple: NumPy refuses it as a shape.
                    return dims.count == 1 && !comma ? .other : .tuple(dims)
                }
                // Integers only, parsed here rather than by `parseValue`: a header of nested
                // parentheses would otherwise recurse once per byte and overflow the stack.
                guard let c = peek, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || (0x30...0x39).contains(c) else {
                    throw fail("shape entries must be integers")
                }
                let d = try parseInteger()
                dims.append(d)
                skipSpace()
                comma = peek == UInt8(ascii: ",")
                if comma {
                    i += 1
                } else if peek != UInt8(ascii: ")") {
                    throw fail("expected ',' or ')'")
                }
            }
        case UInt8(ascii: "["):
            // A list descr (structured dtype): skip it, balanced.
            var depth = 0
            repeat {
                if peek == UInt8(ascii: "[") { depth += 1 } else if peek == UInt8(ascii: "]") { depth -= 1 }
                i += 1
            } while depth > 0 && peek != nil
            return .other
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .integer(try parseInteger())
        case UInt8(ascii: "u") where startsQuote(at: i + 1), UInt8(ascii: "U") where startsQuote(at: i + 1):
            // `u'<f4'`: Python 3 reads the prefix as a plain string.  (A `where` clause binds to
            // its own pattern only: each needs one.)
            i += 1
            return .string(try parseStrings())
        default:
            let start = i
            while let d = peek, (UInt8(ascii: "A")...UInt8(ascii: "z")).contains(d) { i += 1 }
            switch String(decoding: bytes[start..<i], as: UTF8.self) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "": throw fail("unexpected character '\(Character(Unicode.Scalar(c)))'")
            default: return .other
            }
        }
    }

    /// Whether a quote is at `index`.
    func startsQuote(at index: Int) -> Bool {
        index < bytes.count && (bytes[index] == UInt8(ascii: "'") || bytes[index] == UInt8(ascii: "\""))
    }

    /// One string literal, or several side by side (`'<' 'f4'`), which Python joins.  No escapes
    /// (no dtype string NumPy writes has any).
    mutating func parseStrings() throws -> String {
        var text = ""
        repeat {
            let quote = bytes[i]
            i += 1
            let start = i
            while let d = peek, d != quote { i += 1 }
            guard peek == quote else { throw fail("unterminated string") }
            text += String(decoding: bytes[start..<i], as: UTF8.self)
            i += 1
            skipSpace()
        } while startsQuote(at: i)
        return text
    }

    /// A Python integer literal with an optional sign: decimal, `0x`/`0o`/`0b` with
    /// underscores between digits as Python allows them, and Python 2's `L` suffix.
    mutating func parseInteger() throws -> Int {
        let start = i
        var negative = false
        if peek == UInt8(ascii: "-") || peek == UInt8(ascii: "+") {
            negative = peek == UInt8(ascii: "-")
            i += 1
            skipSpace()
        }
        var radix = 10
        if peek == UInt8(ascii: "0"), i + 1 < bytes.count {
            switch bytes[i + 1] | 0x20 {
            case UInt8(ascii: "x"): radix = 16
            case UInt8(ascii: "o"): radix = 8
            case UInt8(ascii: "b"): radix = 2
            default: break
            }
            if radix != 10 { i += 2 }
        }
        var digits = ""
        var lastWasDigit = radix != 10  // `0x_1f` is valid Python, `1__0` and `1_` are not
        while let c = peek {
            if c == UInt8(ascii: "_") {
                guard lastWasDigit else { throw fail("misplaced '_' in an integer") }
                lastWasDigit = false
            } else if let value = Character(Unicode.Scalar(c)).hexDigitValue, value < radix {
                digits.append(Character(Unicode.Scalar(c)))
                lastWasDigit = true
            } else {
                break
            }
            i += 1
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard !digits.isEmpty, lastWasDigit else { throw fail("'\(text)' is not an integer") }
        // Python 3 refuses leading zeros in a decimal other than zero itself ("007").
        if radix == 10, digits.count > 1, digits.first == "0", digits.contains(where: { $0 != "0" }) {
            throw fail("'\(text)' is not an integer (leading zeros)")
        }
        if peek == UInt8(ascii: "L") { i += 1 }
        guard let magnitude = Int(digits, radix: radix) else { throw fail("integer \(text) does not fit in Int") }
        return negative ? -magnitude : magnitude
    }

    /// Throws unless only whitespace and `#` comments follow.
    mutating func expectEnd() throws {
        while let c = peek {
            if c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D || c == 0x0C {
                i += 1
            } else if c == UInt8(ascii: "#") {
                while let d = peek, d != 0x0A, d != 0x0D { i += 1 }
            } else {
                throw fail("unexpected '\(Character(Unicode.Scalar(c)))' after the dictionary")
            }
        }
    }

    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func skipSpace() {
        // Space, newline, tab, carriage return, form feed: Python's whitespace between tokens.
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D || c == 0x0C { i += 1 }
    }

    mutating func expect(_ c: UInt8) throws {
        skipSpace()
        guard peek == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        i += 1
    }

    func fail(_ reason: String) -> NPYError { .malformedHeader(reason: "\(reason) at offset \(i)") }
}
