import Softmax

/// A small generated segmentation set: RGB images of warm-coloured disks and cool-coloured
/// squares on a textured gray background, with Gaussian pixel noise strong enough that a
/// single pixel is often ambiguous (its neighbourhood helps).  The object pixels that touch
/// another class are labelled 255 — "don't care", PASCAL VOC's convention — so training with
/// `--ignore-index 255` skips the ambiguous boundary.
public enum GeneratedShapes {
    /// The class names: background, disk, square.
    public static let classNames = ["background", "disk", "square"]
    /// The boundary label.
    public static let boundaryLabel: Int32 = 255

    /// `count` images of `side × side` pixels, deterministic for `seed`.
    ///
    /// - Returns: a segmentation data set, values NCHW in about [−1, 2].
    public static func make(count: Int, side: Int = 32, seed: UInt64) -> Dataset {
        var generator = SplitMix64(seed: seed ^ 0x5A4E_5EED)
        let positions = side * side
        var values = [Float](repeating: 0, count: count * 3 * positions)
        var labels = [Int32](repeating: 0, count: count * positions)
        for n in 0..<count {
            var mask = [Int32](repeating: 0, count: positions)
            var color = [[Float]](repeating: [0, 0, 0], count: positions)
            // Background: a gray level with a gentle gradient.
            let gray = Float(0.25 + 0.25 * generator.uniform())
            let (gx, gy) = (Float(generator.uniform() - 0.5) * 0.3, Float(generator.uniform() - 0.5) * 0.3)
            for y in 0..<side {
                for x in 0..<side {
                    let level = gray + gx * Float(x) / Float(side) + gy * Float(y) / Float(side)
                    color[y * side + x] = [level, level, level]
                }
            }
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let isDisk = generator.next() % 2 == 0
                let radius = Double(side) * (0.12 + 0.16 * generator.uniform())
                let cx = generator.uniform() * Double(side)
                let cy = generator.uniform() * Double(side)
                let jitter = Float(generator.uniform() - 0.5) * 0.2
                let objectColor: [Float] = isDisk ? [0.9 + jitter, 0.5, 0.25] : [0.25, 0.5 + jitter, 0.9]
                for y in 0..<side {
                    for x in 0..<side {
                        let (dx, dy) = (Double(x) + 0.5 - cx, Double(y) + 0.5 - cy)
                        let inside =
                            isDisk ? dx * dx + dy * dy <= radius * radius : abs(dx) <= radius && abs(dy) <= radius
                        if inside {
                            mask[y * side + x] = isDisk ? 1 : 2
                            color[y * side + x] = objectColor
                        }
                    }
                }
            }
            for y in 0..<side {
                for x in 0..<side {
                    let p = y * side + x
                    var label = mask[p]
                    if label != 0 {
                        for (ny, nx) in [(y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)]
                        where ny >= 0 && ny < side && nx >= 0 && nx < side && mask[ny * side + nx] != label {
                            label = boundaryLabel
                        }
                    }
                    labels[n * positions + p] = label
                    for c in 0..<3 {
                        values[(n * 3 + c) * positions + p] = color[p][c] + Float(generator.gaussian(std: 0.2))
                    }
                }
            }
        }
        return Dataset(
            task: .segmentation, samples: count, inputCount: 3, height: side, width: side, values: values,
            labels: labels,
            classNames: classNames)
    }
}
