/// The operations a tile of positions can run: the unit the threaded driver hands to one core
/// and the unit an instruction-set module instantiates.
///
/// A tile is a range of positions `[start, end)`.  For `inner == 1` (rows) any range works; for
/// `inner > 1` the range stays within one outer index (the driver guarantees it), and it is
/// processed in panels of neighbouring positions (`StridedKernels`).
public enum TileKernels<V: SIMD> where V.Scalar: KernelScalar {
    /// The element type.
    public typealias Scalar = V.Scalar

    /// Softmax or log-softmax of every position in `positions`.
    @inlinable
    public static func forward(
        logarithmic: Bool, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>,
        layout: Layout, positions: Range<Int>, streaming: Bool = false
    ) {
        if layout.inner == 1 && layout.classes < shortRowLimit {
            shortRowsForward(logarithmic: logarithmic, x, y, classes: layout.classes, positions: positions)
            return
        }
        if layout.inner == 1 && layout.classes <= RowKernels<V>.blockLength {
            let (n, first) = (layout.classes, positions.lowerBound)
            if logarithmic {
                RowKernels<V>.forwardRows(
                    LogProbabilityOutput.self, x + first * n, y + first * n, count: n, rows: positions.count)
            } else {
                RowKernels<V>.forwardRows(
                    ProbabilityOutput.self, x + first * n, y + first * n, count: n, rows: positions.count)
            }
            return
        }
        forEachGroup(layout, positions) { offset, count, _ in
            if layout.inner == 1 {
                let n = layout.classes
                // Rows shorter than `shortRowLimit` took the transposed path above.
                if logarithmic {
                    RowKernels<V>.logSoftmaxOnePass(x + offset, y + offset, count: n)
                } else {
                    RowKernels<V>.softmaxOnePass(x + offset, y + offset, count: n)
                }
            } else if logarithmic {
                StridedKernels<V>.logSoftmax(
                    x + offset, y + offset, classes: layout.classes, stride: layout.inner, count: count)
            } else if streaming {
                StridedKernels<V>.softmaxStreaming(
                    x + offset, y + offset, classes: layout.classes, stride: layout.inner, count: count)
            } else {
                StridedKernels<V>.softmax(
                    x + offset, y + offset, classes: layout.classes, stride: layout.inner, count: count)
            }
        }
    }

    /// `logsumexp` of every position; `out` is indexed by position.
    @inlinable
    public static func logSumExp(
        _ x: UnsafePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>, layout: Layout,
        positions: Range<Int>
    ) {
        if layout.inner == 1 && layout.classes < shortRowLimit {
            shortRowsLogSumExp(x, out, classes: layout.classes, positions: positions)
            return
        }
        forEachGroup(layout, positions) { offset, count, position in
            if layout.inner == 1 {
                let n = layout.classes
                let norm = RowKernels<V>.normalizer(x + offset, count: n)
                out[position] = RowKernels<V>.logSumExp(x + offset, count: n, normalizer: norm)
            } else {
                StridedKernels<V>.logSumExp(
                    x + offset, into: out + position, classes: layout.classes, stride: layout.inner,
                    count: count)
            }
        }
    }

    /// Softmax or log-softmax backward of every position.
    @inlinable
    public static func backward(
        logarithmic: Bool, output y: UnsafePointer<Scalar>, gradient dy: UnsafePointer<Scalar>,
        into dx: UnsafeMutablePointer<Scalar>, layout: Layout, positions: Range<Int>
    ) {
        if layout.inner == 1 && layout.classes < shortRowLimit {
            shortRowsBackward(
                logarithmic: logarithmic, output: y, gradient: dy, into: dx, classes: layout.classes,
                positions: positions)
            return
        }
        forEachGroup(layout, positions) { offset, count, _ in
            let (y, dy, dx) = (y + offset, dy + offset, dx + offset)
            if layout.inner == 1 {
                if logarithmic {
                    RowKernels<V>.logSoftmaxBackward(output: y, gradient: dy, into: dx, count: layout.classes)
                } else {
                    RowKernels<V>.softmaxBackward(output: y, gradient: dy, into: dx, count: layout.classes)
                }
            } else if logarithmic {
                StridedKernels<V>.logSoftmaxBackward(
                    output: y, gradient: dy, into: dx, classes: layout.classes, stride: layout.inner,
                    count: count)
            } else {
                StridedKernels<V>.softmaxBackward(
                    output: y, gradient: dy, into: dx, classes: layout.classes, stride: layout.inner,
                    count: count)
            }
        }
    }

    /// Fused cross-entropy with class-index targets (`targets[position]`, negative = ignored).
    /// Writes each position's loss to `losses[position]`, and with a z-loss its z term to
    /// `zLosses[position]`.
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, targets: UnsafePointer<Int32>, layout: Layout,
        positions: Range<Int>, parameters: CrossEntropyParameters<Scalar>,
        outputs: CrossEntropyOutputPointers<Scalar>, losses: UnsafeMutablePointer<Scalar>,
        zLosses: UnsafeMutablePointer<Scalar>? = nil
    ) {
        if layout.inner == 1 && layout.classes < shortRowLimit {
            shortRowsCrossEntropy(
                x, targets: targets, probabilities: nil, positions: positions, parameters: parameters,
                outputs: outputs, losses: losses, zLosses: zLosses)
            return
        }
        forEachGroup(layout, positions) { offset, count, position in
            if layout.inner == 1 {
                losses[position] = RowKernels<V>.crossEntropy(
                    x + offset, target: Int(targets[position]), parameters: parameters,
                    outputs: outputs.advanced(by: offset), zLoss: zLosses.map { $0 + position })
            } else {
                StridedKernels<V>.crossEntropy(
                    x + offset, targets: targets + position, stride: layout.inner, count: count,
                    parameters: parameters, outputs: outputs.advanced(by: offset),
                    losses: losses + position, zLosses: zLosses.map { $0 + position })
            }
        }
    }

    /// Fused cross-entropy with probability targets laid out like the scores.
    @inlinable
    public static func crossEntropy(
        _ x: UnsafePointer<Scalar>, probabilities q: UnsafePointer<Scalar>, layout: Layout,
        positions: Range<Int>, parameters: CrossEntropyParameters<Scalar>,
        outputs: CrossEntropyOutputPointers<Scalar>, losses: UnsafeMutablePointer<Scalar>,
        zLosses: UnsafeMutablePointer<Scalar>? = nil
    ) {
        if layout.inner == 1 && layout.classes < shortRowLimit {
            shortRowsCrossEntropy(
                x, targets: nil, probabilities: q, positions: positions, parameters: parameters,
                outputs: outputs, losses: losses, zLosses: zLosses)
            return
        }
        forEachGroup(layout, positions) { offset, count, position in
            if layout.inner == 1 {
                losses[position] = RowKernels<V>.crossEntropy(
                    x + offset, probabilities: q + offset, parameters: parameters,
                    outputs: outputs.advanced(by: offset), zLoss: zLosses.map { $0 + position })
            } else {
                StridedKernels<V>.crossEntropy(
                    x + offset, probabilities: q + offset, stride: layout.inner, count: count,
                    parameters: parameters, outputs: outputs.advanced(by: offset),
                    losses: losses + position, zLosses: zLosses.map { $0 + position })
            }
        }
    }

    /// Calls `body(elementOffset, count, firstPosition)` for each row (`inner == 1`, count 1)
    /// or each panel of up to `StridedKernels.panelLength` neighbouring positions within one
    /// outer index (`inner > 1`).
    @inlinable @inline(__always)
    static func forEachGroup(
        _ layout: Layout, _ positions: Range<Int>, _ body: (Int, Int, Int) -> Void
    ) {
        if layout.inner == 1 {
            for p in positions { body(p * layout.classes, 1, p) }
            return
        }
        var p = positions.lowerBound
        while p < positions.upperBound {
            let count = Swift.min(
                StridedKernels<V>.panelLength, positions.upperBound - p, layout.inner - p % layout.inner)
            body(layout.offset(ofPosition: p), count, p)
            p += count
        }
    }
}
