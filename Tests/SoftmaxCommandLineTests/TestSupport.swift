import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

// Shared helpers for the command-line tests: temporary directories, writing arrays, running
// the real binary, and float64 reference math written independently of the library.

/// A fresh temporary directory, removed by the caller with `cleanUp()`.
struct TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("softmax-cli-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `array` as `name` and returns its path.
    @discardableResult
    func write(_ array: NPYArray, _ name: String) throws -> String {
        let p = path(name)
        try Data(array.npyBytes()).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Writes raw bytes as `name` and returns its path.
    @discardableResult
    func writeBytes(_ bytes: [UInt8], _ name: String) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// The elements of the `.npy` file at `path` as doubles, with its type and shape.
func readDoubles(_ path: String) throws -> (type: NPYDataType, shape: [Int], values: [Double]) {
    let array = try NPYArray(contentsOf: path)
    return (array.dataType, array.shape, array.doubles())
}

// MARK: - Hand-built .npy files

/// A `.npy` file built byte by byte: magic, version, little-endian header length, the header
/// text (padded with spaces and a newline to a multiple of 64 unless `pad` is false), data.
func handBuiltNPY(major: UInt8 = 1, minor: UInt8 = 0, header: String, data: [UInt8], pad: Bool = true) -> [UInt8] {
    var text = Array(header.utf8)
    let lengthBytes = major == 1 ? 2 : 4
    if pad {
        let prefix = 8 + lengthBytes
        let padding = (64 - (prefix + text.count + 1) % 64) % 64
        text += [UInt8](repeating: 0x20, count: padding) + [0x0A]
    }
    var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, minor]
    for k in 0..<lengthBytes { out.append(UInt8((text.count >> (8 * k)) & 0xFF)) }
    return out + text + data
}

/// Little-endian bytes of a value's bit pattern.
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// Big-endian bytes of a value's bit pattern.
func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    Array(littleEndianBytes(value).reversed())
}

/// IEEE half-precision bits for a value exactly representable as a normal half (used to build
/// files by hand without going through `Float16`).
func halfBits(_ value: Double) -> UInt16 {
    if value == 0 { return value.sign == .minus ? 0x8000 : 0 }
    let sign: UInt16 = value < 0 ? 0x8000 : 0
    let magnitude = abs(value)
    let exponent = Int(magnitude.exponent)
    let significand = magnitude.significand  // in [1, 2)
    let fraction = UInt16((significand - 1) * 1024)
    precondition((significand - 1) * 1024 == Double(fraction), "not exactly representable in half")
    precondition((-14...15).contains(exponent), "not a normal half")
    return sign | UInt16(exponent + 15) << 10 | fraction
}

// MARK: - Deterministic pseudo-random numbers

func randomDoubles(_ count: Int, in range: ClosedRange<Double>, seed: UInt64) -> [Double] {
    var g = SplitMix64(seed: seed)
    return (0..<count).map { _ in Double.random(in: range, using: &g) }
}

// MARK: - Float64 reference math

/// Reference softmax, log-softmax and logsumexp along `axis` (the shared float64 reference),
/// by the name `softmax apply` takes.
func referenceApply(_ op: String, _ x: [Double], shape: [Int], axis: Int) -> [Double] {
    switch op {
    case "softmax": Reference.softmax(x, shape, axis)
    case "log-softmax": Reference.logSoftmax(x, shape, axis)
    default: Reference.logSumExp(x, shape, axis)
    }
}

/// Reference cross-entropy with class indices (the shared float64 reference, with the options
/// as `softmax loss` spells them): per-position losses, the reduced loss, and the gradient of
/// the reduced loss times `lossWeight`.
func referenceCrossEntropy(
    _ x: [Double], shape: [Int], axis: Int, labels: [Int], reduction: String = "mean",
    weights: [Double]? = nil, ignoreIndex: Int? = nil, smoothing: Double = 0, lossWeight: Double = 1
) -> (losses: [Double], loss: Double, gradient: [Double]) {
    let options = CrossEntropyOptions(
        axis: axis, reduction: LossReduction(rawValue: reduction)!, ignoreIndex: ignoreIndex, classWeights: weights,
        labelSmoothing: smoothing, lossWeight: lossWeight)
    let result = Reference.crossEntropy(x, shape, .indices(labels), options)
    return (result.losses, result.loss, result.gradient)
}

/// True when every element agrees within `atol + rtol·|want|` (NaN and infinities must match).
func allClose(_ got: [Double], _ want: [Double], rtol: Double, atol: Double) -> Bool {
    guard got.count == want.count else { return false }
    for (g, w) in zip(got, want) {
        if w.isNaN { if !g.isNaN { return false } else { continue } }
        if w.isInfinite { if g != w { return false } else { continue } }
        if g.isNaN || g.isInfinite { return false }
        if abs(g - w) > atol + rtol * abs(w) { return false }
    }
    return true
}

/// The first index where `allClose` fails, for readable failure messages.
func firstMismatch(_ got: [Double], _ want: [Double], rtol: Double, atol: Double) -> String? {
    guard got.count == want.count else { return "count \(got.count) != \(want.count)" }
    for (k, (g, w)) in zip(got, want).enumerated() where !allClose([g], [w], rtol: rtol, atol: atol) {
        return "element \(k): got \(g), want \(w)"
    }
    return nil
}

/// Tolerances per output type (SPEC "Numerics"; half precision: its rounding plus Float32 compute).
func tolerance(_ type: NPYDataType) -> (rtol: Double, atol: Double) {
    switch type {
    case .float64: (1e-10, 1e-12)
    case .float32: (2e-5, 1e-6)
    default: (2e-3, 1e-5)
    }
}

// MARK: - Running the real binary

struct ProcessResult {
    var status: Int32
    var reason: Process.TerminationReason
    var stdout: String
    var stderr: String
    /// Standard output as bytes (a `.npy` written to `-`).
    var stdoutBytes: [UInt8] = []
}

/// The `softmax` executable built next to this test bundle.
func softmaxExecutable() -> URL {
    Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("softmax")
}

/// Runs the built `softmax` binary with `arguments` (and `environment` added to this
/// process's) and collects its output.
///
/// - Parameters:
///   - stdin: bytes piped to standard input (none: standard input is empty).
///   - stdout: a file handle to use as standard output instead of a pipe (then `stdout` of
///     the result is empty).
func runSoftmax(
    _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil, stdout: FileHandle? = nil
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = softmaxExecutable()
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = stdout ?? out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if stdout != nil { try out.fileHandleForWriting.close() }
    // Fed from another thread: the child may write its output before it reads all its input,
    // or exit without reading it (EPIPE then, not a signal that ends the test process).
    signal(SIGPIPE, SIG_IGN)
    let inputBytes = stdin ?? []
    let inputHandle = input.fileHandleForWriting
    DispatchQueue.global().async {
        try? inputHandle.write(contentsOf: Data(inputBytes))
        try? inputHandle.close()
    }
    // Read both pipes to the end before waiting so a large output cannot block the child.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, reason: process.terminationReason,
        stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
        stdoutBytes: [UInt8](outData))
}
