#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    import SoftmaxKernels

    /// `Float16` arrays computed tile by tile in `Float`: each tile's elements are widened into
    /// a slab of the thread's own, the `Float` kernels run on the slab, and the results are
    /// narrowed into the caller's buffer.
    ///
    /// Staging whole arrays (`perform`) writes and reads every element's `Float` copy through
    /// memory — 20 bytes of traffic per element of a softmax against float32's 8 — and needs
    /// a block as large as the arrays.  A tile's slab (at most a few hundred KB; larger only
    /// for rows longer than a tile) stays in L2 from the widening to the narrowing, so the
    /// traffic is the `Float16` bytes alone.  Used by the ops whose positions are independent
    /// (softmax, log-softmax, logsumexp and their backward passes); the cross-entropy, whose
    /// reduction and normaliser span every position, stages whole arrays.
    ///
    /// The kernels see a tile as an array of its own: rows of it, or for `inner > 1` its
    /// classes by its positions (one outer index: tiles never cross one).  Results are those of
    /// the `Float` kernels on the widened values, narrowed — of the kernels that keep their
    /// output in cache: a strided `Float` array over the streaming threshold takes the
    /// two-pass kernels, which agree with these to rounding, not in every bit.
    struct HalfTileStaging {
        /// The whole array's layout.
        let layout: Layout
        /// The active instruction set's `Float` kernels, read on the calling thread.
        let kernels = Float.kernels

        /// Runs `body(slab, elements, slabLayout, positions)` for every tile of `layout`, across
        /// threads as the `Float` ops do, with `slabs` consecutive slabs of `elements` `Float`s
        /// each for the tile (`elements` is the tile's element count; `slabLayout` its layout).
        func forEachTile(
            slabs: Int,
            _ body: (
                _ slab: UnsafeMutablePointer<Float>, _ elements: Int, _ slabLayout: Layout, _ positions: Range<Int>
            )
                -> Void
        ) {
            let layout = self.layout
            TilePlan(layout).forEachTile { _, positions in
                let elements = positions.count * layout.classes
                let slabLayout =
                    layout.inner == 1
                    ? Layout(outer: positions.count, classes: layout.classes, inner: 1)
                    : Layout(outer: 1, classes: layout.classes, inner: positions.count)
                // From the pool: a slab allocated and freed per tile went back to the system
                // each time (malloc trims its heap above 128 KB) and faulted in again, which
                // made short rows (65536×10) 20% slower than staging the whole array.
                StagingPool.withBuffer(of: Float.self, count: slabs * elements) { slab in
                    body(slab.address, elements, slabLayout, positions)
                }
            }
        }

        /// Widens a tile's elements of `source` into `slab` (in the slab's layout).
        func widen(_ source: UnsafePointer<Float16>, into slab: UnsafeMutablePointer<Float>, _ positions: Range<Int>) {
            forEachRun(positions) { offset, slabOffset, count in
                kernels.widenHalf(source + offset, slab + slabOffset, count)
            }
        }

        /// Narrows `slab` into a tile's elements of `destination`.
        func narrow(
            _ slab: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float16>, _ positions: Range<Int>
        ) {
            forEachRun(positions) { offset, slabOffset, count in
                kernels.narrowHalf(slab + slabOffset, destination + offset, count)
            }
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
#endif
