/// Draws a confusion matrix as a heat-map in a self-contained SVG document.
///
/// Rows are the true classes and columns the predicted classes.  Each cell is shaded by its count
/// divided by its row's total (white for 0 %, dark blue for 100 %), so that rare classes are as
/// visible as common ones; the count itself is written in the cell while the cells are at least
/// 14 units wide, and is otherwise available as the cell's hover tooltip.  Cells shrink with the
/// number of classes (down to 8 units, so 100 classes make an 800-unit grid) and the document
/// grows to fit.  A ragged or non-square `counts` is drawn as square with the missing cells 0.
///
/// - Parameters:
///   - counts: `counts[t][p]` is how many examples of true class `t` were predicted as `p`.
///     Negative counts are shown as written but shaded as 0.
///   - classNames: Labels of the classes in index order; classes without a name are labelled
///     by their index, names longer than 20 characters are shortened in the middle, XML special
///     characters are escaped.
///   - title: The heading drawn above the matrix.
/// - Returns: The SVG document.  Without any class it is a box saying "no classes".
public func confusionMatrixSVG(_ counts: [[Int]], classNames: [String], title: String) -> String {
    let classCount = max(counts.count, counts.map(\.count).max() ?? 0)
    guard classCount > 0 else {
        var svg = SVGDocument(width: 360, height: 120)
        svg.text(title, x: 180, y: 28, size: 16, anchor: "middle", bold: true)
        svg.text("no classes", x: 180, y: 72, size: 14, anchor: "middle", fill: "#666666")
        return svg.finished()
    }
    let layout = ConfusionMatrixLayout(
        classCount: classCount, labels: (0..<classCount).map { shortenedClassName(classNames, index: $0) },
        title: title)
    var svg = SVGDocument(width: layout.width, height: layout.height)
    svg.text(title, x: layout.width / 2, y: 28, size: 16, anchor: "middle", bold: true)

    func count(_ row: Int, _ column: Int) -> Int {
        row < counts.count && column < counts[row].count ? counts[row][column] : 0
    }
    let cell = layout.cellSize
    let gridSize = cell * Double(classCount)
    // The white grid background stands for every zero cell, so only non-zero cells need a
    // rectangle: a 100-class matrix is mostly zeros and would otherwise be 10 000 elements.
    svg.rect(x: layout.gridX, y: layout.gridY, width: gridSize, height: gridSize, fill: "#ffffff")
    for row in 0..<classCount {
        // Summed in Double: a row total of Int counts could overflow where the shares cannot.
        let rowTotal = (0..<classCount).reduce(0.0) { $0 + Double(max(0, count(row, $1))) }
        for column in 0..<classCount {
            let value = count(row, column)
            let share = rowTotal > 0 ? Double(max(0, value)) / rowTotal : 0
            let x = layout.gridX + Double(column) * cell
            let y = layout.gridY + Double(row) * cell
            if value != 0 {
                let percent = svgDecimal(share * 100, fractionDigits: 1)
                svg.rect(
                    x: x, y: y, width: cell, height: cell, fill: heatColor(share),
                    tooltip: "true \(layout.labels[row]), predicted \(layout.labels[column]): \(value)"
                        + " (\(percent)% of true \(layout.labels[row]))")
            }
            if layout.showsCounts {
                let digits = String(value)
                // Shrink long counts to fit the cell rather than let them spill into neighbours.
                let size = min(12, cell * 0.42, (cell - 3) / (0.6 * Double(digits.count)))
                let color = share > 0.55 ? "#ffffff" : value == 0 ? "#b0b0b0" : "#1a1a1a"
                svg.text(
                    digits, x: x + cell / 2, y: y + cell / 2 + size * 0.35, size: size, anchor: "middle",
                    fill: color)
            }
        }
    }
    svg.rect(
        x: layout.gridX, y: layout.gridY, width: gridSize, height: gridSize, fill: "none", stroke: "#555555")
    drawClassLabels(layout, into: &svg)
    drawColorBar(layout, into: &svg)
    return svg.finished()
}

/// Where the parts of a confusion-matrix drawing go, from the number of classes and the length
/// of their names.
struct ConfusionMatrixLayout {
    /// The shortened class labels, one per class.
    var labels: [String]
    /// Side of one cell.
    var cellSize: Double
    /// Font size of the class labels.
    var labelSize: Double
    /// How far the column labels are turned (counter-clockwise, degrees): 0 when they fit their
    /// cell, 45 while turned labels stay apart, 90 for narrow cells.
    var columnLabelRotation: Double
    /// Whether the cells are big enough (14 units) for their counts to be legible.
    var showsCounts: Bool
    /// Left edge of the grid.
    var gridX: Double
    /// Top edge of the grid.
    var gridY: Double
    /// Height of the band under the grid taken by the column labels.
    var columnLabelBand: Double
    /// Document width.
    var width: Double
    /// Document height.
    var height: Double

    /// Width of the colour bar and its labels to the right of the grid.
    static let colorBarBand = 96.0

    /// The layout for `classCount` classes labelled `labels` under `title`.
    ///
    /// - Parameters:
    ///   - classCount: The number of rows (and columns).
    ///   - labels: One label per class.
    ///   - title: The document title, so that the document is wide enough for it.
    init(classCount: Int, labels: [String], title: String) {
        self.labels = labels
        let cellSize = min(44, max(8, (640 / Double(classCount)).rounded(.down)))
        let labelSize = min(12, max(5, cellSize * 0.8))
        self.cellSize = cellSize
        self.labelSize = labelSize
        showsCounts = cellSize >= 14
        let longestLabel = labels.map { estimatedTextWidth($0, size: labelSize) }.max() ?? 0
        // Labels turned by 45° are only cellSize × sin 45° apart across their baselines, so they
        // collide once that is less than a line of text; vertical labels are a full cell apart.
        if longestLabel <= cellSize - 2 {
            columnLabelRotation = 0
        } else if cellSize * 0.71 >= labelSize * 1.25 {
            columnLabelRotation = 45
        } else {
            columnLabelRotation = 90
        }
        // Room on the left: the rotated axis title, a gap, the row labels.
        gridX = 36 + longestLabel + 8
        gridY = 52
        switch columnLabelRotation {
        case 0: columnLabelBand = labelSize + 10
        case 45: columnLabelBand = longestLabel * 0.71 + labelSize + 10
        default: columnLabelBand = longestLabel + 12
        }
        let gridSize = cellSize * Double(classCount)
        width = max(gridX + gridSize + Self.colorBarBand, estimatedTextWidth(title, size: 16) + 40)
        height = gridY + gridSize + columnLabelBand + 34
    }
}

/// Writes the row labels (true classes), the column labels (predicted classes) and the two axis
/// titles.
///
/// - Parameters:
///   - layout: Where everything goes.
///   - svg: The document to append to.
func drawClassLabels(_ layout: ConfusionMatrixLayout, into svg: inout SVGDocument) {
    let cell = layout.cellSize
    let gridSize = cell * Double(layout.labels.count)
    let gridBottom = layout.gridY + gridSize
    for (index, label) in layout.labels.enumerated() {
        let center = Double(index) * cell + cell / 2
        svg.text(
            label, x: layout.gridX - 5, y: layout.gridY + center + layout.labelSize * 0.35, size: layout.labelSize,
            anchor: "end")
        if layout.columnLabelRotation > 0 {
            // Anchored at their end so that the turned names hang down from their column; the
            // small shift centres the glyphs (which lie on one side of the baseline) on it.
            svg.text(
                label, x: layout.gridX + center + layout.labelSize * 0.35, y: gridBottom + 8,
                size: layout.labelSize, anchor: "end", rotation: -layout.columnLabelRotation)
        } else {
            svg.text(
                label, x: layout.gridX + center, y: gridBottom + layout.labelSize + 4, size: layout.labelSize,
                anchor: "middle")
        }
    }
    svg.text(
        "true class", x: 18, y: layout.gridY + gridSize / 2, size: 13, anchor: "middle", bold: true,
        rotation: -90)
    svg.text(
        "predicted class", x: layout.gridX + gridSize / 2, y: gridBottom + layout.columnLabelBand + 18, size: 13,
        anchor: "middle", bold: true)
}

/// Draws the legend of the shading: a vertical bar from 0 % (white, bottom) to 100 % of the row
/// (dark blue, top) to the right of the grid.
///
/// - Parameters:
///   - layout: Where the grid is.
///   - svg: The document to append to.
func drawColorBar(_ layout: ConfusionMatrixLayout, into svg: inout SVGDocument) {
    let gridSize = layout.cellSize * Double(layout.labels.count)
    let barX = layout.gridX + gridSize + 20
    let barHeight = min(gridSize, 200)
    let barWidth = 14.0
    // Stacked bands instead of a gradient, so that the bar shows exactly the colours the cells use
    // and renders the same in viewers with weak gradient support.  Each band reaches one unit into
    // the one below it: edge-to-edge bands at fractional coordinates leave anti-aliased seams.
    let bands = 20
    for band in 0..<bands {
        let share = (Double(band) + 0.5) / Double(bands)
        let bandHeight = barHeight / Double(bands)
        svg.rect(
            x: barX, y: layout.gridY + barHeight - Double(band + 1) * bandHeight, width: barWidth,
            height: band == 0 ? bandHeight : bandHeight + 1, fill: heatColor(share))
    }
    svg.rect(x: barX, y: layout.gridY, width: barWidth, height: barHeight, fill: "none", stroke: "#555555")
    for (share, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        let y = layout.gridY + barHeight * (1 - share)
        svg.line(x1: barX + barWidth, y1: y, x2: barX + barWidth + 4, y2: y, stroke: "#555555")
        svg.text(label, x: barX + barWidth + 7, y: y + 4, size: 10, anchor: "start")
    }
    svg.text("of row", x: barX, y: layout.gridY + barHeight + 16, size: 10, anchor: "start")
}

/// The heat-map colour of a share of a row: linear from white (0) to dark blue #08306b (1).
///
/// - Parameter share: A fraction; clamped to 0...1.
/// - Returns: The colour as `#rrggbb`.
func heatColor(_ share: Double) -> String {
    let t = share.isFinite ? min(max(share, 0), 1) : 0
    func channel(_ dark: Double) -> UInt8 { UInt8((255 + (dark - 255) * t).rounded()) }
    return hexColor(channel(8), channel(48), channel(107))
}

/// A colour as `#rrggbb`.
///
/// - Parameters:
///   - red: Red channel.
///   - green: Green channel.
///   - blue: Blue channel.
/// - Returns: Lower-case hex notation.
func hexColor(_ red: UInt8, _ green: UInt8, _ blue: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return "#" + [red, green, blue].map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined()
}

/// The label of class `index`: its name shortened to 20 characters, or the index itself when
/// there is no (non-empty) name.
///
/// Long names are cut in the middle rather than at the end, because names of a family of
/// classes tend to share a prefix and differ at the end ("vehicle/car", "vehicle/truck").
///
/// - Parameters:
///   - names: The class names given by the caller.
///   - index: The class index.
/// - Returns: The label to draw.
func shortenedClassName(_ names: [String], index: Int) -> String {
    guard index < names.count, !names[index].isEmpty else { return String(index) }
    let name = names[index]
    return name.count > 20 ? String(name.prefix(9)) + "…" + String(name.suffix(10)) : name
}

/// A rough width of `text` in a proportional sans-serif font: 0.6 em per character.  Used only
/// to reserve room for labels; there is no font metrics API to ask without a rendering engine.
///
/// - Parameters:
///   - text: The text.
///   - size: Font size.
/// - Returns: The estimated width in user units.
func estimatedTextWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }
