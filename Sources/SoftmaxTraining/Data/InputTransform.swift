/// Turns raw samples into the rows the network reads: standardise each raw feature (channel,
/// for images), then, for segmentation, gather each pixel's `patchSize × patchSize`
/// neighbourhood of every channel (zero — the mean — outside the image).
public struct InputTransform: Sendable, Equatable {
    /// Per raw feature or channel: subtracted.
    public var mean: [Float]
    /// Per raw feature or channel: multiplied after subtracting the mean.
    public var scale: [Float]
    /// Segmentation: the neighbourhood side; `nil` for classification.
    public var patchSize: Int?

    /// A transform with known parameters (from a model file).
    public init(mean: [Float], scale: [Float], patchSize: Int?) {
        self.mean = mean
        self.scale = scale
        self.patchSize = patchSize
    }

    /// The standardisation of `dataset`'s samples at `indices`: mean and 1 / standard
    /// deviation per raw feature (per channel over every pixel for images), in Double; a
    /// constant feature gets scale 1.
    public init(fitting dataset: Dataset, samples indices: [Int], patchSize: Int?) {
        let inputs = dataset.inputCount
        let positions = dataset.positionsPerSample
        var sum = [Double](repeating: 0, count: inputs)
        var sumSquares = [Double](repeating: 0, count: inputs)
        dataset.values.withUnsafeBufferPointer { values in
            for n in indices {
                let base = n * inputs * positions
                for f in 0..<inputs {
                    for p in 0..<positions {
                        let v = Double(values[base + f * positions + p])
                        sum[f] += v
                        sumSquares[f] += v * v
                    }
                }
            }
        }
        let count = Double(Swift.max(indices.count * positions, 1))
        mean = sum.map { Float($0 / count) }
        scale = zip(sum, sumSquares).map { s, q in
            let variance = Swift.max(q / count - (s / count) * (s / count), 0)
            return variance > 1e-12 ? Float(1 / variance.squareRoot()) : 1
        }
        self.patchSize = dataset.task == .segmentation ? (patchSize ?? 1) : nil
    }

    /// Features per row: raw features, or channels × patch².
    public var rowFeatures: Int { mean.count * (patchSize ?? 1) * (patchSize ?? 1) }

    /// Rows per sample of `dataset`: 1, or its pixels.
    public func rowsPerSample(_ dataset: Dataset) -> Int { dataset.positionsPerSample }

    /// Appends the rows of sample `n` of `dataset` to `rows`.
    public func appendRows(of dataset: Dataset, sample n: Int, to rows: inout [Float]) {
        let inputs = mean.count
        let positions = dataset.positionsPerSample
        let base = n * inputs * positions
        guard let patch = patchSize else {
            for f in 0..<inputs { rows.append((dataset.values[base + f] - mean[f]) * scale[f]) }
            return
        }
        let (height, width, radius) = (dataset.height, dataset.width, patch / 2)
        let start = rows.count
        rows.append(contentsOf: repeatElement(0, count: positions * inputs * patch * patch))
        let rowLength = inputs * patch * patch
        dataset.values.withUnsafeBufferPointer { values in
            rows.withUnsafeMutableBufferPointer { out in
                for c in 0..<inputs {
                    let plane = base + c * positions
                    let (m, s) = (mean[c], scale[c])
                    for y in 0..<height {
                        for x in 0..<width {
                            let row = start + (y * width + x) * rowLength + c * patch * patch
                            for dy in 0..<patch {
                                let sy = y + dy - radius
                                guard sy >= 0 && sy < height else { continue }
                                for dx in 0..<patch {
                                    let sx = x + dx - radius
                                    guard sx >= 0 && sx < width else { continue }
                                    out[row + dy * patch + dx] = (values[plane + sy * width + sx] - m) * s
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The rows of the samples at `indices`, in order.
    public func rows(of dataset: Dataset, samples indices: some Sequence<Int>) -> [Float] {
        var rows: [Float] = []
        for n in indices { appendRows(of: dataset, sample: n, to: &rows) }
        return rows
    }
}
