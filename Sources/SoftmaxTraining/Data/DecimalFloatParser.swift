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
