/// A PNG that shows one segmentation sample side by side: the image, the true mask (when
/// known) and the predicted mask, each scaled up by whole pixels so that small images stay
/// visible (at least 256 pixels high), separated by white gutters.
///
/// - Parameters:
///   - dataset: the images (NCHW); 3 channels are shown as RGB, 1 as gray, others by their
///     first channel; values are stretched to the image's own minimum…maximum.
///   - sample: which image.
///   - predicted: its predicted mask (`height × width` class indices).
///   - truth: its true mask, or `nil`.
/// - Returns: the PNG file.
/// - Throws: `DataError` when a mask has the wrong size.
public func segmentationPanelPNG(_ dataset: Dataset, sample: Int, predicted: [Int32], truth: [Int32]?) throws
    -> [UInt8]
{
    let (height, width) = (dataset.height, dataset.width)
    let positions = height * width
    guard predicted.count == positions, truth.map({ $0.count == positions }) ?? true else {
        throw DataError("segmentation panel: masks must have \(height)×\(width) pixels")
    }
    let scale = Swift.max(1, Swift.min(256 / Swift.max(height, 1), 4096 / Swift.max(width, 1)))
    let gutter = 4
    let panels = truth == nil ? 2 : 3
    let outWidth = panels * width * scale + (panels - 1) * gutter
    let outHeight = height * scale
    var rgb = [UInt8](repeating: 255, count: outWidth * outHeight * 3)

    // The image, stretched to its own range.
    let channels = dataset.inputCount
    let base = sample * channels * positions
    let shown = channels == 3 ? [0, 1, 2] : [0, 0, 0]
    let values = dataset.values[base..<(base + Swift.min(channels, 3) * positions)]
    let low = values.min() ?? 0
    let high = values.max() ?? 1
    let range = high > low ? high - low : 1
    func imageColor(_ p: Int) -> (UInt8, UInt8, UInt8) {
        func level(_ c: Int) -> UInt8 {
            UInt8(
                Swift.max(0, Swift.min(255, ((dataset.values[base + c * positions + p] - low) / range * 255).rounded()))
            )
        }
        return (level(shown[0]), level(shown[1]), level(shown[2]))
    }
    func paint(panel: Int, _ color: (Int) -> (UInt8, UInt8, UInt8)) {
        let left = panel * (width * scale + gutter)
        for y in 0..<outHeight {
            for x in 0..<(width * scale) {
                let c = color((y / scale) * width + x / scale)
                let o = (y * outWidth + left + x) * 3
                (rgb[o], rgb[o + 1], rgb[o + 2]) = (c.0, c.1, c.2)
            }
        }
    }
    paint(panel: 0, imageColor)
    if let truth { paint(panel: 1) { MaskPalette.color(forClass: Int(truth[$0])) } }
    paint(panel: panels - 1) { MaskPalette.color(forClass: Int(predicted[$0])) }
    return try pngBytes(width: outWidth, height: outHeight, rgb: rgb)
}
