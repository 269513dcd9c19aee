/// Short rows (`inner == 1`, fewer than `shortRowLimit` classes, e.g. 65536×10): a vector
/// along one row is mostly empty lanes and every row pays for horizontal reductions, so
/// blocks of rows are transposed into a small scratch panel (class `c` of row `r` at
/// `c·rows + r`), run through the strided kernels there — vectorised across rows, in L1 — and
/// transposed back.
extension TileKernels {
    /// Rows with fewer classes than this take the transposed path.
    @inlinable static var shortRowLimit: Int { 2 * V.scalarCount }

    /// Rows per block: the block's scratch (`rows · classes` scalars per buffer) stays within
    /// 16 KB, and `rows` is a multiple of the vector width.
    @inlinable @inline(__always)
    static func shortRowBlock(classes: Int) -> Int {
        let w = V.scalarCount
        return Swift.max(w, Swift.min(StridedKernels<V>.panelLength, 4096 / Swift.max(classes, 1) / w * w))
    }

    /// Calls `body(firstRow, rows, scratch)` for each block of `positions`; `scratch` holds
    /// `buffers` panels of `shortRowBlock(classes:) · classes` scalars.
    @inlinable @inline(__always)
    static func forEachShortRowBlock(
        classes: Int, positions: Range<Int>, buffers: Int,
        _ body: (Int, Int, UnsafeMutablePointer<Scalar>) -> Void
    ) {
        let block = shortRowBlock(classes: classes)
        let scratch = UnsafeMutablePointer<Scalar>.allocate(capacity: buffers * block * classes)
        defer { scratch.deallocate() }
        var r = positions.lowerBound
        while r < positions.upperBound {
            let rows = Swift.min(block, positions.upperBound - r)
            body(r, rows, scratch)
            r += rows
        }
    }

    /// Copies `rows` rows of `classes` scalars from `source` (row-major) into `panel` (class
    /// `c` of row `r` at `c·rows + r`).
    ///
    /// Both transposes go row by row, so that the array in memory is walked in order and the
    /// strided accesses stay in the L1-resident panel.  Two functions, not one with the four
    /// strides as arguments, so that each one's unit strides are constants.
    @inlinable @inline(__always)
    static func transposeIn(
        _ source: UnsafePointer<Scalar>, rows: Int, classes: Int, into panel: UnsafeMutablePointer<Scalar>
    ) {
        var input = source
        for r in 0..<rows {
            var column = panel + r
            for _ in 0..<classes {
                column.pointee = input.pointee
                input += 1
                column += rows
            }
        }
    }

    /// The inverse of `transposeIn`.
    @inlinable @inline(__always)
    static func transposeOut(
        _ panel: UnsafePointer<Scalar>, rows: Int, classes: Int, into destination: UnsafeMutablePointer<Scalar>
    ) {
        var output = destination
        for r in 0..<rows {
            var column = panel + r
            for _ in 0..<classes {
                output.pointee = column.pointee
                output += 1
                column += rows
            }
        }
    }

    /// `forward` for short rows.
    @inlinable
    static func shortRowsForward(
        logarithmic: Bool, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, classes n: Int,
        positions: Range<Int>
    ) {
        forEachShortRowBlock(classes: n, positions: positions, buffers: 1) { r, rows, panel in
            transposeIn(x + r * n, rows: rows, classes: n, into: panel)
            if logarithmic {
                StridedKernels<V>.logSoftmax(panel, panel, classes: n, stride: rows, count: rows)
            } else {
                StridedKernels<V>.softmax(panel, panel, classes: n, stride: rows, count: rows)
            }
            transposeOut(panel, rows: rows, classes: n, into: y + r * n)
        }
    }

    /// `logSumExp` for short rows.
    @inlinable
    static func shortRowsLogSumExp(
        _ x: UnsafePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>, classes n: Int, positions: Range<Int>
    ) {
        forEachShortRowBlock(classes: n, positions: positions, buffers: 1) { r, rows, panel in
            transposeIn(x + r * n, rows: rows, classes: n, into: panel)
            StridedKernels<V>.logSumExp(panel, into: out + r, classes: n, stride: rows, count: rows)
        }
    }

    /// `backward` for short rows.
    @inlinable
    static func shortRowsBackward(
        logarithmic: Bool, output y: UnsafePointer<Scalar>, gradient dy: UnsafePointer<Scalar>,
        into dx: UnsafeMutablePointer<Scalar>, classes n: Int, positions: Range<Int>
    ) {
        forEachShortRowBlock(classes: n, positions: positions, buffers: 2) { r, rows, scratch in
            let (panelY, panelDY) = (scratch, scratch + rows * n)
            transposeIn(y + r * n, rows: rows, classes: n, into: panelY)
            transposeIn(dy + r * n, rows: rows, classes: n, into: panelDY)
            if logarithmic {
                StridedKernels<V>.logSoftmaxBackward(
                    output: panelY, gradient: panelDY, into: panelDY, classes: n, stride: rows, count: rows)
            } else {
                StridedKernels<V>.softmaxBackward(
                    output: panelY, gradient: panelDY, into: panelDY, classes: n, stride: rows, count: rows)
            }
            transposeOut(panelDY, rows: rows, classes: n, into: dx + r * n)
        }
    }

    /// `crossEntropy` for short rows, with class-index targets or (`q` non-nil) probability
    /// targets.
    @inlinable
    static func shortRowsCrossEntropy(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>?, probabilities q: UnsafePointer<Scalar>?,
        positions: Range<Int>, parameters: CrossEntropyParameters<Scalar>,
        outputs: CrossEntropyOutputPointers<Scalar>, losses: UnsafeMutablePointer<Scalar>,
        zLosses: UnsafeMutablePointer<Scalar>?
    ) {
        let n = parameters.classes
        forEachShortRowBlock(classes: n, positions: positions, buffers: 5) { r, rows, scratch in
            let size = rows * n
            let panelX = scratch
            transposeIn(x + r * n, rows: rows, classes: n, into: panelX)
            let panels = CrossEntropyOutputPointers(
                gradient: outputs.gradient == nil ? nil : scratch + size,
                probabilities: outputs.probabilities == nil ? nil : scratch + 2 * size,
                logProbabilities: outputs.logProbabilities == nil ? nil : scratch + 3 * size)
            if let q {
                let panelQ = scratch + 4 * size
                transposeIn(q + r * n, rows: rows, classes: n, into: panelQ)
                StridedKernels<V>.crossEntropy(
                    panelX, probabilities: panelQ, stride: rows, count: rows, parameters: parameters,
                    outputs: panels, losses: losses + r, zLosses: zLosses.map { $0 + r })
            } else if let targets {
                StridedKernels<V>.crossEntropy(
                    panelX, targets: targets + r, stride: rows, count: rows, parameters: parameters,
                    outputs: panels, losses: losses + r, zLosses: zLosses.map { $0 + r })
            }
            if let panel = panels.gradient, let output = outputs.gradient {
                transposeOut(panel, rows: rows, classes: n, into: output + r * n)
            }
            if let panel = panels.probabilities, let output = outputs.probabilities {
                transposeOut(panel, rows: rows, classes: n, into: output + r * n)
            }
            if let panel = panels.logProbabilities, let output = outputs.logProbabilities {
                transposeOut(panel, rows: rows, classes: n, into: output + r * n)
            }
        }
    }
}
