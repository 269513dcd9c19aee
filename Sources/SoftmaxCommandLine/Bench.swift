import ArgumentParser
import Dispatch
import Foundation
import Softmax

/// `softmax bench`: times one operation on random data in memory (no file I/O).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time an operation on random data: median of repeated runs, GB/s, and the copy baseline.",
        discussion: """
            Bytes counted: one read of the input and one write of the output (the gradient for \
            cross-entropy, which is the fused forward + backward of the mean loss with random \
            valid labels). 'copy' is a plain memory copy of the same size: the bandwidth ceiling.

            linear-cross-entropy (--shape NxDxV, float32 or float64) times the fused linear \
            cross-entropy with dHidden and dWeight: GFLOP/s counts its three products \
            (6·N·D·V), the BLAS in use is named, and the peak memory beyond the inputs and \
            gradients is reported; 'gemm-floor' is the same BLAS's three bare products with \
            the N×V logits formed in full, the floor.

            vocab-parallel-cross-entropy (--shape NxV) and vocab-parallel-linear-cross-entropy \
            (--shape NxDxV) split the V classes evenly over the ranks of an MPI job (run under \
            mpirun with a tool built with --traits MPI; one rank otherwise) and report, per rank, \
            the median time, the time and bytes of its allreduces per call, and its extra peak \
            memory.  allreduce (--shape COUNT) times a sum-allreduce of COUNT values over the \
            ranks: the latency and bandwidth behind docs/scaling.md's model.

            Example: softmax bench --op softmax --shape 2048x32000 --threads 2
            """)

    enum Operation: String, ExpressibleByArgument, CaseIterable {
        case softmax
        case logSoftmax = "log-softmax"
        case crossEntropy = "cross-entropy"
        case copy
        case linearCrossEntropy = "linear-cross-entropy"
        case vocabParallelCrossEntropy = "vocab-parallel-cross-entropy"
        case vocabParallelLinearCrossEntropy = "vocab-parallel-linear-cross-entropy"
        case allReduce = "allreduce"

        /// The ops that run on every rank of the world.
        var isVocabParallel: Bool {
            self == .vocabParallelCrossEntropy || self == .vocabParallelLinearCrossEntropy || self == .allReduce
        }
    }

    @Option(
        help: """
            softmax, log-softmax, cross-entropy, copy, linear-cross-entropy, \
            vocab-parallel-cross-entropy, vocab-parallel-linear-cross-entropy or allreduce.
            """)
    var op: Operation = .softmax

    @Option(help: "Dimensions separated by 'x', e.g. 2048x32000 or 8x21x256x256.")
    var shape: String = "2048x32000"

    @Option(parsing: .unconditional, help: "The class axis (default: -1, or 1 for cross-entropy).")
    var axis: Int?

    @Option(help: "float32, float64 or float16.")
    var dtype: FloatFormat = .float32

    @Option(parsing: .unconditional, help: "Threads to use, 1...1024 (default 0: all cores).")
    var threads: Int = 0

    @Option(parsing: .unconditional, help: "Timed runs, 1...10000 (after one warm-up run); the median is reported.")
    var repeats: Int = 20

    @Option(help: "Label smoothing ε of the cross-entropy, in [0, 1) (default: 0).")
    var labelSmoothing: Double = 0

    /// `--temperature`, `--softcap`, `--z-loss` of the (linear) cross-entropy.
    @OptionGroup var transform: LogitTransformArguments

    @Option(
        name: .customLong("gradient-filter"), parsing: .unconditional,
        help: "linear-cross-entropy: skip gradient blocks below this ε (default 0: exact); reports the error.")
    var gradientFilter: Double = 0

    @Flag(help: "linear-cross-entropy: peaked logits (a confident model, right nine times in ten).")
    var peaked = false

    @Option(
        name: .customLong("memory-budget"), parsing: .unconditional,
        help: "linear-cross-entropy: bytes of logits per chunk (default: 56 MiB).")
    var memoryBudget: Int = LinearCrossEntropy.defaultMemoryBudget

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    /// The most timed runs: enough for any median, and a bound on the time a typo can cost.
    static let maximumRepeats = 10_000
    /// The most threads: far beyond any machine's cores, a bound on what a typo can start.
    static let maximumThreads = 1024

    func validate() throws {
        guard (1...Self.maximumRepeats).contains(repeats) else {
            throw ValidationError("--repeats \(repeats): must be 1...\(Self.maximumRepeats)")
        }
        guard (0...Self.maximumThreads).contains(threads) else {
            throw ValidationError("--threads \(threads): must be 0 (all cores) or 1...\(Self.maximumThreads)")
        }
        guard labelSmoothing == 0 || op == .crossEntropy else {
            throw ValidationError("--label-smoothing applies to --op cross-entropy only")
        }
        guard !transform.isSet || op == .crossEntropy || op == .linearCrossEntropy || op.isVocabParallel else {
            throw ValidationError("--temperature, --softcap and --z-loss apply to the cross-entropy ops only")
        }
        guard labelSmoothing >= 0 && labelSmoothing < 1 else {
            throw ValidationError("--label-smoothing must be in [0, 1), got \(labelSmoothing)")
        }
        do {
            try lossOptions(axis: nil).validate()
        } catch let error as SoftmaxError {
            throw ValidationError(error.description)
        }
        let dimensions = try Self.dimensions(shape)
        if op.isVocabParallel {
            let want = [Operation.allReduce: 1, .vocabParallelCrossEntropy: 2][op] ?? 3
            guard dimensions.count == want else {
                throw ValidationError(
                    "--op \(op.rawValue) takes --shape \(["COUNT", "NxV", "NxDxV"][want - 1]), got '\(shape)'")
            }
            guard dtype != .float16 else { throw ValidationError("--op \(op.rawValue) runs in float32 or float64") }
            guard memoryBudget > 0 else { throw ValidationError("--memory-budget must be positive") }
        }
        if op == .linearCrossEntropy {
            guard dimensions.count == 3 else {
                throw ValidationError("--op linear-cross-entropy takes --shape NxDxV, got '\(shape)'")
            }
            guard dtype != .float16 else {
                throw ValidationError("--op linear-cross-entropy runs in float32 or float64")
            }
            guard memoryBudget > 0 else { throw ValidationError("--memory-budget must be positive") }
            guard gradientFilter >= 0 && gradientFilter.isFinite else {
                throw ValidationError("--gradient-filter must be a finite number at least 0, got \(gradientFilter)")
            }
        } else if gradientFilter != 0 || peaked {
            throw ValidationError("--gradient-filter and --peaked apply to --op linear-cross-entropy only")
        }
    }

    /// `2048x32000` → `[2048, 32000]`: positive decimal dimensions separated by single `x`s,
    /// nothing else (`10xx`, `x5`, `+3`, `0x5` are refused).
    static func dimensions(_ text: String) throws -> [Int] {
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        let dims = parts.map { part in
            part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) ? Int(part) : nil
        }
        guard !text.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError(
                "invalid --shape '\(text)': expected positive dimensions separated by 'x', like 2048x32000")
        }
        return dims.map { $0! }
    }

    func run() throws {
        let shape = try Self.dimensions(self.shape)
        if op == .linearCrossEntropy {
            SoftmaxThreads.maximum = threads
            return print(try benchLinearCrossEntropy(n: shape[0], d: shape[1], v: shape[2]))
        }
        if op.isVocabParallel {
            SoftmaxThreads.maximum = threads
            let report = try benchVocabParallel(shape)
            if !report.isEmpty { print(report) }
            return
        }
        let axis = self.axis ?? (op == .crossEntropy ? (shape.count == 1 ? 0 : 1) : -1)
        let layout = try Layout(shape: shape, axis: axis)
        // Input and output (reused by the copy baseline), labels, and for float16 the Float
        // staging of both.
        let perElement = 2 * dataType.itemSize + 4 + (dataType == .float16 ? 8 : 0)
        try ResourceLimits.check(
            ResourceLimits.bytes(count: layout.count, size: perElement),
            for: "benchmarking shape \(SoftmaxError.shapeText(shape))")
        SoftmaxThreads.maximum = threads
        var lines: [String] = []
        for measured in op == .copy ? [Operation.copy] : [op, .copy] {
            let seconds = try withFloatType(dataType) { try time($0, measured, shape, axis, layout) }
            lines.append(report(measured, shape, axis, layout, seconds))
        }
        print(lines.joined(separator: "\n"))
    }

    /// The options of the timed cross-entropy.
    func lossOptions(axis: Int?) -> CrossEntropyOptions {
        transform.applied(to: CrossEntropyOptions(axis: axis, labelSmoothing: labelSmoothing))
    }

    /// The options that differ from the plain loss, for the report (` T 2 softcap 30`…).
    var lossOptionsText: String {
        var parts: [String] = []
        if labelSmoothing != 0 { parts.append("smoothing \(labelSmoothing)") }
        if transform.temperature != 1 { parts.append("temperature \(transform.temperature)") }
        if let softcap = transform.softcap { parts.append("softcap \(softcap)") }
        if transform.zLoss != 0 { parts.append("z-loss \(transform.zLoss)") }
        return parts.map { " " + $0 }.joined()
    }

    /// The same options as JSON members (`, "softcap": 30`…).
    var lossOptionsJSON: String {
        var parts: [String] = []
        if labelSmoothing != 0 { parts.append("\"label_smoothing\": \(labelSmoothing)") }
        if transform.temperature != 1 { parts.append("\"temperature\": \(transform.temperature)") }
        if let softcap = transform.softcap { parts.append("\"softcap\": \(softcap)") }
        if transform.zLoss != 0 { parts.append("\"z_loss\": \(transform.zLoss)") }
        return parts.map { ", " + $0 }.joined()
    }

    /// The element type as stored (its size, and the Swift type `withFloatType` gives).
    private var dataType: NPYDataType {
        switch dtype {
        case .float16: .float16
        case .float32: .float32
        case .float64: .float64
        }
    }

    private func report(_ op: Operation, _ shape: [Int], _ axis: Int, _ layout: Layout, _ seconds: Double) -> String {
        let bytes = Double(2 * layout.count * dataType.itemSize)
        let gbps = bytes / seconds / 1e9
        let threadCount = SoftmaxThreads.effective
        let shapeText = shape.map(String.init).joined(separator: "x")
        let optionsJSON = op == .crossEntropy ? lossOptionsJSON : ""
        if json {
            return "{\"op\": \"\(op.rawValue)\", \"shape\": \"\(shapeText)\", \"axis\": \(axis), "
                + "\"dtype\": \"\(dtype.rawValue)\", \"threads\": \(threadCount), \"isa\": \"\(SoftmaxISA.active.rawValue)\""
                + optionsJSON
                + ", \"median_ms\": \(String(format: "%.6g", seconds * 1e3)), \"gbps\": \(String(format: "%.6g", gbps))}"
        }
        return String(
            format: "%-14@ %@ axis %d %@ threads %d %@%@: median %.3f ms, %.2f GB/s", op.rawValue, shapeText, axis,
            dtype.rawValue, threadCount, SoftmaxISA.active.rawValue, op == .crossEntropy ? lossOptionsText : "",
            seconds * 1e3, gbps)
    }

    /// Median seconds of `repeats` runs after one warm-up.
    private func time<T: SoftmaxScalar>(
        _: T.Type, _ op: Operation, _ shape: [Int], _ axis: Int, _ layout: Layout
    ) throws -> Double {
        var generator = SplitMix64(seed: 0x5EED)  // the system generator makes a syscall per number
        let input = (0..<layout.count).map { _ in T(Float.random(in: -4...4, using: &generator)) }
        var output = [T](repeating: 0, count: layout.count)
        let labels = (0..<layout.positions).map { _ in
            Int32.random(in: 0..<Int32(max(1, layout.classes)), using: &generator)
        }
        return try input.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                try labels.withUnsafeBufferPointer { t in
                    try medianSeconds {
                        switch op {
                        case .softmax: try softmax(x, shape: shape, axis: axis, into: y)
                        case .logSoftmax: try logSoftmax(x, shape: shape, axis: axis, into: y)
                        case .crossEntropy:
                            _ = try crossEntropy(
                                scores: x, shape: shape, classIndices: t,
                                options: lossOptions(axis: axis),
                                outputs: CrossEntropyOutputs(gradient: y))
                        case .copy:
                            parallelCopy(
                                from: UnsafeRawPointer(x.baseAddress!), to: UnsafeMutableRawPointer(y.baseAddress!),
                                byteCount: layout.count * MemoryLayout<T>.stride)
                        case .linearCrossEntropy, .vocabParallelCrossEntropy, .vocabParallelLinearCrossEntropy,
                            .allReduce:
                            throw ValidationError("\(op.rawValue) is timed by its own function")
                        }
                    }
                }
            }
        }
    }

    /// The median seconds of `runs` runs of `body`, after one untimed warm-up run.
    ///
    /// - Parameters:
    ///   - runs: The timed runs (default `repeats`).
    ///   - beforeEach: Runs untimed before every run (a barrier that starts the ranks together).
    ///   - afterWarmUp: Runs once, untimed, between the warm-up and the first timed run.
    ///   - body: The work to time.
    /// - Returns: The median of the timed runs.
    func medianSeconds(
        runs: Int? = nil, beforeEach: () throws -> Void = {}, afterWarmUp: () -> Void = {},
        _ body: () throws -> Void
    ) rethrows -> Double {
        var samples: [Double] = []
        for run in 0...(runs ?? repeats) {
            try beforeEach()
            if run == 1 { afterWarmUp() }
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            if run > 0 { samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}

extension FloatFormat: ExpressibleByArgument {}

/// `memcpy` split into one contiguous part per thread (the same threads the operation may use),
/// so that the baseline is the machine's copy bandwidth, not one core's.
private func parallelCopy(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, byteCount: Int) {
    let threads = byteCount < 1 << 20 ? 1 : SoftmaxThreads.effective
    let part = (byteCount / threads + 63) / 64 * 64
    nonisolated(unsafe) let (source, destination) = (source, destination)
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let start = Swift.min(t * part, byteCount)
        let end = Swift.min(start + part, byteCount)
        (destination + start).copyMemory(from: source + start, byteCount: end - start)
    }
}
