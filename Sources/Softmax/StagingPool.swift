import Foundation

/// Reusable scratch memory for staging `Float16` data through `Float`.
///
/// A fresh multi-megabyte allocation per call is mapped anew by the system and every page
/// faults on first touch, which can cost more than the computation.  Blocks are handed back
/// after each call and reused by the next one of a similar size.
///
/// The pool keeps at most `maximumBlocks` blocks and `maximumBytes` bytes (a sixteenth of
/// physical memory, at least 256 MiB); larger or surplus blocks are freed at once, so a one-off
/// huge call does not pin more than that.  The bound is that high because the calls that need
/// big blocks are the ones that gain most from keeping them (the figures: `docs/performance.md`,
/// "Measurements behind the code").
enum StagingPool {
    private struct Block: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        let byteCount: Int
    }

    private static let maximumBlocks = 8
    private static let maximumBytes = max(256 << 20, Int(clamping: ProcessInfo.processInfo.physicalMemory / 16))
    private static let blocks = PthreadLocked<[Block]>([])

    /// Runs `body` with `count` uninitialised `T` values (`T` trivial), from the pool when a
    /// kept block is large enough.
    static func withBuffer<T: BitwiseCopyable, R>(
        of _: T.Type, count: Int, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
    ) rethrows -> R {
        let bytes = Swift.max(count * MemoryLayout<T>.stride, 1)
        let block = take(bytes) ?? Block(pointer: .allocate(byteCount: bytes, alignment: 64), byteCount: bytes)
        defer { give(block) }
        let typed = block.pointer.bindMemory(to: T.self, capacity: count)
        return try body(UnsafeMutableBufferPointer(start: typed, count: count))
    }

    /// The smallest kept block of at least `bytes` (and at most twice that, so that small calls
    /// do not hold on to huge blocks).
    private static func take(_ bytes: Int) -> Block? {
        blocks.withLock { kept in
            let fitting = kept.indices.filter { kept[$0].byteCount >= bytes && kept[$0].byteCount <= 2 * bytes }
            guard let best = fitting.min(by: { kept[$0].byteCount < kept[$1].byteCount }) else { return nil }
            return kept.remove(at: best)
        }
    }

    private static func give(_ block: Block) {
        let surplus: [Block] = blocks.withLock { kept in
            kept.append(block)
            var freed: [Block] = []
            // Drop the oldest blocks beyond the limits.
            while kept.count > maximumBlocks || kept.reduce(0, { $0 + $1.byteCount }) > maximumBytes {
                freed.append(kept.removeFirst())
            }
            return freed
        }
        for block in surplus { block.pointer.deallocate() }
    }
}
