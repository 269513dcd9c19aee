/// How outputs are written to memory.
public enum SoftmaxMemory {
    /// Outputs of at least this many bytes are written with streaming (non-temporal) stores
    /// where a kernel supports them: 4 MiB, twice the L2 of two cores — an output that large
    /// leaves the caches anyway, so skipping the read of each line before it is written (a
    /// third of the strided cross-entropy's memory traffic) costs its reader nothing.  Above
    /// it the strided kernels of the 256- and 512-bit instruction sets also switch to two
    /// passes (an exp shift and sum while reading from memory, then the exponentials again
    /// from L2), which overlap half of their arithmetic with the reads: the same results to
    /// rounding as below it, not the same bits.  Why 4 MiB and not more or less, measured:
    /// `docs/performance.md`, "Measurements behind the code".
    public static let defaultStreamingThreshold = 4 << 20

    /// The threshold set by `withStreamingThreshold` for the current task, if any.
    @TaskLocal static var streamingThreshold: Int?

    /// Runs `body` with outputs of `bytes` bytes or more written with streaming stores (0:
    /// always; `Int.max`: never), for calls made by the current task.
    public static func withStreamingThreshold<R>(_ bytes: Int, _ body: () throws -> R) rethrows -> R {
        try $streamingThreshold.withValue(Swift.max(0, bytes), operation: body)
    }

    /// Whether an output of `byteCount` bytes is streamed.
    static func streams(byteCount: Int) -> Bool {
        byteCount >= (streamingThreshold ?? defaultStreamingThreshold)
    }
}
