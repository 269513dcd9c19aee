/// How outputs are written to memory.
public enum SoftmaxMemory {
    /// Outputs of at least this many bytes are written with streaming (non-temporal) stores
    /// where a kernel supports them: 16 MiB, half the L3 of the machine measured in
    /// `docs/performance.md`.  Such an output does not stay in cache for its reader anyway,
    /// and skipping the read of each line before it is written saves a third of the memory
    /// traffic of the strided cross-entropy.  Above it the strided kernels of the 256- and
    /// 512-bit instruction sets also switch to two passes (an exp shift and sum while reading
    /// from memory, then the exponentials again from L2): the same results to rounding as below
    /// it, not the same bits.
    public static let defaultStreamingThreshold = 16 << 20

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
