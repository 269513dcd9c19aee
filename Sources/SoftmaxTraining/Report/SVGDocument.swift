// The SVG writer both reports draw with (`trainingCurvesSVG`, `confusionMatrixSVG`): the
// document, XML escaping and locale-free numbers.

/// An SVG document being written, element by element, into a string.
///
/// Only what the reports need: rectangles, lines, polylines, circles and text, with attribute
/// values escaped and numbers written without locale or exponent so the file parses anywhere.
struct SVGDocument {
    /// The markup so far, without the closing `</svg>`.
    private(set) var body: String

    /// A document of the given size with a white background (viewers differ in what they show
    /// behind transparent areas, and a dark one would hide the black text).
    ///
    /// - Parameters:
    ///   - width: Width in user units (pixels at 100 %).
    ///   - height: Height in user units.
    init(width: Double, height: Double) {
        let w = svgDecimal(width, fractionDigits: 2)
        let h = svgDecimal(height, fractionDigits: 2)
        body =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\""
            + " font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            + "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
    }

    /// Appends raw markup (the caller escapes it).
    ///
    /// - Parameter markup: Well-formed SVG elements.
    mutating func append(_ markup: String) { body += markup }

    /// Appends a rectangle.
    ///
    /// - Parameters:
    ///   - x: Left edge.
    ///   - y: Top edge.
    ///   - width: Width.
    ///   - height: Height.
    ///   - fill: Fill colour or `none`.
    ///   - stroke: Outline colour, or `nil` for no outline.
    ///   - tooltip: Text shown on hover (an SVG `<title>` child), or `nil`.
    mutating func rect(
        x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil,
        tooltip: String? = nil
    ) {
        body +=
            "<rect x=\"\(svgDecimal(x))\" y=\"\(svgDecimal(y))\" width=\"\(svgDecimal(width))\""
            + " height=\"\(svgDecimal(height))\" fill=\"\(fill)\""
        if let stroke { body += " stroke=\"\(stroke)\"" }
        closeElement("rect", tooltip: tooltip)
    }

    /// Appends a straight line, one user unit wide.
    ///
    /// - Parameters:
    ///   - x1: Start x.
    ///   - y1: Start y.
    ///   - x2: End x.
    ///   - y2: End y.
    ///   - stroke: Colour.
    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String) {
        body +=
            "<line x1=\"\(svgDecimal(x1))\" y1=\"\(svgDecimal(y1))\" x2=\"\(svgDecimal(x2))\""
            + " y2=\"\(svgDecimal(y2))\" stroke=\"\(stroke)\" stroke-width=\"1\"/>\n"
    }

    /// Appends an open polyline through `points`.
    ///
    /// - Parameters:
    ///   - points: Vertices in document coordinates; one point draws nothing visible, which is
    ///     why the curves also get markers.
    ///   - stroke: Colour.
    ///   - strokeWidth: Line width.
    ///   - dashArray: SVG `stroke-dasharray`, or `nil` for a solid line.
    mutating func polyline(
        _ points: [(Double, Double)], stroke: String, strokeWidth: Double, dashArray: String?
    ) {
        let coordinates = points.map { "\(svgDecimal($0.0)),\(svgDecimal($0.1))" }.joined(separator: " ")
        body +=
            "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(stroke)\""
            + " stroke-width=\"\(svgDecimal(strokeWidth))\" stroke-linejoin=\"round\""
        if let dashArray { body += " stroke-dasharray=\"\(dashArray)\"" }
        body += "/>\n"
    }

    /// Appends a circle.
    ///
    /// - Parameters:
    ///   - cx: Centre x.
    ///   - cy: Centre y.
    ///   - r: Radius.
    ///   - fill: Fill colour.
    ///   - stroke: Outline colour.
    ///   - tooltip: Text shown on hover, or `nil`.
    mutating func circle(cx: Double, cy: Double, r: Double, fill: String, stroke: String, tooltip: String?) {
        body +=
            "<circle cx=\"\(svgDecimal(cx))\" cy=\"\(svgDecimal(cy))\" r=\"\(svgDecimal(r))\" fill=\"\(fill)\""
            + " stroke=\"\(stroke)\" stroke-width=\"1.5\""
        closeElement("circle", tooltip: tooltip)
    }

    /// Appends a line of text.
    ///
    /// - Parameters:
    ///   - content: The text; escaped here.
    ///   - x: Anchor x.
    ///   - y: Baseline y.
    ///   - size: Font size in user units.
    ///   - anchor: SVG `text-anchor`: `start`, `middle` or `end`.
    ///   - bold: Bold weight.
    ///   - fill: Colour.
    ///   - rotation: Degrees to rotate about the anchor point (negative is counter-clockwise).
    mutating func text(
        _ content: String, x: Double, y: Double, size: Double, anchor: String, bold: Bool = false,
        fill: String = "#222222", rotation: Double = 0
    ) {
        body +=
            "<text x=\"\(svgDecimal(x))\" y=\"\(svgDecimal(y))\" font-size=\"\(svgDecimal(size))\""
            + " text-anchor=\"\(anchor)\" fill=\"\(fill)\""
        if bold { body += " font-weight=\"bold\"" }
        if rotation != 0 {
            body += " transform=\"rotate(\(svgDecimal(rotation)) \(svgDecimal(x)) \(svgDecimal(y)))\""
        }
        body += ">\(xmlEscaped(content))</text>\n"
    }

    /// The complete document.
    ///
    /// - Returns: The markup with the closing `</svg>` tag.
    func finished() -> String { body + "</svg>\n" }

    /// Ends an element that was opened up to its attributes, with a `<title>` child if any.
    private mutating func closeElement(_ name: String, tooltip: String?) {
        if let tooltip {
            body += "><title>\(xmlEscaped(tooltip))</title></\(name)>\n"
        } else {
            body += "/>\n"
        }
    }
}

/// `text` with the XML special characters replaced by entities, so that it can go into element
/// content or a quoted attribute value.
///
/// Control characters that XML 1.0 forbids even as character references (everything below
/// U+0020 except tab, line feed and carriage return, and U+FFFE/U+FFFF) become U+FFFD, since a
/// class name read from a file could contain them and a single one makes the whole document
/// unreadable.
///
/// - Parameter text: Any string.
/// - Returns: The escaped string.
func xmlEscaped(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.unicodeScalars.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&apos;"
        case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
            escaped += "\u{FFFD}"
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}

/// `value` in fixed-point notation with at most `fractionDigits` decimals: no exponent, no
/// locale-dependent separator, no `-0`, and never `nan` or `inf` (those become `0`; callers
/// drop non-finite data before it gets here, this is the last line of defence).
///
/// - Parameters:
///   - value: The number.
///   - fractionDigits: Decimals to round to, 0...9.
///   - trimsZeros: Drop trailing zeros of the fraction (coordinates); keep them for tick labels
///     so that a column of labels has a uniform look.
/// - Returns: The decimal string.
func svgDecimal(_ value: Double, fractionDigits: Int = 2, trimsZeros: Bool = true) -> String {
    guard value.isFinite else { return "0" }
    let digits = min(max(fractionDigits, 0), 9)
    var scale: UInt64 = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * Double(scale)).rounded()
    // Beyond 2^63 the integer conversion below would trap; such magnitudes only reach here as
    // tooltip values of a diverged loss, where Swift's shortest representation is fine.
    guard abs(scaled) < 9.0e18 else { return "\(value)" }
    let magnitude = UInt64(abs(scaled))
    if magnitude == 0 {
        return trimsZeros || digits == 0 ? "0" : "0." + String(repeating: "0", count: digits)
    }
    var result = scaled < 0 ? "-" : ""
    result += String(magnitude / scale)
    if digits > 0 {
        var fraction = String(magnitude % scale)
        fraction = String(repeating: "0", count: digits - fraction.count) + fraction
        if trimsZeros {
            while fraction.last == "0" { fraction.removeLast() }
        }
        if !fraction.isEmpty { result += "." + fraction }
    }
    return result
}
