/// How outputs are written to memory.
public enum SoftmaxMemory {
    /// Outputs of at least this many bytes are written with streaming (non-temporal) stores
    /// where a kernel supports them: 4 MiB, twice the L2 of the two cores of the machine
    /// measured in `docs/performance.md` (16 MiB, half its L3, until 2026-12-03).  Skipping the
    /// read of each line before it is written saves a third of the memory traffic of the
    /// strided cross-entropy, and the two-pass kernels overlap half of their arithmetic with
    /// the reads; at 16 MiB, strided outputs of 4–16 MiB took the three-pass kernels, whose
    /// first pass waits on L3 and memory: 1×21×256×256 (5.5 MB) and 2×21×256×256 (11 MB) ran
    /// 1.3–1.8× faster in two passes (cross-entropy; softmax 1.1–1.6×; float64 alike), while
    /// outputs below 4 MiB (65536×10, 1×21×160×256) gain nothing.  Such an output is left in
    /// memory, not in L3, for its reader.  Above it the strided kernels of the 256- and
    /// 512-bit instruction sets also switch to two passes (an exp shift and sum while reading
    /// from memory, then the exponentials again from L2): the same results to rounding as below
    /// it, not the same bits.
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
