/// The header dictionary of a `.npy` file: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
struct NPYHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// Parses the Python literal NumPy writes (and what other writers produce: either quote
    /// style, any key order, trailing commas, `L` suffixes from Python 2).
    init(parsing text: String) throws {
        var parser = LiteralParser(Array(text.utf8))
        let dict = try parser.parseDictionary()
        guard case .string(let descr)? = dict["descr"] else {
            if dict["descr"] != nil { throw NPYError.unsupportedType(descr: "structured or non-string descr") }
            throw NPYError.malformedHeader(reason: "no 'descr' key")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw NPYError.malformedHeader(reason: "no boolean 'fortran_order' key")
        }
        guard case .tuple(let dims)? = dict["shape"] else {
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
            i += 1
            let start = i
            while let d = peek, d != c { i += 1 }
            guard peek == c else { throw fail("unterminated string") }
            let s = String(decoding: bytes[start..<i], as: UTF8.self)
            i += 1
            return .string(s)
        case UInt8(ascii: "("):
            i += 1
            var dims: [Int] = []
            while true {
                skipSpace()
                if peek == UInt8(ascii: ")") {
                    i += 1
                    return .tuple(dims)
                }
                guard case .integer(let d) = try parseValue() else { throw fail("shape entries must be integers") }
                dims.append(d)
                skipSpace()
                if peek == UInt8(ascii: ",") {
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
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            i += 1
            while let d = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(d) { i += 1 }
            let digits = String(decoding: bytes[start..<i], as: UTF8.self)
            if peek == UInt8(ascii: "L") { i += 1 }
            guard let n = Int(digits) else { throw fail("integer \(digits) does not fit in Int") }
            return .integer(n)
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

    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D { i += 1 }
    }

    mutating func expect(_ c: UInt8) throws {
        skipSpace()
        guard peek == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        i += 1
    }

    func fail(_ reason: String) -> NPYError { .malformedHeader(reason: "\(reason) at offset \(i)") }
}
