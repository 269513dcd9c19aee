import Softmax

/// Samples with class labels, before normalisation: rows of raw features (classification) or
/// images with masks (segmentation).
public struct Dataset: Sendable {
    /// Classification or segmentation.
    public var task: SoftmaxModel.Task
    /// Samples (rows, or images).
    public var samples: Int
    /// Raw features per sample (classification) or channels per pixel (segmentation).
    public var inputCount: Int
    /// Image height and width (1 × 1 for classification).
    public var height: Int
    /// Image width.
    public var width: Int
    /// Classification: `samples × inputCount`, row-major.  Segmentation: `samples ×
    /// inputCount × height × width` (NCHW).
    public var values: [Float]
    /// One class index per position (`samples` labels, or `samples × height × width` mask
    /// pixels); `ignoreIndex` values allowed.
    public var labels: [Int32]
    /// The class names, index order.
    public var classNames: [String]

    /// Pixels per image (1 for classification).
    public var positionsPerSample: Int { height * width }

    /// A data set; the caller has checked the counts.
    public init(
        task: SoftmaxModel.Task, samples: Int, inputCount: Int, height: Int = 1, width: Int = 1, values: [Float],
        labels: [Int32], classNames: [String]
    ) {
        self.task = task
        self.samples = samples
        self.inputCount = inputCount
        self.height = height
        self.width = width
        self.values = values
        self.labels = labels
        self.classNames = classNames
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        let stride = inputCount * positionsPerSample
        let positions = positionsPerSample
        var values: [Float] = []
        values.reserveCapacity(indices.count * stride)
        var labels: [Int32] = []
        labels.reserveCapacity(indices.count * positions)
        for i in indices {
            values.append(contentsOf: self.values[(i * stride)..<((i + 1) * stride)])
            labels.append(contentsOf: self.labels[(i * positions)..<((i + 1) * positions)])
        }
        var copy = self
        copy.samples = indices.count
        copy.values = values
        copy.labels = labels
        return copy
    }

    /// Checks every label is a class index or `ignoreIndex`, naming the first that is not.
    ///
    /// - Throws: `DataError`.
    public func checkLabels(ignoreIndex: Int?, source: String) throws {
        let classes = Int32(classNames.count)
        for (i, label) in labels.enumerated() where !(label >= 0 && label < classes) && Int(label) != ignoreIndex {
            let place =
                task == .classification
                ? "sample \(i)"
                : "image \(i / positionsPerSample), pixel (\((i % positionsPerSample) / width), \(i % width))"
            throw DataError(
                "\(source): label \(label) at \(place) is not a class (0..<\(classes))"
                    + (ignoreIndex.map { " or the ignore index \($0)" } ?? ""))
        }
    }

    /// A train/test split holding out `testFraction` of the samples: stratified by class for
    /// classification (each class split in proportion, as scikit-learn's `stratify`), plain
    /// shuffled for segmentation.  Deterministic for a `seed`.
    ///
    /// - Returns: sample indices of the two parts, each in ascending order.
    public func split(testFraction: Double, seed: UInt64) -> (train: [Int], test: [Int]) {
        var generator = SplitMix64(seed: seed ^ 0x5EED_5B11_7000_0001)
        guard testFraction > 0, samples > 1 else { return (Array(0..<samples), []) }
        var groups: [[Int]]
        if task == .classification {
            groups = Array(repeating: [], count: classNames.count + 1)
            for i in 0..<samples {
                let label = Int(labels[i])
                groups[(0..<classNames.count).contains(label) ? label : classNames.count].append(i)
            }
        } else {
            groups = [Array(0..<samples)]
        }
        var train: [Int] = []
        var test: [Int] = []
        for var group in groups where !group.isEmpty {
            fisherYatesShuffle(&group, &generator)
            var held = Int((Double(group.count) * testFraction).rounded())
            if group.count > 1 { held = Swift.min(Swift.max(held, 1), group.count - 1) } else { held = 0 }
            test += group[..<held]
            train += group[held...]
        }
        return (train.sorted(), test.sorted())
    }
}

/// Shuffles `array` in place with the Fisher–Yates algorithm written out, so the order for a
/// seed does not depend on the standard library's `shuffle` implementation.
func fisherYatesShuffle<T>(_ array: inout [T], _ generator: inout SplitMix64) {
    guard array.count > 1 else { return }
    for i in stride(from: array.count - 1, to: 0, by: -1) {
        let j = Int(generator.next() % UInt64(i + 1))
        array.swapAt(i, j)
    }
}
