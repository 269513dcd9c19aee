import SoftmaxKernels

/// How one call's positions are cut into tiles, and who runs them.
///
/// Tiles depend only on the layout (never on the thread count), so per-tile partial sums added
/// in tile order give the same bits on one thread or many.
package struct TilePlan: Sendable {
    /// Elements per tile: large enough that dispatch costs nothing, small enough that a tile's
    /// rows stay in L2 and the cores stay balanced.
    package static let elementsPerTile = 32 * 1024
    /// Below this many elements one thread does everything.
    package static let parallelThreshold = 128 * 1024

    package let layout: Layout
    /// Positions per tile (within one outer index when `inner > 1`).
    package let span: Int
    package let tilesPerOuter: Int
    package let tileCount: Int

    package init(_ layout: Layout) {
        self.layout = layout
        let perTile = Swift.max(
            1, (layout.inner == 1 ? Self.elementsPerTile : 4 * Self.elementsPerTile) / Swift.max(1, layout.classes))
        if layout.positions == 0 {
            (span, tilesPerOuter, tileCount) = (1, 1, 0)
        } else if layout.inner == 1 {
            span = perTile
            tilesPerOuter = 1
            tileCount = layout.positions == 0 ? 0 : (layout.positions + perTile - 1) / perTile
        } else {
            // Multiples of 16 keep every vector group of a tile full.
            let rounded = (perTile + 15) / 16 * 16
            span = Swift.min(rounded, layout.inner)
            tilesPerOuter = (layout.inner + span - 1) / span
            tileCount = layout.outer * tilesPerOuter
        }
    }

    /// The positions of tile `k`.
    package func positions(ofTile k: Int) -> Range<Int> {
        if layout.inner == 1 {
            let start = k * span
            return start..<Swift.min(start + span, layout.positions)
        }
        let o = k / tilesPerOuter
        let start = (k % tilesPerOuter) * span
        let base = o * layout.inner
        return (base + start)..<(base + Swift.min(start + span, layout.inner))
    }

    /// Runs `body(tileIndex, positions)` for every tile, across threads when the work is large.
    package func forEachTile(_ body: (Int, Range<Int>) -> Void) {
        let threads = Swift.min(SoftmaxThreads.effective, tileCount)
        if threads <= 1 || layout.count < Self.parallelThreshold {
            for k in 0..<tileCount { body(k, positions(ofTile: k)) }
            return
        }
        // Contiguous runs of tiles per thread keep each core streaming through memory.
        withoutActuallyEscaping(body) { body in
            // Each tile touches only its own positions: the threads never share a write.
            nonisolated(unsafe) let body = body
            let plan = self
            WorkerPool.shared.run(iterations: tileCount, threads: threads) { body($0, plan.positions(ofTile: $0)) }
        }
    }
}
