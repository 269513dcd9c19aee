import CZlib
import Foundation
import Testing

@testable import SoftmaxTraining

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite("Report outputs")
struct ReportTests {
    // MARK: PNG

    @Test func pngRoundTripsSmallImage() throws {
        let width = 3
        let height = 2
        let rgb: [UInt8] = (0..<(width * height * 3)).map { UInt8($0 * 13 % 256) }
        let decoded = try DecodedPNG(try pngBytes(width: width, height: height, rgb: rgb))
        #expect(decoded.width == width)
        #expect(decoded.height == height)
        #expect(decoded.bitDepth == 8)
        #expect(decoded.colorType == 2)
        #expect(decoded.chunkTypes == ["IHDR", "IDAT", "IEND"])
        #expect(decoded.rgb == rgb)
    }

    @Test func pngRoundTripsImageSpanningSeveralIDATChunks() throws {
        // Noise does not compress, so 700×600×3 bytes need more than one 1 MiB IDAT chunk.
        var generator = SystemRandomNumberGenerator()
        let width = 700
        let height = 600
        let rgb = (0..<(width * height * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let decoded = try DecodedPNG(try pngBytes(width: width, height: height, rgb: rgb))
        #expect(decoded.chunkTypes.filter { $0 == "IDAT" }.count >= 2)
        #expect(decoded.rgb == rgb)
    }

    @Test func pngRoundTripsOnePixel() throws {
        let decoded = try DecodedPNG(try pngBytes(width: 1, height: 1, rgb: [1, 2, 3]))
        #expect(decoded.rgb == [1, 2, 3])
    }

    @Test func pngRejectsWrongByteCountAndBadSizes() {
        #expect(throws: DataError.self) { try pngBytes(width: 2, height: 2, rgb: [UInt8](repeating: 0, count: 11)) }
        #expect(throws: DataError.self) { try pngBytes(width: 2, height: 2, rgb: [UInt8](repeating: 0, count: 13)) }
        #expect(throws: DataError.self) { try pngBytes(width: 0, height: 1, rgb: []) }
        #expect(throws: DataError.self) { try pngBytes(width: 1, height: -1, rgb: []) }
        #expect(throws: DataError.self) { try pngBytes(width: Int(Int32.max) + 1, height: 1, rgb: [0, 0, 0]) }
        #expect(throws: DataError.self) { try pngBytes(width: Int(Int32.max), height: Int(Int32.max), rgb: []) }
    }

    @Test func paletteFollowsVOCConventions() {
        #expect(MaskPalette.color(forClass: 0) == (0, 0, 0))
        #expect(MaskPalette.color(forClass: 1) == (128, 0, 0))
        #expect(MaskPalette.color(forClass: 2) == (0, 128, 0))
        #expect(MaskPalette.color(forClass: 3) == (128, 128, 0))
        #expect(MaskPalette.color(forClass: 4) == (0, 0, 128))
        #expect(MaskPalette.color(forClass: 7) == (128, 128, 128))
        #expect(MaskPalette.color(forClass: 15) == (192, 128, 128))
        #expect(MaskPalette.color(forClass: 255) == (224, 224, 224))
        #expect(MaskPalette.color(forClass: -1) == (224, 224, 224))
        // Every class below the ignore label gets its own colour, distinct from the ignore colour.
        let colors = (0..<256).map { index -> Int in
            let (red, green, blue) = MaskPalette.color(forClass: index)
            return Int(red) << 16 | Int(green) << 8 | Int(blue)
        }
        #expect(Set(colors).count == 256)
    }

    @Test func maskPNGUsesThePalette() throws {
        let mask: [Int32] = [0, 1, 2, 255, 21, 300]
        let decoded = try DecodedPNG(try maskPNGBytes(mask: mask, width: 3, height: 2))
        let expected = mask.flatMap { label -> [UInt8] in
            let (red, green, blue) = MaskPalette.color(forClass: Int(label))
            return [red, green, blue]
        }
        #expect(decoded.rgb == expected)
        let fromInts = try maskPNGBytes(mask: mask.map(Int.init), width: 3, height: 2)
        #expect(try DecodedPNG(fromInts).rgb == expected)
        #expect(throws: DataError.self) { try maskPNGBytes(mask: mask, width: 2, height: 2) }
    }

    // MARK: Training curves

    static let history = [
        EpochRecord(epoch: 1, trainLoss: 1.9, trainAccuracy: 0.52, testLoss: 1.7, testAccuracy: 0.6, seconds: 0.4),
        EpochRecord(epoch: 2, trainLoss: 0.8, trainAccuracy: 0.81, testLoss: 0.9, testAccuracy: 0.78, seconds: 0.4),
        EpochRecord(epoch: 3, trainLoss: 0.45, trainAccuracy: 0.9, testLoss: 0.6, testAccuracy: 0.86, seconds: 0.4),
        EpochRecord(epoch: 4, trainLoss: 0.3, trainAccuracy: 0.94, testLoss: 0.5, testAccuracy: 0.9, seconds: 0.4),
    ]

    @Test func curvesAreWellFormedWithOnePolylinePerSeries() throws {
        let svg = trainingCurvesSVG(Self.history, title: "digits <softmax> & friends")
        let document = try ParsedXML(svg)
        #expect(document.rootName == "svg")
        #expect(document.texts.contains("digits <softmax> & friends"))
        #expect(svg.contains("digits &lt;softmax&gt; &amp; friends"))
        // Train and test loss, train and test accuracy.
        #expect(document.count(of: "polyline") - legendPolylines(series: 2) == 4)
        #expect(document.count(of: "circle") - legendPolylines(series: 2) == 16)
        for label in ["loss", "accuracy (%)", "epoch", "train", "test"] {
            #expect(document.texts.contains(label), "missing \(label)")
        }
        // Loss 0.3...1.9 in steps of 0.5 from 0, accuracy 52...94 % in steps of 10.
        for tick in ["0.0", "0.5", "1.0", "1.5", "2.0", "50", "60", "90", "100"] {
            #expect(document.texts.contains(tick), "missing tick \(tick)")
        }
        #expect(!svg.lowercased().contains("nan"))
    }

    @Test func curvesWithoutTestSetHaveTwoSeries() throws {
        let trainOnly = Self.history.map {
            EpochRecord(epoch: $0.epoch, trainLoss: $0.trainLoss, trainAccuracy: $0.trainAccuracy, seconds: $0.seconds)
        }
        let document = try ParsedXML(trainingCurvesSVG(trainOnly, title: "train only"))
        #expect(document.count(of: "polyline") - legendPolylines(series: 1) == 2)
        #expect(!document.texts.contains("test"))
    }

    @Test func curvesSkipNonFiniteValues() throws {
        var records = Self.history
        records[1].trainLoss = .nan
        records[2].testLoss = .infinity
        records[3].trainAccuracy = -.infinity
        let svg = trainingCurvesSVG(records, title: "diverged")
        let document = try ParsedXML(svg)
        let lowered = svg.lowercased()
        #expect(!lowered.contains("nan"))
        #expect(!lowered.contains("inf"))
        // 16 points minus the three non-finite ones.
        #expect(document.count(of: "circle") - legendPolylines(series: 2) == 13)
        #expect(document.count(of: "polyline") - legendPolylines(series: 2) == 4)
    }

    @Test func curvesDrawASingleEpoch() throws {
        let record = EpochRecord(epoch: 1, trainLoss: 0.7, trainAccuracy: 0.75, seconds: 1)
        let document = try ParsedXML(trainingCurvesSVG([record], title: "one"))
        #expect(document.count(of: "circle") - legendPolylines(series: 1) == 2)
        #expect(document.count(of: "polyline") - legendPolylines(series: 1) == 2)
    }

    @Test func curvesOfNoEpochsSaySo() throws {
        let document = try ParsedXML(trainingCurvesSVG([], title: "empty"))
        #expect(document.texts.contains("no epochs"))
        #expect(document.count(of: "polyline") == 0)
    }

    @Test func niceAxesUseOneTwoFiveSteps() {
        let loss = NiceAxis.covering(0, 2.3, targetTickCount: 6)
        #expect(loss.lower == 0)
        #expect(loss.upper == 2.5)
        #expect(loss.step == 0.5)
        #expect(loss.ticks.map(loss.label) == ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5"])
        let accuracy = NiceAxis.covering(93.1, 98.7, targetTickCount: 6)
        #expect(accuracy.step == 1)
        #expect(accuracy.lower == 93 && accuracy.upper == 99)
        let tiny = NiceAxis.covering(0.0012, 0.0047, targetTickCount: 6)
        #expect(abs(tiny.step - 0.001) < 1e-15)
        #expect(tiny.ticks.map(tiny.label) == ["0.001", "0.002", "0.003", "0.004", "0.005"])
        let epochs = NiceAxis.integers(covering: 1, 3, targetTickCount: 6)
        #expect(epochs.ticks == [1, 2, 3])
        #expect(NiceAxis.integers(covering: 7, 7, targetTickCount: 6).ticks == [6, 7, 8])
        let flat = NiceAxis.covering(0, 0, targetTickCount: 6)
        #expect(flat.lower == 0 && flat.upper == 1)
    }

    @Test func numbersAndTextAreWrittenSafely() {
        #expect(svgDecimal(1.5) == "1.5")
        #expect(svgDecimal(2.0) == "2")
        #expect(svgDecimal(-0.001) == "0")
        #expect(svgDecimal(-12.345) == "-12.35")
        #expect(svgDecimal(0.05, fractionDigits: 2, trimsZeros: false) == "0.05")
        #expect(svgDecimal(3, fractionDigits: 1, trimsZeros: false) == "3.0")
        #expect(svgDecimal(.nan) == "0")
        #expect(svgDecimal(-.infinity) == "0")
        #expect(xmlEscaped("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;")
        #expect(xmlEscaped("bell\u{7}") == "bell\u{FFFD}")
    }

    // MARK: Confusion matrix

    @Test func confusionMatrixShowsNamesAndCounts() throws {
        let counts = [[50, 3, 0], [4, 41, 7], [0, 12, 1234]]
        let svg = confusionMatrixSVG(counts, classNames: ["cat", "dog & <fox>", "bird"], title: "pets")
        let document = try ParsedXML(svg)
        #expect(document.rootName == "svg")
        #expect(svg.contains("dog &amp; &lt;fox&gt;"))
        for text in ["pets", "cat", "dog & <fox>", "bird", "true class", "predicted class"] {
            #expect(document.texts.contains(text), "missing \(text)")
        }
        for count in counts.joined() {
            #expect(document.texts.contains(String(count)), "missing count \(count)")
        }
        // Each name labels a row and a column.
        #expect(document.texts.filter { $0 == "cat" }.count == 2)
        // The dominant cell of each row is the darkest colour and carries white text.
        #expect(svg.contains("fill=\"\(heatColor(50.0 / 53))\""))
        #expect(svg.contains("fill=\"#ffffff\">1234</text>"))
    }

    @Test func confusionMatrixOfManyClassesOmitsCellNumbers() throws {
        let classCount = 100
        let counts = (0..<classCount).map { row in (0..<classCount).map { $0 == row ? 90 : ($0 + row) % 7 } }
        let names = (0..<classCount).map { "class \($0)" }
        let document = try ParsedXML(confusionMatrixSVG(counts, classNames: names, title: "many"))
        #expect(!document.texts.contains("90"))
        #expect(document.texts.contains("class 99"))
        #expect(document.count(of: "text") < 2 * classCount + 20)
    }

    @Test func confusionMatrixHandlesMissingNamesAndRaggedRows() throws {
        let document = try ParsedXML(confusionMatrixSVG([[1], [2, 3]], classNames: ["only"], title: "ragged"))
        #expect(document.texts.contains("only"))
        #expect(document.texts.contains("1"))
        #expect(document.texts.contains("3"))
        let empty = try ParsedXML(confusionMatrixSVG([], classNames: [], title: "none"))
        #expect(empty.texts.contains("no classes"))
    }

    /// The legend draws one sample line and one marker per series.
    private func legendPolylines(series: Int) -> Int { series }
}

// MARK: - Decoding helpers

/// A PNG file taken apart by the test: every chunk's CRC checked, IDAT inflated, filter bytes
/// checked and removed.
private struct DecodedPNG {
    var chunkTypes: [String] = []
    var width = 0
    var height = 0
    var bitDepth = 0
    var colorType = 0
    var rgb: [UInt8] = []

    init(_ png: [UInt8]) throws {
        try #require(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func uint32(at offset: Int) -> Int {
            png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        var compressed: [UInt8] = []
        var offset = 8
        while offset < png.count {
            try #require(offset + 12 <= png.count)
            let length = uint32(at: offset)
            try #require(offset + 12 + length <= png.count)
            let typeAndData = Array(png[(offset + 4)..<(offset + 8 + length)])
            let stored = uint32(at: offset + 8 + length)
            let computed = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
            #expect(Int(computed) == stored, "CRC of chunk at \(offset)")
            let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
            let data = Array(typeAndData.dropFirst(4))
            chunkTypes.append(type)
            switch type {
            case "IHDR":
                try #require(data.count == 13)
                width = data[0..<4].reduce(0) { $0 << 8 | Int($1) }
                height = data[4..<8].reduce(0) { $0 << 8 | Int($1) }
                bitDepth = Int(data[8])
                colorType = Int(data[9])
                #expect(data[10...] == [0, 0, 0])
            case "IDAT": compressed += data
            default: break
            }
            offset += 12 + length
        }
        #expect(chunkTypes.first == "IHDR")
        #expect(chunkTypes.last == "IEND")

        let rowBytes = width * 3 + 1
        var inflated = [UInt8](repeating: 0, count: rowBytes * height)
        var inflatedLength = uLongf(inflated.count)
        let status = inflated.withUnsafeMutableBufferPointer { destination in
            compressed.withUnsafeBufferPointer { source in
                uncompress(destination.baseAddress, &inflatedLength, source.baseAddress, uLong(source.count))
            }
        }
        try #require(status == Z_OK)
        try #require(Int(inflatedLength) == inflated.count)
        for row in 0..<height {
            #expect(inflated[row * rowBytes] == 0, "filter byte of row \(row)")
            rgb += inflated[(row * rowBytes + 1)..<((row + 1) * rowBytes)]
        }
    }
}

/// An XML document parsed with Foundation's `XMLParser`: fails unless it is well-formed, and
/// keeps the element names and the text content of each text element.
private final class ParsedXML: NSObject, XMLParserDelegate {
    private(set) var rootName: String?
    private(set) var elementNames: [String] = []
    /// The content of each `<text>` and `<title>` element, entities resolved.
    private(set) var texts: [String] = []
    private var currentText: String?

    init(_ xml: String) throws {
        super.init()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = self
        let parsed = parser.parse()
        try #require(parsed, "not well-formed: \(String(describing: parser.parserError))")
    }

    func count(of element: String) -> Int { elementNames.filter { $0 == element }.count }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if rootName == nil { rootName = elementName }
        elementNames.append(elementName)
        if elementName == "text" || elementName == "title" { currentText = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        currentText? += string
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
    ) {
        if let currentText, elementName == "text" || elementName == "title" { texts.append(currentText) }
        currentText = nil
    }
}
