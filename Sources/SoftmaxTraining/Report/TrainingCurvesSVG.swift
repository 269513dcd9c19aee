import Foundation

// `EpochRecord` (one epoch's losses, accuracies and time) is defined in
// Training/EpochRecord.swift, next to the trainer that produces it.

/// Draws the learning curves of a training run as a self-contained SVG document.
///
/// Two panels side by side: the loss per epoch and the accuracy per epoch in percent, each with
/// the training curve and, when any record has one, the test curve.  Points whose value is NaN or
/// infinite are left out (a diverged epoch leaves a gap in the markers rather than a broken file).
/// The document uses no scripts, external fonts or style sheets, so it can be opened from disk or
/// embedded in HTML as is.
///
/// - Parameters:
///   - records: The epochs, in any order (they are plotted sorted by epoch number).
///   - title: The heading drawn above the panels; XML special characters are escaped.
/// - Returns: The SVG document, 720 × 480 user units.  Without records it is a box saying
///   "no epochs".
public func trainingCurvesSVG(_ records: [EpochRecord], title: String) -> String {
    let width = 720.0
    let height = 480.0
    var svg = SVGDocument(width: width, height: height)
    svg.text(title, x: width / 2, y: 28, size: 16, anchor: "middle", bold: true)
    guard !records.isEmpty else {
        svg.text("no epochs", x: width / 2, y: height / 2, size: 14, anchor: "middle", fill: "#666666")
        return svg.finished()
    }

    let sorted = records.sorted { $0.epoch < $1.epoch }
    let hasTest = sorted.contains { $0.testLoss != nil || $0.testAccuracy != nil }
    let epochAxis = NiceAxis.integers(
        covering: Double(sorted.first!.epoch), Double(sorted.last!.epoch), targetTickCount: 6)

    // Both panels share the series styles: colour alone is not enough for readers with colour
    // vision deficiencies, so the test curve is also dashed and its markers hollow.
    let train = CurveStyle(name: "train", color: "#1f77b4", dashArray: nil, hollowMarkers: false)
    let test = CurveStyle(name: "test", color: "#d95f02", dashArray: "6 3", hollowMarkers: true)

    func points(_ value: (EpochRecord) -> Double?) -> [(x: Double, y: Double, epoch: Int)] {
        sorted.compactMap { record in
            guard let y = value(record), y.isFinite else { return nil }
            return (Double(record.epoch), y, record.epoch)
        }
    }
    var lossSeries = [CurveSeries(style: train, quantity: "loss", points: points { $0.trainLoss })]
    var accuracySeries = [
        CurveSeries(style: train, quantity: "accuracy", points: points { $0.trainAccuracy * 100 })
    ]
    if hasTest {
        lossSeries.append(CurveSeries(style: test, quantity: "loss", points: points { $0.testLoss }))
        accuracySeries.append(
            CurveSeries(style: test, quantity: "accuracy", points: points { $0.testAccuracy.map { $0 * 100 } }))
    }

    let plotTop = 66.0
    let plotHeight = 310.0
    let panelWidth = 270.0
    // The data range is widened by a few percent before rounding to nice values, so that the
    // extreme points do not land on the panel frame where their markers would be cut in half.
    func paddedRange(_ values: [Double], fallback: ClosedRange<Double>) -> ClosedRange<Double> {
        guard let low = values.min(), let high = values.max() else { return fallback }
        let pad = (high - low) * 0.04
        return pad.isFinite ? (low - pad)...(high + pad) : low...high
    }
    let lossValues = lossSeries.flatMap { $0.points.map(\.y) }
    let lossRange = paddedRange(lossValues, fallback: 0...1)
    // Cross-entropy is non-negative, so its axis starts at zero to keep the size of improvements
    // honest; only a loss that really went negative (some other objective) extends it below.
    let lossAxis = NiceAxis.covering(
        (lossValues.min() ?? 0) < 0 ? lossRange.lowerBound : 0, lossRange.upperBound, targetTickCount: 6)
    let accuracyRange = paddedRange(accuracySeries.flatMap { $0.points.map(\.y) }, fallback: 0...100)
    var accuracyAxis = NiceAxis.covering(
        accuracyRange.lowerBound, accuracyRange.upperBound, targetTickCount: 6)
    accuracyAxis.clamp(to: 0...100)

    let lossPanel = PlotPanel(
        x: 72, y: plotTop, width: panelWidth, height: plotHeight, xAxis: epochAxis, yAxis: lossAxis,
        title: "loss per epoch", xTitle: "epoch", yTitle: "loss")
    let accuracyPanel = PlotPanel(
        x: 72 + panelWidth + 92, y: plotTop, width: panelWidth, height: plotHeight, xAxis: epochAxis,
        yAxis: accuracyAxis, title: "accuracy per epoch", xTitle: "epoch", yTitle: "accuracy (%)")
    lossPanel.draw(lossSeries, valueDigits: 4, unit: "", into: &svg)
    accuracyPanel.draw(accuracySeries, valueDigits: 2, unit: "%", into: &svg)

    drawLegend(hasTest ? [train, test] : [train], centerX: width / 2, y: height - 26, into: &svg)
    return svg.finished()
}

// MARK: - Curves

/// How one kind of curve (train or test) is drawn.
struct CurveStyle {
    /// The legend label and the first word of the marker tooltips.
    var name: String
    /// Stroke colour, `#rrggbb`.
    var color: String
    /// SVG `stroke-dasharray`, or `nil` for a solid line.
    var dashArray: String?
    /// Markers drawn as rings (white fill) instead of discs.
    var hollowMarkers: Bool
}

/// The finite points of one curve in data coordinates.
struct CurveSeries {
    var style: CurveStyle
    /// What the y values are ("loss", "accuracy"), for the marker tooltips.
    var quantity: String
    var points: [(x: Double, y: Double, epoch: Int)]
}

/// One chart: a rectangle in the document with its axes.
struct PlotPanel {
    var x: Double
    var y: Double
    var width: Double
    var height: Double
    var xAxis: NiceAxis
    var yAxis: NiceAxis
    var title: String
    var xTitle: String
    var yTitle: String

    /// The document x coordinate of a data x value.
    func screenX(_ value: Double) -> Double { x + xAxis.fraction(of: value) * width }

    /// The document y coordinate of a data y value (SVG's y grows downwards).
    func screenY(_ value: Double) -> Double { y + height - yAxis.fraction(of: value) * height }

    /// Draws the frame, grid, ticks, titles and the curves.
    ///
    /// - Parameters:
    ///   - series: The curves, drawn in order (later ones on top).
    ///   - valueDigits: Decimals of the y values in the marker tooltips.
    ///   - unit: Appended to the y values in the tooltips (e.g. `%`).
    ///   - svg: The document to append to.
    func draw(_ series: [CurveSeries], valueDigits: Int, unit: String, into svg: inout SVGDocument) {
        svg.text(title, x: x + width / 2, y: y - 12, size: 13, anchor: "middle", bold: true)
        for tick in yAxis.ticks {
            let tickY = screenY(tick)
            svg.line(x1: x, y1: tickY, x2: x + width, y2: tickY, stroke: "#e4e4e4")
            svg.line(x1: x - 5, y1: tickY, x2: x, y2: tickY, stroke: "#333333")
            svg.text(yAxis.label(tick), x: x - 8, y: tickY + 4, size: 11, anchor: "end")
        }
        for tick in xAxis.ticks {
            let tickX = screenX(tick)
            svg.line(x1: tickX, y1: y, x2: tickX, y2: y + height, stroke: "#f0f0f0")
            svg.line(x1: tickX, y1: y + height, x2: tickX, y2: y + height + 5, stroke: "#333333")
            svg.text(xAxis.label(tick), x: tickX, y: y + height + 18, size: 11, anchor: "middle")
        }
        svg.rect(x: x, y: y, width: width, height: height, fill: "none", stroke: "#333333")
        svg.text(xTitle, x: x + width / 2, y: y + height + 38, size: 12, anchor: "middle")
        svg.text(yTitle, x: x - 50, y: y + height / 2, size: 12, anchor: "middle", rotation: -90)

        // Many epochs would turn the markers into a thick smear over the line; shrink them.
        let markerCount = series.map(\.points.count).max() ?? 0
        let markerRadius = markerCount > 60 ? 1.5 : markerCount > 25 ? 2.2 : 3
        for curve in series {
            // A value outside the axis range can only come from an axis fallback for absurd
            // magnitudes; leaving it out keeps the curve inside its panel.
            let visible = curve.points.compactMap { point -> (Double, Double, Int, Double)? in
                let px = screenX(point.x)
                let py = screenY(point.y)
                guard px.isFinite, py.isFinite, yAxis.contains(point.y) else { return nil }
                return (px, py, point.epoch, point.y)
            }
            guard !visible.isEmpty else { continue }
            svg.polyline(
                visible.map { ($0.0, $0.1) }, stroke: curve.style.color, strokeWidth: 2,
                dashArray: curve.style.dashArray)
            for (px, py, epoch, value) in visible {
                let tooltip =
                    "epoch \(epoch): \(curve.style.name) \(curve.quantity) "
                    + svgDecimal(value, fractionDigits: valueDigits) + unit
                svg.circle(
                    cx: px, cy: py, r: markerRadius, fill: curve.style.hollowMarkers ? "#ffffff" : curve.style.color,
                    stroke: curve.style.color, tooltip: tooltip)
            }
        }
    }
}

/// Draws a one-row legend (line sample, marker, name per style) centred on `centerX`.
///
/// - Parameters:
///   - styles: The curve styles to explain, left to right.
///   - centerX: Horizontal centre of the legend row.
///   - y: Baseline of the legend row.
///   - svg: The document to append to.
func drawLegend(_ styles: [CurveStyle], centerX: Double, y: Double, into svg: inout SVGDocument) {
    let itemWidth = 90.0
    var itemX = centerX - itemWidth * Double(styles.count) / 2
    for style in styles {
        svg.polyline(
            [(itemX, y - 4), (itemX + 28, y - 4)], stroke: style.color, strokeWidth: 2, dashArray: style.dashArray)
        svg.circle(
            cx: itemX + 14, cy: y - 4, r: 3, fill: style.hollowMarkers ? "#ffffff" : style.color,
            stroke: style.color, tooltip: nil)
        svg.text(style.name, x: itemX + 34, y: y, size: 12, anchor: "start")
        itemX += itemWidth
    }
}

// MARK: - Axes

/// An axis range whose ends and ticks are "nice" numbers: 1, 2 or 5 times a power of ten.
struct NiceAxis {
    /// The value at the start (left or bottom) of the axis.
    var lower: Double
    /// The value at the end (right or top) of the axis.
    var upper: Double
    /// Distance between ticks.
    var step: Double
    /// Decimals the tick labels need to tell the ticks apart (0 for steps of 1 and up).
    var fractionDigits: Int

    /// The tick values from `lower` to `upper`.  Computed from integer multiples of `step` so
    /// that rounding errors do not accumulate, and capped in count so that a step that is tiny
    /// relative to the values cannot loop for long.
    var ticks: [Double] {
        let first = (lower / step).rounded(.up)
        let last = (upper / step).rounded(.down)
        guard first.isFinite, last.isFinite, last >= first, last - first <= 50 else { return [lower, upper] }
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// The nice step near `span / targetTickCount`, and its power of ten.
    ///
    /// - Parameters:
    ///   - span: The length of the range to divide; positive and finite.
    ///   - targetTickCount: Roughly how many intervals the range should have.
    /// - Returns: The step (1, 2 or 5 × 10^exponent) and the exponent.
    static func niceStep(span: Double, targetTickCount: Int) -> (step: Double, exponent: Int) {
        let raw = span / Double(max(1, targetTickCount))
        var exponent = Int((log10(raw)).rounded(.down))
        let mantissa = raw / pow(10, Double(exponent))
        let niceMantissa: Double
        switch mantissa {
        case ...1: niceMantissa = 1
        case ...2: niceMantissa = 2
        case ...5: niceMantissa = 5
        default:
            niceMantissa = 1
            exponent += 1
        }
        return (niceMantissa * pow(10, Double(exponent)), exponent)
    }

    /// A nice axis that contains `minimum...maximum`.
    ///
    /// - Parameters:
    ///   - minimum: The smallest value to show.
    ///   - maximum: The largest value to show.
    ///   - targetTickCount: Roughly how many intervals the axis should have.
    /// - Returns: The axis; 0...1 when the values are not finite or too far apart to subtract.
    static func covering(_ minimum: Double, _ maximum: Double, targetTickCount: Int) -> NiceAxis {
        var low = Swift.min(minimum, maximum)
        var high = Swift.max(minimum, maximum)
        if low == high {
            // A flat curve still needs a range to be drawn in: pad around the value.
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
            if minimum >= 0 && low < 0 { low = 0 }
        }
        let span = high - low
        guard low.isFinite, high.isFinite, span.isFinite, span > 0 else {
            return NiceAxis(lower: 0, upper: 1, step: 0.2, fractionDigits: 1)
        }
        let (step, exponent) = niceStep(span: span, targetTickCount: targetTickCount)
        let lower = (low / step).rounded(.down) * step
        let upper = (high / step).rounded(.up) * step
        guard lower.isFinite, upper.isFinite, upper > lower else {
            return NiceAxis(lower: low, upper: high, step: span, fractionDigits: Swift.max(0, -exponent))
        }
        return NiceAxis(lower: lower, upper: upper, step: step, fractionDigits: Swift.max(0, -exponent))
    }

    /// A nice axis of whole numbers (epochs) that contains `minimum...maximum`; a single value
    /// gets one unit of room on each side so it is drawn inside the panel, not on its edge.
    ///
    /// - Parameters:
    ///   - minimum: The smallest value to show.
    ///   - maximum: The largest value to show.
    ///   - targetTickCount: Roughly how many intervals the axis should have.
    /// - Returns: The axis, with a step of at least 1.
    static func integers(covering minimum: Double, _ maximum: Double, targetTickCount: Int) -> NiceAxis {
        let low = minimum == maximum ? minimum - 1 : minimum
        let high = minimum == maximum ? maximum + 1 : maximum
        var axis = covering(low, high, targetTickCount: targetTickCount)
        if axis.step < 1 {
            axis = NiceAxis(lower: low.rounded(.down), upper: high.rounded(.up), step: 1, fractionDigits: 0)
        }
        axis.fractionDigits = 0
        return axis
    }

    /// Narrows the axis to `limits` (accuracy cannot leave 0...100 %) when the nice rounding
    /// overshot them.
    ///
    /// - Parameter limits: The values the axis must not extend beyond.
    mutating func clamp(to limits: ClosedRange<Double>) {
        let newLower = Swift.max(lower, limits.lowerBound)
        let newUpper = Swift.min(upper, limits.upperBound)
        if newUpper > newLower {
            lower = newLower
            upper = newUpper
        }
    }

    /// Where `value` lies along the axis: 0 at `lower`, 1 at `upper`.
    ///
    /// - Parameter value: A data value.
    /// - Returns: The fraction; outside 0...1 for values outside the range.
    func fraction(of value: Double) -> Double { (value - lower) / (upper - lower) }

    /// Whether `value` is inside the axis range, with a little tolerance for rounding.
    ///
    /// - Parameter value: A data value.
    /// - Returns: `true` when the value can be drawn inside the panel.
    func contains(_ value: Double) -> Bool {
        let tolerance = (upper - lower) * 1e-9
        return value >= lower - tolerance && value <= upper + tolerance
    }

    /// The label of a tick value, with the axis' number of decimals.
    ///
    /// - Parameter value: A tick value.
    /// - Returns: The value written in fixed-point notation.
    func label(_ value: Double) -> String { svgDecimal(value, fractionDigits: fractionDigits, trimsZeros: false) }
}
