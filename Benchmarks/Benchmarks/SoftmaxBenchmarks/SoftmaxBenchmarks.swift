// Benchmarks of the Softmax library (package-benchmark).  Run from the Benchmarks/ directory:
//
//     swift package --disable-sandbox benchmark
//
// Inputs are made once per process (seeded, so every run measures the same numbers) and
// outputs allocated once; the measured closure makes exactly one library call.

import Benchmark
import Softmax

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

// MARK: - Metrics

/// Elements processed per second (the elements of the scores tensor).
let elementRate = BenchmarkMetric.custom("Elements (# / s)", polarity: .prefersLarger, useScalingFactor: false)
/// Bytes moved per second: every input read once plus every output written once (the least
/// memory traffic the operation needs), so it compares directly with `memcpy`.
let byteRate = BenchmarkMetric.custom("Bandwidth (B / s)", polarity: .prefersLarger, useScalingFactor: false)

/// Wall clock and calls per second, the rates above, and mallocs per call (0 would mean the call
/// never allocates).  (CPU time is left out: on Linux it is counted in 10 ms ticks, longer than
/// most calls here.)
let metrics: [BenchmarkMetric] = [.wallClock, .throughput, elementRate, byteRate, .mallocCountTotal]

// MARK: - Data

/// A buffer that lives for the whole process; only one benchmark runs at a time.
typealias Buffer<T> = UnsafeMutableBufferPointer<T>

/// `count` scores uniform in [-4, 4), from a seeded generator.
func randomScores<T: BinaryFloatingPoint>(_: T.Type, count: Int, seed: UInt64) -> Buffer<T> {
    var rng = SplitMix64(seed: seed)
    let buffer = Buffer<T>.allocate(capacity: count)
    for i in 0..<count { buffer[i] = T(8 * rng.uniform() - 4) }
    return buffer
}

/// A zero-filled buffer (its pages touched, so the first call does not pay for the faults).
func zeroed<T: BinaryFloatingPoint>(_: T.Type, count: Int) -> Buffer<T> {
    let buffer = Buffer<T>.allocate(capacity: count)
    buffer.initialize(repeating: 0)
    return buffer
}

/// `count` class indices uniform in `0..<classes`.
func randomLabels(count: Int, classes: Int, seed: UInt64) -> Buffer<Int32> {
    var rng = SplitMix64(seed: seed)
    let buffer = Buffer<Int32>.allocate(capacity: count)
    for i in 0..<count { buffer[i] = Int32(Double(classes) * rng.uniform()) }
    return buffer
}

/// The largest float32 tensor (2048×32000, 250 MiB); smaller float32 shapes use its prefix.
let largestCount = 2048 * 32000

/// Created on first use (in a benchmark's setup) and kept: the big buffers are shared by every
/// float32 benchmark, so the suite needs about 1 GiB whatever it runs.
enum Inputs {
    nonisolated(unsafe) static let scores32 = randomScores(Float.self, count: largestCount, seed: 1)
    /// Output of softmax / log-softmax, gradient of cross-entropy, destination of memcpy.
    nonisolated(unsafe) static let output32 = zeroed(Float.self, count: largestCount)

    nonisolated(unsafe) static let scores64 = randomScores(Double.self, count: 2048 * 3200, seed: 2)
    nonisolated(unsafe) static let output64 = zeroed(Double.self, count: 2048 * 3200)

    nonisolated(unsafe) static let scores16 = randomScores(Float16.self, count: 2048 * 3200, seed: 3)
    nonisolated(unsafe) static let output16 = zeroed(Float16.self, count: 2048 * 3200)
}

/// A float32 workload: a shape and its class axis.
struct Workload: Sendable {
    let shape: [Int]
    /// The class axis (negative counts from the end).
    let axis: Int

    var count: Int { shape.reduce(1, *) }
    var classes: Int { shape[axis < 0 ? axis + shape.count : axis] }
    var positions: Int { count / classes }
    /// "4096x1000".
    var label: String { shape.map(String.init).joined(separator: "x") }
}

let workloads = [
    Workload(shape: [4096, 1000], axis: -1),  // ImageNet-size classifier, batch 4096
    Workload(shape: [2048, 32000], axis: -1),  // LLM vocabulary (Llama-2), 2048 tokens
    Workload(shape: [65536, 10], axis: -1),  // many short rows
    Workload(shape: [8, 21, 256, 256], axis: 1),  // segmentation (VOC's 21 classes), NCHW: strided
]

// MARK: - Definitions

/// Defines a benchmark of `body`, one library call per iteration, reporting `elements` and
/// `bytes` per call as rates.
func define(
    _ name: String, elements: Int, bytes: Int,
    setup: @escaping @Sendable () -> Void = {},
    _ body: @escaping @Sendable () throws -> Void
) {
    Benchmark(
        name,
        configuration: .init(
            metrics: metrics,
            timeUnits: .microseconds,
            // Fixed units, so runs and baselines line up: millions of elements and of bytes.
            units: [elementRate: .mega, byteRate: .mega],
            warmupIterations: 3,
            maxDuration: .seconds(3),
            maxIterations: 1000,
            setup: { setup() }
        )
    ) { benchmark in
        let start = ContinuousClock.now
        do {
            try body()
        } catch {
            benchmark.error("\(name): \(error)")
            return
        }
        let elapsed = start.duration(to: .now)
        benchmark.stopMeasurement()  // the rates below are not part of the measurement
        let (seconds, attoseconds) = elapsed.components
        let time = Double(seconds) + Double(attoseconds) * 1e-18
        if time > 0 {
            benchmark.measurement(elementRate, Int(Double(elements) / time))
            benchmark.measurement(byteRate, Int(Double(bytes) / time))
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    // The number of threads the library may use: SOFTMAX_BENCH_THREADS, else all cores.
    if let text = getenv("SOFTMAX_BENCH_THREADS"), let threads = Int(String(cString: text)) {
        SoftmaxThreads.maximum = threads
    }

    let float = MemoryLayout<Float>.size
    let touchFloat32: @Sendable () -> Void = {
        _ = Inputs.scores32
        _ = Inputs.output32
    }

    // Softmax and log-softmax: read the scores once, write the output once.
    for w in workloads {
        let suffix = w.axis == -1 ? "" : " axis\(w.axis)"
        define("softmax f32 \(w.label)\(suffix)", elements: w.count, bytes: 2 * w.count * float, setup: touchFloat32) {
            let x = UnsafeBufferPointer(rebasing: Inputs.scores32[0..<w.count])
            let y = Buffer(rebasing: Inputs.output32[0..<w.count])
            try softmax(x, shape: w.shape, axis: w.axis, into: y)
            blackHole(y.baseAddress)
        }
    }

    let llm = workloads[1]
    define("logSoftmax f32 \(llm.label)", elements: llm.count, bytes: 2 * llm.count * float, setup: touchFloat32) {
        let x = UnsafeBufferPointer(rebasing: Inputs.scores32[0..<llm.count])
        let y = Buffer(rebasing: Inputs.output32[0..<llm.count])
        try logSoftmax(x, shape: llm.shape, axis: llm.axis, into: y)
        blackHole(y.baseAddress)
    }

    // Cross-entropy forward + backward: mean loss and its gradient (class axis 1).
    for (k, w) in workloads.enumerated() {
        nonisolated(unsafe) let labels = UnsafeBufferPointer(
            randomLabels(count: w.positions, classes: w.classes, seed: 100 + UInt64(k)))
        let bytes = 2 * w.count * float + w.positions * MemoryLayout<Int32>.size
        define("crossEntropy fwd-bwd f32 \(w.label)", elements: w.count, bytes: bytes, setup: touchFloat32) {
            let x = UnsafeBufferPointer(rebasing: Inputs.scores32[0..<w.count])
            let gradient = Buffer(rebasing: Inputs.output32[0..<w.count])
            let loss = try crossEntropy(
                scores: x, shape: w.shape, classIndices: labels,
                options: CrossEntropyOptions(axis: 1, reduction: .mean),
                outputs: CrossEntropyOutputs(gradient: gradient))
            blackHole(loss)
        }
    }

    // The bandwidth baseline: the same memory traffic as the large softmax (read 250 MiB, write 250 MiB).
    define("memcpy f32 \(llm.label)", elements: llm.count, bytes: 2 * llm.count * float, setup: touchFloat32) {
        memcpy(Inputs.output32.baseAddress!, Inputs.scores32.baseAddress!, llm.count * float)
        blackHole(Inputs.output32.baseAddress)
    }

    // Other formats (float16 is staged through float32 by the library).
    let small = [2048, 3200]
    let smallCount = 2048 * 3200
    define(
        "softmax f64 2048x3200", elements: smallCount, bytes: 2 * smallCount * 8,
        setup: { _ = (Inputs.scores64, Inputs.output64) }
    ) {
        try softmax(UnsafeBufferPointer(Inputs.scores64), shape: small, axis: -1, into: Inputs.output64)
        blackHole(Inputs.output64.baseAddress)
    }
    define(
        "softmax f16 2048x3200", elements: smallCount, bytes: 2 * smallCount * 2,
        setup: { _ = (Inputs.scores16, Inputs.output16) }
    ) {
        try softmax(UnsafeBufferPointer(Inputs.scores16), shape: small, axis: -1, into: Inputs.output16)
        blackHole(Inputs.output16.baseAddress)
    }

    // Each instruction set this CPU runs, on the large float32 softmax.
    for isa in SoftmaxISA.supported {
        define(
            "softmax f32 \(llm.label) isa-\(isa.rawValue)", elements: llm.count, bytes: 2 * llm.count * float,
            setup: touchFloat32
        ) {
            let x = UnsafeBufferPointer(rebasing: Inputs.scores32[0..<llm.count])
            let y = Buffer(rebasing: Inputs.output32[0..<llm.count])
            try SoftmaxISA.withActive(isa) {
                try softmax(x, shape: llm.shape, axis: llm.axis, into: y)
            }
            blackHole(y.baseAddress)
        }
    }
}
