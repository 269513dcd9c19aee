import Softmax

/// Which data to load and how to read it: the `softmax train / evaluate / predict` data
/// arguments.
public struct DataRequest: Sendable, Equatable {
    /// The data file (CSV, `.npy` or IDX, optionally gzip-compressed); `nil` for the built-in
    /// set of the task (the embedded digits, or generated shapes).
    public var path: String?
    /// The labels (`.npy` or IDX) for `.npy` / IDX features, or segmentation masks.
    public var labelsPath: String?
    /// CSV: which column holds the label.
    public var labelColumn: LabelColumn = .last
    /// CSV: whether the first line is a header.
    public var header: HeaderMode = .auto
    /// Classification or segmentation.
    public var task: SoftmaxModel.Task = .classification
    /// Generated shapes: how many images, and their side.
    public var generatedCount = 240
    /// Generated shapes: the image side.
    public var generatedSide = 32
    /// Generated shapes: the seed.
    public var seed: UInt64 = 0

    /// A request for the built-in data of `task`.
    public init(task: SoftmaxModel.Task = .classification) { self.task = task }
}

/// The file formats the loader reads.
public enum DataFormat: String, Sendable {
    /// Comma-separated text, NumPy `.npy`, and MNIST's IDX.
    case csv, npy, idx
}

/// Features (and, when present, labels) read from files, before labels become class indices.
public struct LoadedData: Sendable {
    /// Classification or segmentation.
    public var task: SoftmaxModel.Task
    /// Samples or images.
    public var samples: Int
    /// Features per sample, or channels per pixel.
    public var inputCount: Int
    /// Image size (1 × 1 for classification).
    public var height = 1
    /// Image width.
    public var width = 1
    /// Row-major features, or NCHW images.
    public var values: [Float]
    /// Classification labels as text (CSV strings, or whole numbers written out).
    public var labelNames: [String]?
    /// Segmentation masks: one class index per pixel.
    public var masks: [Int32]?
    /// Segmentation: the names of the mask's class indices, when the data defines them (the
    /// generated shapes); otherwise classes are named by their index.
    public var maskClassNames: [String]?
    /// What was read, for the model's training record.
    public var description: DataDescription

    /// The data set with class indices: labels looked up in `classNames` (a model's classes),
    /// or, when `classNames` is `nil`, classes made from the labels found (sorted numerically
    /// when every label is a whole number, else alphabetically; masks: `0...max`).
    ///
    /// - Throws: `DataRequestError.missingLabels` without labels; `DataError` for a label that is
    ///   not one of `classNames`.
    public func dataset(classNames given: [String]?, ignoreIndex: Int?, source: String) throws -> Dataset {
        if task == .segmentation {
            guard let masks else { throw DataRequestError.missingLabels(source: source, task: task) }
            let classNames =
                given ?? maskClassNames
                ?? {
                    let top = masks.lazy.filter { Int($0) != ignoreIndex && $0 >= 0 }.max() ?? 0
                    return (0...Int(top)).map(String.init)
                }()
            let dataset = Dataset(
                task: task, samples: samples, inputCount: inputCount, height: height, width: width, values: values,
                labels: masks, classNames: classNames)
            try dataset.checkLabels(ignoreIndex: ignoreIndex, source: source)
            return dataset
        }
        guard let labelNames else { throw DataRequestError.missingLabels(source: source, task: task) }
        let classNames = given ?? Self.classNames(of: labelNames)
        var index: [String: Int32] = [:]
        for (i, name) in classNames.enumerated() { index[name] = Int32(i) }
        var labels = [Int32](repeating: 0, count: labelNames.count)
        for (i, name) in labelNames.enumerated() {
            if let k = index[name] {
                labels[i] = k
            } else if let ignoreIndex, Int(name) == ignoreIndex {
                labels[i] = Int32(clamping: ignoreIndex)
            } else {
                let known = classNames.prefix(12).joined(separator: ", ") + (classNames.count > 12 ? ", …" : "")
                throw DataError("\(source): unknown label '\(name)' (sample \(i)); the model's classes are \(known)")
            }
        }
        return Dataset(
            task: task, samples: samples, inputCount: inputCount, values: values, labels: labels, classNames: classNames
        )
    }

    /// Distinct labels, in numeric order when all are whole numbers, else in string order.
    static func classNames(of labels: [String]) -> [String] {
        let distinct = Array(Set(labels))
        let numbers = distinct.compactMap { Int($0) }
        if numbers.count == distinct.count { return numbers.sorted().map(String.init) }
        return distinct.sorted()
    }
}

/// Reads data sets from files or the built-in sets.
public enum DataLoader {
    /// The format of `path`: by its name (`.csv`, `.tsv`, `.txt`, `.npy`, `-ubyte`, `.idx*`,
    /// each optionally followed by `.gz`), else by its first bytes.
    public static func format(of path: String, bytes: [UInt8]) -> DataFormat {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".npy") { return .npy }
        if name.hasSuffix(".csv") || name.hasSuffix(".tsv") || name.hasSuffix(".txt") { return .csv }
        if name.hasSuffix("-ubyte") || name.contains(".idx") { return .idx }
        if bytes.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
        if bytes.count >= 4, bytes[0] == 0, bytes[1] == 0, [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E].contains(bytes[2]) {
            return .idx
        }
        return .csv
    }

    /// Loads what `request` names.  Labels are optional (`predict` has none) but must match
    /// the samples when present.
    ///
    /// - Throws: `DataRequestError` when labels are given where they cannot be used;
    ///   `DataError` (or `NPYError`) naming the file and what is wrong.
    public static func load(_ request: DataRequest) throws -> LoadedData {
        guard let path = request.path else {
            guard request.labelsPath == nil else { throw DataRequestError.labelsWithoutData }
            return request.task == .classification ? try digits() : generatedShapes(request)
        }
        let bytes = try readDataFile(path)
        switch (request.task, format(of: path, bytes: bytes)) {
        case (.classification, .csv):
            guard request.labelsPath == nil else {
                throw DataRequestError.labelsForCSV
            }
            return try csv(bytes, path: path, request: request)
        case (.classification, let format):
            let features = try array(bytes, path: path, format: format)
            guard features.shape.count >= 1, features.shape[0] > 0 else {
                throw DataError("'\(path)': shape \(features.shape) has no samples")
            }
            let samples = features.shape[0]
            let inputs = features.shape.dropFirst().reduce(1, *)
            guard inputs > 0 else { throw DataError("'\(path)': shape \(features.shape) has no features") }
            var loaded = LoadedData(
                task: .classification, samples: samples, inputCount: inputs, values: features.values,
                description: DataDescription(
                    kind: format.rawValue, path: path, labelsPath: request.labelsPath, samples: samples))
            if let labelsPath = request.labelsPath {
                let labels = try labelArray(labelsPath)
                guard labels.values.count == samples else {
                    throw DataError("labels '\(labelsPath)' hold \(labels.values.count) values for \(samples) samples")
                }
                loaded.labelNames = try wholeNumbers(labels.values, path: labelsPath).map(String.init)
            }
            return loaded
        case (.segmentation, .csv):
            throw DataError("'\(path)': segmentation reads images from .npy (N×C×H×W or N×H×W), not CSV")
        case (.segmentation, let format):
            let images = try array(bytes, path: path, format: format)
            let shape = images.shape
            guard shape.count == 3 || shape.count == 4, shape.allSatisfy({ $0 > 0 }) else {
                throw DataError("'\(path)': images must be N×C×H×W or N×H×W, not \(shape)")
            }
            let (samples, channels) = (shape[0], shape.count == 4 ? shape[1] : 1)
            let (height, width) = (shape[shape.count - 2], shape[shape.count - 1])
            var loaded = LoadedData(
                task: .segmentation, samples: samples, inputCount: channels, height: height, width: width,
                values: images.values,
                description: DataDescription(
                    kind: format.rawValue, path: path, labelsPath: request.labelsPath, samples: samples))
            if let labelsPath = request.labelsPath {
                let masks = try labelArray(labelsPath)
                guard masks.shape == [samples, height, width] else {
                    throw DataError(
                        "masks '\(labelsPath)' have shape \(masks.shape); the images need \([samples, height, width])")
                }
                loaded.masks = try wholeNumbers(masks.values, path: labelsPath).map { Int32(clamping: $0) }
            }
            return loaded
        }
    }

    /// The embedded digits: 1797 samples of 64 pixels in 0...16, labels "0"…"9".
    public static func digits() throws -> LoadedData {
        let bytes = try gunzip(EmbeddedData.digitsCSVGzip, source: "embedded digits")
        let table = try CSVTable.parse(bytes, source: "digits.csv", header: .absent)
        let features = try table.labeledFeatures(labelColumn: .last, source: "digits.csv")
        return LoadedData(
            task: .classification, samples: features.rows, inputCount: features.columns, values: features.features,
            labelNames: features.labels, description: DataDescription(kind: "digits", samples: features.rows))
    }

    /// Generated shapes (`GeneratedShapes`).
    public static func generatedShapes(_ request: DataRequest) -> LoadedData {
        let set = GeneratedShapes.make(count: request.generatedCount, side: request.generatedSide, seed: request.seed)
        return LoadedData(
            task: .segmentation, samples: set.samples, inputCount: set.inputCount, height: set.height, width: set.width,
            values: set.values, masks: set.labels, maskClassNames: set.classNames,
            description: DataDescription(kind: "shapes", samples: set.samples, generatedSide: set.height))
    }

    private static func csv(_ bytes: [UInt8], path: String, request: DataRequest) throws -> LoadedData {
        let table = try CSVTable.parse(bytes, source: path, header: request.header)
        let features = try table.labeledFeatures(labelColumn: request.labelColumn, source: path)
        return LoadedData(
            task: .classification, samples: features.rows, inputCount: features.columns, values: features.features,
            labelNames: features.labels,
            description: DataDescription(
                kind: "csv", path: path, labelColumn: request.labelColumn.argument, header: request.header.argument,
                samples: features.rows))
    }

    /// A numeric array from `.npy` or IDX bytes, as Float, with its shape.
    private static func array(_ bytes: [UInt8], path: String, format: DataFormat) throws -> (
        shape: [Int], values: [Float]
    ) {
        switch format {
        case .idx:
            let idx = try IDXArray(bytes: bytes, source: path)
            return (idx.shape, idx.values)
        default:
            let npy = try npyArray(bytes, path: path)
            // Converted through Double: 12 bytes per element while both exist.
            try ResourceLimits.check(ResourceLimits.bytes(count: npy.count, size: 12), for: "converting '\(path)'")
            let values = npy.doubles().map { Float($0) }
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw DataError("'\(path)': element \(i) is \(values[i]); features must be finite")
            }
            return (npy.shape, values)
        }
    }

    /// A labels file (`.npy` or IDX) as doubles with its shape.
    private static func labelArray(_ path: String) throws -> (shape: [Int], values: [Double]) {
        let bytes = try readDataFile(path)
        if format(of: path, bytes: bytes) == .idx {
            let idx = try IDXArray(bytes: bytes, source: path)
            return (idx.shape, idx.values.map(Double.init))
        }
        let npy = try npyArray(bytes, path: path)
        try ResourceLimits.check(ResourceLimits.bytes(count: npy.count, size: 8), for: "converting '\(path)'")
        return (npy.shape, npy.doubles())
    }

    /// Parses `.npy` bytes, naming the file in the error.
    private static func npyArray(_ bytes: [UInt8], path: String) throws -> NPYArray {
        do { return try NPYArray(npyBytes: bytes) } catch let error as NPYError {
            throw DataError("'\(path)': \(error.description)")
        }
    }

    /// `values` as whole numbers, or an error naming the first that is not one.
    private static func wholeNumbers(_ values: [Double], path: String) throws -> [Int] {
        try values.enumerated().map { i, v in
            guard v.isFinite, v == v.rounded(), abs(v) < 0x1p31 else {
                throw DataError("labels '\(path)': element \(i) is \(v), not a whole-number class label")
            }
            return Int(v)
        }
    }
}
