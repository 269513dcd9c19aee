import Foundation

/// The memory the package lets input a user supplies ask for.
///
/// Files, decompressed data and the arrays a command allocates (its inputs plus the outputs it
/// will write) are checked against `maximumBytes` *before* the memory is taken, so an input too
/// large for the machine gives a clear error (`SoftmaxError.tooLarge`) instead of the
/// allocation failing, which in Swift ends the process.  The limit is three quarters of the
/// machine's physical memory, or the value of the environment variable
/// `SOFTMAX_MAX_INPUT_BYTES` (a byte count) when it is set — the tests use it to exercise the
/// limit without gigabyte files.
public enum ResourceLimits {
    /// The most bytes one input file, or the working arrays of one command, may take.
    public static var maximumBytes: Int { configured.bytes }

    /// The limit and where it comes from, read once.
    static let configured: (bytes: Int, fromEnvironment: Bool) = {
        if let text = ProcessInfo.processInfo.environment["SOFTMAX_MAX_INPUT_BYTES"], let value = Int(text), value > 0 {
            return (value, true)
        }
        return (Int(clamping: ProcessInfo.processInfo.physicalMemory / 4 * 3), false)
    }()

    /// Throws `SoftmaxError.tooLarge` unless `bytes` is within `maximumBytes`.
    ///
    /// - Parameters:
    ///   - bytes: what is about to be read or allocated.
    ///   - what: names it in the message (`"'big.npy'"`, `"the arrays of shape (…)"`).
    public static func check(_ bytes: Int, for what: String) throws {
        guard bytes <= maximumBytes else {
            throw SoftmaxError.tooLarge(what: what, bytes: bytes, limit: maximumBytes)
        }
    }

    /// How much larger than its inputs a command's output may be: 64 MiB.
    ///
    /// Every output of an array with a nonempty class axis is at most its input's size; only an
    /// empty axis makes more from less (logsumexp's `-inf` per position, per-position losses
    /// of no classes), and then from nothing: a header of 100 bytes can name 10¹⁸ positions.
    /// Refusing those beyond the allowance keeps every command's work in proportion to the
    /// bytes it was given.
    public static let outputAllowance = 64 << 20

    /// Throws `SoftmaxError.outOfProportion` unless `output` bytes exceed `input` bytes by at
    /// most `outputAllowance`.
    ///
    /// - Parameters:
    ///   - output: the bytes a command will write (and allocate) for its outputs.
    ///   - input: the bytes of its input files.
    ///   - what: names the output in the message.
    public static func checkProportion(output: Int, input: Int, for what: String) throws {
        guard output <= bytes(adding: input, outputAllowance) else {
            throw SoftmaxError.outOfProportion(what: what, bytes: output, inputBytes: input)
        }
    }

    /// `count · size` in bytes, or `Int.max` when it overflows (which no check lets through).
    public static func bytes(count: Int, size: Int) -> Int {
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        return overflow ? Int.max : product
    }

    /// The sum of byte counts, or `Int.max` when it overflows.
    public static func bytes(adding parts: Int...) -> Int {
        var total = 0
        for part in parts {
            let (sum, overflow) = total.addingReportingOverflow(part)
            if overflow { return Int.max }
            total = sum
        }
        return total
    }

    /// Bytes as people read them: `512 B`, `3.2 MB`, `40.0 GB`.
    static func text(_ bytes: Int) -> String {
        if bytes < 1000 { return "\(bytes) B" }
        let units = ["kB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(bytes) / 1000
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
    }
}
