import SoftmaxKernels

/// A call computed tile by tile in slabs of the compute type `S`, each tile staged in a
/// slab of the thread's own: the elements are loaded (widened from `Float16`, or transformed
/// by a temperature or softcap), the kernels run on the slab, and the results are stored
/// (narrowed, or chained back through the transform) into the caller's buffers.
///
/// Staging whole arrays, as every `Float16` call did before, wrote and read every
/// element's `Float` copy through memory — 20 bytes of traffic per element of a softmax
/// against float32's 8 — and needed a block as large as the arrays.  A tile's slab (at most a few hundred KB; larger only
/// for rows longer than a tile) stays in L2 from the load to the store, so the
/// traffic is the caller's bytes alone.  Every op's positions are independent once the
/// cross-entropy's labels are checked and its gradient scale known, so every op stages
/// this way.
///
/// The kernels see a tile as an array of its own: rows of it, or for `inner > 1` its
/// classes by its positions (one outer index: tiles never cross one).  Results are those of
/// the kernels on the loaded values — of the kernels that keep their
/// output in cache: a strided array over the streaming threshold takes the
/// two-pass kernels, which agree with these to rounding, not in every bit.
struct TileStaging<S: KernelTableScalar> {
    /// The whole array's layout.
    let layout: Layout
    /// The active instruction set's kernels, read on the calling thread.
    let kernels = S.kernels

    /// Bytes of slabs one piece of a tile may take, so that they stay in L2 beside the
    /// kernels' own scratch.  A strided tile holds up to 512 KB of `Float` scores: with a
    /// gradient slab beside it that no longer fits, so strided tiles are cut into pieces.
    static var slabBytes: Int { 256 * 1024 }

    /// Runs `body(tile, slab, elements, slabLayout, positions)` for every tile of `layout`
    /// (numbered as `TilePlan` numbers them), across threads as the `Float` ops do, in
    /// pieces of neighbouring positions: a tile's rows, or for `inner > 1` as many of its
    /// positions (a multiple of 16) as keep `slabs` slabs within `slabBytes`.  `slab` holds
    /// `slabs` consecutive slabs of `elements` scalars each for the piece (`elements` is
    /// the piece's element count; `slabLayout` its layout).  `afterTile(tile, positions)`
    /// runs after the last piece of each tile, on the same thread.
    ///
    /// Every kernel computes each position alone (no bit depends on how positions are
    /// grouped), so the pieces give the bits of the whole array.
    func forEachTile(
        slabs: Int,
        _ body: (
            _ tile: Int, _ slab: UnsafeMutablePointer<S>, _ elements: Int, _ slabLayout: Layout,
            _ positions: Range<Int>
        ) -> Void,
        afterTile: (_ tile: Int, _ positions: Range<Int>) -> Void = { _, _ in }
    ) {
        let layout = self.layout
        let classBytes = Swift.max(1, slabs * layout.classes * MemoryLayout<S>.stride)
        let piece = layout.inner == 1 ? Int.max : Swift.max(16, Self.slabBytes / classBytes / 16 * 16)
        TilePlan(layout).forEachTile { tile, positions in
            let most = Swift.min(piece, positions.count)
            // From the pool: a slab allocated and freed per tile would go back to the system
            // each time (malloc trims its heap above 128 KB) and fault in again.
            StagingPool.withBuffer(of: S.self, count: slabs * most * layout.classes) { slab in
                var start = positions.lowerBound
                while start < positions.upperBound {
                    let part = start..<Swift.min(start + most, positions.upperBound)
                    let slabLayout =
                        layout.inner == 1
                        ? Layout(outer: part.count, classes: layout.classes, inner: 1)
                        : Layout(outer: 1, classes: layout.classes, inner: part.count)
                    body(tile, slab.address, part.count * layout.classes, slabLayout, part)
                    start = part.upperBound
                }
            }
            afterTile(tile, positions)
        }
    }

    /// Loads a tile's elements of `source` into `slab` (in the slab's layout), `load(source,
    /// slab, count)` run by run.
    func load<E>(
        _ source: UnsafePointer<E>, into slab: UnsafeMutablePointer<S>, _ positions: Range<Int>,
        _ load: (UnsafePointer<E>, UnsafeMutablePointer<S>, Int) -> Void
    ) {
        forEachRun(positions) { offset, slabOffset, count in load(source + offset, slab + slabOffset, count) }
    }

    /// Stores `slab` into a tile's elements of `destination`, `store(slab, destination,
    /// count)` run by run.
    func store<E>(
        _ slab: UnsafePointer<S>, into destination: UnsafeMutablePointer<E>, _ positions: Range<Int>,
        _ store: (UnsafePointer<S>, UnsafeMutablePointer<E>, Int) -> Void
    ) {
        forEachRun(positions) { offset, slabOffset, count in store(slab + slabOffset, destination + offset, count) }
    }

    /// Calls `body(offset, slabOffset, count)` for each contiguous run of a tile's
    /// elements: one for rows, one per class otherwise.
    private func forEachRun(_ positions: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        if positions.isEmpty { return }
        if layout.inner == 1 {
            body(positions.lowerBound * layout.classes, 0, positions.count * layout.classes)
            return
        }
        let base = layout.offset(ofPosition: positions.lowerBound)
        for c in 0..<layout.classes { body(base + c * layout.inner, c * positions.count, positions.count) }
    }
}

extension TileStaging where S == Float {
    /// Widens a tile's `Float16` elements (bit patterns) of `source` into `slab`.
    func widen(_ source: UnsafePointer<UInt16>, into slab: UnsafeMutablePointer<Float>, _ positions: Range<Int>) {
        load(source, into: slab, positions, kernels.widenHalf)
    }

    /// Narrows `slab` into a tile's `Float16` elements (bit patterns) of `destination`.
    func narrow(
        _ slab: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>, _ positions: Range<Int>
    ) {
        store(slab, into: destination, positions, kernels.narrowHalf)
    }
}
