import Foundation
import Softmax
import SoftmaxTraining

/// What the libFuzzer targets in `Fuzz/` run on each input, and what the corpus replay tests run
/// on every kept input.
///
/// Each entry point takes arbitrary bytes, feeds them to a parser or decodes them into a small
/// problem, runs what a user would run next, and checks invariants.  Errors thrown for bad input
/// are expected and swallowed; an invariant violation is a bug, thrown as a
/// `FuzzInvariantViolation` (the only error an entry point throws).  The libFuzzer targets turn
/// it into a crash (a fuzzer notices only crashes); the corpus replay test into a failed test
/// naming the input.  Work and allocation are capped, whatever the input says.
public enum FuzzEntryPoints {
    /// Inputs longer than this are ignored (the fuzz script passes a smaller `-max_len`).
    public static let maximumInputLength = 1 << 20
    /// Arrays with more elements than this are parsed but not computed on.
    public static let maximumElements = 1 << 20

    // MARK: - .npy

    /// Parses `bytes` as a `.npy` file; when it parses, converts the elements to `Double`,
    /// re-encodes and re-parses the array (which must give the same array), and for
    /// floating-point arrays runs softmax, log-softmax and logsumexp along the last and the
    /// first axis into fresh buffers (and softmax in place, which must give the same bits).
    ///
    /// - Parameter bytes: the candidate file.
    public static func npy(_ bytes: [UInt8]) throws {
        guard bytes.count <= maximumInputLength, let array = try? NPYArray(npyBytes: bytes) else { return }
        guard let count = try? Layout.elementCount(array.shape), array.bytes.count == count * array.dataType.itemSize
        else {
            throw violation("npy: shape \(array.shape) of \(array.dataType) does not match \(array.bytes.count) bytes")
        }
        let encoded = array.npyBytes()
        let reparsed: NPYArray
        do { reparsed = try NPYArray(npyBytes: encoded) } catch {
            throw violation("npy: the re-encoded array does not parse: \(error)")
        }
        guard reparsed == array else {
            throw violation(
                "npy: round trip changed the array: \(array.dataType) \(array.shape) → \(reparsed.dataType) \(reparsed.shape)"
            )
        }
        guard count <= maximumElements else { return }
        let doubles = array.doubles()
        guard doubles.count == count else {
            throw violation("npy: doubles() gave \(doubles.count) values for \(count)")
        }
        switch array.dataType {
        case .float16, .float32, .float64:
            // `scalarType` is nil only for float16 where Swift has no Float16 (macOS on x86-64).
            if let type = array.dataType.scalarType { try exerciseSoftmax(array, as: type) }
        default:
            // What `softmax apply` does with integer files: convert to Float first.
            try exerciseSoftmax(shape: array.shape, scalars: doubles.map { Float($0) })
        }
    }

    /// Parses `bytes` as a `.npy` file (see ``npy(_:)-([UInt8])``).
    public static func npy(_ bytes: UnsafeRawBufferPointer) throws { try npy(Array(bytes)) }

    private static func exerciseSoftmax<T: SoftmaxScalar & NPYElement>(_ array: NPYArray, as _: T.Type) throws {
        guard let scalars = try? array.scalars(as: T.self) else { throw violation("npy: scalars(as: \(T.self)) threw") }
        try exerciseSoftmax(shape: array.shape, scalars: scalars)
    }

    /// Softmax, log-softmax and logsumexp along the last axis and axis 0, with checks.
    private static func exerciseSoftmax<T: SoftmaxScalar>(shape: [Int], scalars: [T]) throws {
        let axes = shape.isEmpty ? [-1] : (shape.count == 1 ? [-1] : [-1, 0])
        let allFinite = scalars.allSatisfy(\.isFinite)
        for axis in axes {
            guard let layout = try? Layout(shape: shape, axis: axis) else {
                if !shape.isEmpty { throw violation("npy: Layout(shape: \(shape), axis: \(axis)) threw") }
                // A 0-d array has no axis: the calls must throw.
                var out = [T](repeating: 0, count: scalars.count)
                let threw = scalars.withUnsafeBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { y in
                        (try? softmax(x, shape: shape, axis: axis, into: y)) == nil
                    }
                }
                if !threw { throw violation("npy: softmax of a 0-d array did not throw") }
                continue
            }
            // An empty array can still have many positions (shape [0, 6666666666] along axis 0):
            // softmax of it must return at once, but the logsumexp output would be that long.
            let lseFits = layout.positions <= maximumElements
            var probabilities = [T](repeating: 0, count: scalars.count)
            var logProbabilities = [T](repeating: 0, count: scalars.count)
            var lse = [T](repeating: 0, count: lseFits ? layout.positions : 0)
            var inPlace = scalars
            do {
                try scalars.withUnsafeBufferPointer { x in
                    try probabilities.withUnsafeMutableBufferPointer {
                        try softmax(x, shape: shape, axis: axis, into: $0)
                    }
                    try logProbabilities.withUnsafeMutableBufferPointer {
                        try logSoftmax(x, shape: shape, axis: axis, into: $0)
                    }
                    if lseFits {
                        try lse.withUnsafeMutableBufferPointer { try logSumExp(x, shape: shape, axis: axis, into: $0) }
                    }
                }
                try inPlace.withUnsafeMutableBufferPointer {
                    try softmax(UnsafeBufferPointer($0), shape: shape, axis: axis, into: $0)
                }
            } catch {
                throw violation("npy: softmax family threw on a valid shape \(shape), axis \(axis): \(error)")
            }
            let same = inPlace.withUnsafeBytes { a in probabilities.withUnsafeBytes { b in a.elementsEqual(b) } }
            if !same {
                throw violation("npy: in-place softmax differs from out-of-place for shape \(shape), axis \(axis)")
            }
            try checkStreamedSoftmax(scalars, shape: shape, axis: axis, against: probabilities)
            if layout.classes == 0, let value = lse.first(where: { $0 != -T.infinity }) {
                throw violation(
                    "npy: logsumexp over the empty axis of shape \(shape), axis \(axis) gave \(value), not -inf")
            }
            guard allFinite, layout.classes > 0, lseFits else { continue }
            try checkDistributions(probabilities, logProbabilities, lse, layout: layout)
        }
    }

    /// Softmax with the output streamed (the two-pass strided kernels, which small outputs
    /// never reach otherwise) agrees with the cached one to rounding, NaN for NaN.
    private static func checkStreamedSoftmax<T: SoftmaxScalar>(
        _ scalars: [T], shape: [Int], axis: Int, against cached: [T]
    ) throws {
        var streamed = [T](repeating: 0, count: scalars.count)
        do {
            try SoftmaxMemory.withStreamingThreshold(0) {
                try scalars.withUnsafeBufferPointer { x in
                    try streamed.withUnsafeMutableBufferPointer { try softmax(x, shape: shape, axis: axis, into: $0) }
                }
            }
        } catch {
            throw violation("npy: streamed softmax threw on shape \(shape), axis \(axis): \(error)")
        }
        let tolerance: Double = T.significandBitCount > 30 ? 1e-12 : (T.significandBitCount > 15 ? 2e-6 : 2e-3)
        for (k, (a, b)) in zip(streamed, cached).enumerated() {
            let (a, b) = (Double(a), Double(b))
            guard a.isNaN == b.isNaN, a.isNaN || abs(a - b) <= tolerance else {
                throw violation("npy: streamed softmax \(a) against \(b) at \(k), shape \(shape), axis \(axis)")
            }
        }
    }

    /// With finite scores every position's probabilities are in [0, 1] and sum to 1, its
    /// log-probabilities are ≤ 0 and its logsumexp is finite.
    private static func checkDistributions<T: SoftmaxScalar>(
        _ probabilities: [T], _ logProbabilities: [T], _ lse: [T], layout: Layout
    ) throws {
        let tolerance: Double = T.significandBitCount > 30 ? 1e-6 : (T.significandBitCount > 15 ? 1e-3 : 0.1)
        for outer in 0..<layout.outer {
            for inner in 0..<layout.inner {
                var sum = 0.0
                for c in 0..<layout.classes {
                    let k = (outer * layout.classes + c) * layout.inner + inner
                    let p = Double(probabilities[k])
                    let logP = Double(logProbabilities[k])
                    guard p >= 0, p <= 1 + tolerance, !logP.isNaN, logP <= tolerance else {
                        throw violation("npy: finite scores gave probability \(p), log-probability \(logP) at \(k)")
                    }
                    sum += p
                }
                let position = outer * layout.inner + inner
                guard abs(sum - 1) <= tolerance, lse[position].isFinite else {
                    throw violation(
                        "npy: finite scores gave Σp = \(sum), logsumexp \(lse[position]) at position \(position)")
                }
            }
        }
    }

    // MARK: - Cross-entropy

    /// Decodes `bytes` into a small cross-entropy problem (shape, axis, scores with special
    /// values, class indices of several types or probability targets, options, output buffers,
    /// sometimes of the wrong size or in place) and runs `crossEntropy`.
    ///
    /// Checks: a call with valid shapes, options and labels succeeds and one without fails; with
    /// finite scores and valid options the loss is not NaN and the gradient is finite; under
    /// `.mean` with every label ignored the loss and the gradient are 0.
    ///
    /// - Parameter bytes: any bytes; short inputs are padded with zeros.
    public static func loss(_ bytes: [UInt8]) throws {
        guard bytes.count <= maximumInputLength else { return }
        var start = FuzzInput(bytes)
        let selector = start.byte()
        func run() throws {
            func solve<T: SoftmaxScalar>(_: T.Type) throws {
                var input = start
                try LossProblem<T>(&input).run()
            }
            switch selector % 8 {
            case 0...4: try solve(Float.self)
            case 5: try solve(Double.self)
            // Float16, or Float where Swift has no Float16 (macOS on x86-64).
            default:
                let half: any (SoftmaxScalar & NPYElement).Type = NPYDataType.float16.scalarType ?? Float.self
                try solve(half)
            }
        }
        try run()
        // Bit 3 of the selector: the same problem again with every output streamed, which takes
        // the two-pass strided kernels that outputs this small never reach otherwise.
        if selector & 8 != 0 { try SoftmaxMemory.withStreamingThreshold(0) { try run() } }
    }

    /// Decodes `bytes` into a cross-entropy problem (see ``loss(_:)-([UInt8])``).
    public static func loss(_ bytes: UnsafeRawBufferPointer) throws { try loss(Array(bytes)) }

    // MARK: - Linear cross-entropy

    /// Decodes `bytes` into a small fused linear cross-entropy problem (hidden `[..., D]` with
    /// `N` ≤ 8 positions, weight `[V, D]`, optional bias, class indices of several types, the
    /// loss options with temperature, softcap and z-loss, memory budget, gradient filter,
    /// outputs, sometimes a wrong shape or buffer size) and runs `linearCrossEntropy`.
    ///
    /// Checks (`LinearLossProblem`): the call succeeds exactly when the shapes, options, budget,
    /// filter, buffers and labels are valid; with finite moderate inputs the loss is a number
    /// and the gradients are finite; the z terms are ≥ 0 and reduce to the z-loss; ignored
    /// positions have loss 0 and a zero `dHidden` row; with every position ignored the loss is
    /// 0 and the gradients zero; without gradient filtering the decoded budget's chunks give
    /// the result of one chunk to rounding; accumulating adds the plain gradients to the prior
    /// contents.  Bit 3 of the first byte runs it all again with the gradient streamed.
    ///
    /// - Parameter bytes: any bytes; short inputs are padded with zeros.
    public static func linearLoss(_ bytes: [UInt8]) throws {
        guard bytes.count <= maximumInputLength else { return }
        var start = FuzzInput(bytes)
        let selector = start.byte()
        func run() throws {
            var input = start
            if selector & 1 == 0 {
                try LinearLossProblem<Float>(selector: selector, &input).run()
            } else {
                try LinearLossProblem<Double>(selector: selector, &input).run()
            }
        }
        try run()
        if selector & 8 != 0 { try SoftmaxMemory.withStreamingThreshold(0) { try run() } }
    }

    /// Decodes `bytes` into a linear cross-entropy problem (see ``linearLoss(_:)-([UInt8])``).
    public static func linearLoss(_ bytes: UnsafeRawBufferPointer) throws { try linearLoss(Array(bytes)) }

    // MARK: - CSV

    /// Parses `bytes` as a CSV file (the delimiter and header mode from the first byte) and
    /// splits off a label column (from the second byte); checks the table's and the features'
    /// counts and that every feature is finite.
    ///
    /// - Parameter bytes: a selector byte, a label-column byte, then the file.
    public static func csv(_ bytes: [UInt8]) throws {
        guard bytes.count >= 2, bytes.count <= maximumInputLength else { return }
        let delimiters: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: "\t"), UInt8(ascii: ";"), UInt8(ascii: " ")]
        let headers: [CSVTable.HeaderMode] = [.auto, .present, .absent]
        let delimiter = delimiters[Int(bytes[0] & 3)]
        let header = headers[Int(bytes[0] >> 2) % 3]
        let labelColumn: LabelColumn
        switch bytes[1] % 6 {
        case 0: labelColumn = .last
        case 1: labelColumn = .first
        case 2: labelColumn = .none
        case 3: labelColumn = .name("label")
        default: labelColumn = .index(Int(Int8(bitPattern: bytes[1])) / 6)
        }
        guard let table = try? CSVTable.parse(Array(bytes[2...]), source: "fuzz", delimiter: delimiter, header: header)
        else { return }
        for row in 0..<min(table.rowCount, 64) where table.row(row).count != table.columnCount {
            throw violation("csv: row \(row) has \(table.row(row).count) fields, the table \(table.columnCount)")
        }
        guard let split = try? table.labeledFeatures(labelColumn: labelColumn, source: "fuzz") else { return }
        guard split.rows == table.rowCount, split.features.count == split.rows * split.columns,
            split.labels.map({ $0.count == split.rows }) ?? true, split.features.allSatisfy(\.isFinite)
        else {
            throw violation(
                "csv: \(split.rows)×\(split.columns) features, \(split.features.count) values, table \(table.rowCount) rows"
            )
        }
    }

    /// Parses `bytes` as a CSV file (see ``csv(_:)-([UInt8])``).
    public static func csv(_ bytes: UnsafeRawBufferPointer) throws { try csv(Array(bytes)) }

    // MARK: - IDX

    /// Parses `bytes` as an IDX (MNIST) file and checks that the values match the shape.
    ///
    /// - Parameter bytes: the candidate file.
    public static func idx(_ bytes: [UInt8]) throws {
        guard bytes.count <= maximumInputLength, let array = try? IDXArray(bytes: bytes, source: "fuzz") else { return }
        // The dimensions' product (0 when one is 0, however large the others: the reader checks
        // for overflow only up to the first 0, and such a shape holds no values).
        var count = 1
        for size in array.shape where count != 0 {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw violation("idx: accepted shape \(array.shape) whose size overflows Int") }
            count = product
        }
        guard count == array.values.count else {
            throw violation("idx: shape \(array.shape) for \(array.values.count) values")
        }
    }

    /// Parses `bytes` as an IDX file (see ``idx(_:)-([UInt8])``).
    public static func idx(_ bytes: UnsafeRawBufferPointer) throws { try idx(Array(bytes)) }

    // MARK: - Model files

    /// Decodes `bytes` as a JSON model file and validates it; a valid model must survive an
    /// encode/decode round trip, and predicts class probabilities for two zero samples (when
    /// small enough).
    ///
    /// - Parameter bytes: the candidate JSON.
    public static func model(_ bytes: [UInt8]) throws {
        guard bytes.count <= maximumInputLength,
            let model = try? JSONDecoder().decode(SoftmaxModel.self, from: Data(bytes))
        else { return }
        guard (try? model.validate()) != nil else { return }
        if let encoded = try? JSONEncoder().encode(model) {
            guard let decoded = try? JSONDecoder().decode(SoftmaxModel.self, from: encoded), decoded == model else {
                throw violation("model: a valid model does not survive an encode/decode round trip")
            }
        }
        let side = model.task == .segmentation ? 3 : 1
        guard model.inputCount <= 4096, let predictor = try? Predictor(model: model) else { return }
        let samples = 2
        let dataset = Dataset(
            task: model.task, samples: samples, inputCount: model.inputCount, height: side, width: side,
            values: [Float](repeating: 0, count: samples * model.inputCount * side * side),
            labels: [Int32](repeating: 0, count: samples * side * side), classNames: model.classNames)
        guard let probabilities = try? predictor.probabilities(dataset) else { return }
        guard probabilities.count == samples * side * side * model.classNames.count else {
            throw violation("model: \(probabilities.count) probabilities")
        }
    }

    /// Decodes `bytes` as a JSON model file (see ``model(_:)-([UInt8])``).
    public static func model(_ bytes: UnsafeRawBufferPointer) throws { try model(Array(bytes)) }

    /// The error for an invariant that does not hold (a bug for the fuzzer to report).
    static func violation(_ message: String) -> FuzzInvariantViolation {
        FuzzInvariantViolation(message: message)
    }
}

/// An invariant that does not hold: a bug the input found.
public struct FuzzInvariantViolation: Error, CustomStringConvertible {
    /// What does not hold, with the values that show it.
    public let message: String

    public var description: String { "fuzz invariant violated: \(message)" }
}

/// Reads fuzzer bytes as small decisions; past the end every read gives 0.
struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The next byte, or 0 past the end.
    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// One of `choices`, chosen by the next byte.
    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(byte()) % choices.count] }
}
