import SoftmaxKernels

// The softmax family on caller-provided buffers (no copy for `Float` and `Double`).
// Output buffers may be the input buffer (in place).

/// Writes the softmax of `input` along `axis` into `output`:
/// `y_c = exp(x_c − m) / Σ_k exp(x_k − m)` with `m` the position's maximum.
///
/// A position whose scores are all `-infinity` gives zeros; a NaN poisons only its position.
///
/// - Parameters:
///   - input: the scores, in C order.
///   - shape: the dimensions of `input`.
///   - axis: the class axis; negative counts from the end (default: the last).
///   - output: receives the probabilities; as many elements as `input` (may be `input`).
/// - Throws: `SoftmaxError` for a bad axis, shape or buffer size.
/// - Complexity: O(n): one read for the normaliser and one read and write, across all cores
///   for large inputs.
public func softmax<T: SoftmaxScalar>(
    _ input: UnsafeBufferPointer<T>, shape: [Int], axis: Int = -1,
    into output: UnsafeMutableBufferPointer<T>
) throws {
    try forward(logarithmic: false, input, shape: shape, axis: axis, into: output)
}

/// Writes the log-softmax of `input` along `axis` into `output`: `x_c − logsumexp(x)`.
///
/// A position whose scores are all `-infinity` gives `-infinity`.
///
/// - Parameters: as for `softmax(_:shape:axis:into:)`.
/// - Throws: `SoftmaxError` for a bad axis, shape or buffer size.
/// - Complexity: O(n).
public func logSoftmax<T: SoftmaxScalar>(
    _ input: UnsafeBufferPointer<T>, shape: [Int], axis: Int = -1,
    into output: UnsafeMutableBufferPointer<T>
) throws {
    try forward(logarithmic: true, input, shape: shape, axis: axis, into: output)
}

/// Writes `logsumexp` of every position of `input` along `axis` into `output`, whose shape is
/// `shape` without the axis: `m + log Σ exp(x − m)`.
///
/// All `-infinity` gives `-infinity`; a `+infinity` score gives `+infinity`.
///
/// - Parameters:
///   - input: the scores, C order.
///   - shape: the dimensions of `input`.
///   - axis: the axis to reduce (negative counts from the end).
///   - output: one element per position (the product of the other dimensions).
/// - Throws: `SoftmaxError` for a bad axis, shape or buffer size.
/// - Complexity: O(n).
public func logSumExp<T: SoftmaxScalar>(
    _ input: UnsafeBufferPointer<T>, shape: [Int], axis: Int = -1,
    into output: UnsafeMutableBufferPointer<T>
) throws {
    let layout = try Layout(shape: shape, axis: axis)
    try checkCount(input.count, layout.count, "input")
    try checkCount(output.count, layout.positions, "output")
    // Nothing to read: an empty class axis sums no exponentials (-inf, as NumPy's
    // logaddexp.reduce), and no loop runs over positions that hold nothing.
    if layout.count == 0 {
        output.update(repeating: -T.infinity)
        return
    }
    let task = LogSumExpTask(layout: layout)
    dispatch(
        T.self, float: { task.run(input.rebound(to: Float.self).address, output.rebound(to: Float.self).address) },
        double: { task.run(input.rebound(to: Double.self).address, output.rebound(to: Double.self).address) },
        staged: { $0.runLogSumExp(task, input: input, output: output) })
}

/// Writes the softmax backward pass: `dx = y ⊙ (dy − Σ_c dy_c·y_c)` (Caffe's formula), where
/// `y` is the softmax output and `dy` the gradient with respect to it.
///
/// - Parameters:
///   - output: the softmax output `y`.
///   - gradient: `dy`, the same shape.
///   - shape: the dimensions of all three arrays.
///   - axis: the class axis the softmax was taken along.
///   - inputGradient: receives `dx` (may alias `gradient`).
/// - Throws: `SoftmaxError` for a bad axis, shape or buffer size.
/// - Complexity: O(n).
public func softmaxBackward<T: SoftmaxScalar>(
    output: UnsafeBufferPointer<T>, gradient: UnsafeBufferPointer<T>, shape: [Int], axis: Int = -1,
    into inputGradient: UnsafeMutableBufferPointer<T>
) throws {
    try backward(logarithmic: false, output, gradient, shape: shape, axis: axis, into: inputGradient)
}

/// Writes the log-softmax backward pass: `dx = dy − exp(y) · Σ_c dy_c`, where `y` is the
/// log-softmax output.
///
/// - Parameters: as for `softmaxBackward(output:gradient:shape:axis:into:)`.
/// - Throws: `SoftmaxError` for a bad axis, shape or buffer size.
/// - Complexity: O(n).
public func logSoftmaxBackward<T: SoftmaxScalar>(
    output: UnsafeBufferPointer<T>, gradient: UnsafeBufferPointer<T>, shape: [Int], axis: Int = -1,
    into inputGradient: UnsafeMutableBufferPointer<T>
) throws {
    try backward(logarithmic: true, output, gradient, shape: shape, axis: axis, into: inputGradient)
}

// MARK: - Tasks

private func forward<T: SoftmaxScalar>(
    logarithmic: Bool, _ input: UnsafeBufferPointer<T>, shape: [Int], axis: Int,
    into output: UnsafeMutableBufferPointer<T>
) throws {
    let layout = try Layout(shape: shape, axis: axis)
    try checkCount(input.count, layout.count, "input")
    try checkCount(output.count, layout.count, "output")
    // An empty array has nothing to write, however many positions its other dimensions count.
    if layout.count == 0 { return }
    let task = ForwardTask(logarithmic: logarithmic, layout: layout)
    dispatch(
        T.self, float: { task.run(input.rebound(to: Float.self).address, output.rebound(to: Float.self).address) },
        double: { task.run(input.rebound(to: Double.self).address, output.rebound(to: Double.self).address) },
        staged: { $0.runForward(task, input: input, output: output) })
}

private func backward<T: SoftmaxScalar>(
    logarithmic: Bool, _ y: UnsafeBufferPointer<T>, _ dy: UnsafeBufferPointer<T>, shape: [Int],
    axis: Int, into dx: UnsafeMutableBufferPointer<T>
) throws {
    let layout = try Layout(shape: shape, axis: axis)
    try checkCount(y.count, layout.count, "output")
    try checkCount(dy.count, layout.count, "gradient")
    try checkCount(dx.count, layout.count, "input gradient")
    if layout.count == 0 { return }
    let task = BackwardTask(logarithmic: logarithmic, layout: layout)
    dispatch(
        T.self,
        float: {
            task.run(
                y: y.rebound(to: Float.self).address, dy: dy.rebound(to: Float.self).address,
                dx: dx.rebound(to: Float.self).address)
        },
        double: {
            task.run(
                y: y.rebound(to: Double.self).address, dy: dy.rebound(to: Double.self).address,
                dx: dx.rebound(to: Double.self).address)
        },
        staged: { $0.runBackward(task, y: y, dy: dy, dx: dx) })
}

/// Softmax or log-softmax of every position, threaded over tiles.
struct ForwardTask {
    let logarithmic: Bool
    let layout: Layout

    func run<S: KernelTableScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>) {
        let kernels = S.kernels
        let streaming = SoftmaxMemory.streams(byteCount: layout.count * MemoryLayout<S>.stride)
        TilePlan(layout).forEachTile { _, positions in kernels.forward(logarithmic, x, y, layout, positions, streaming)
        }
    }
}

/// `logsumexp` of every position, one output per position.
struct LogSumExpTask {
    let layout: Layout

    func run<S: KernelTableScalar>(_ x: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>) {
        let kernels = S.kernels
        TilePlan(layout).forEachTile { _, positions in kernels.logSumExp(x, out, layout, positions) }
    }
}

/// The softmax or log-softmax backward pass of every position.
struct BackwardTask {
    let logarithmic: Bool
    let layout: Layout

    func run<S: KernelTableScalar>(y: UnsafePointer<S>, dy: UnsafePointer<S>, dx: UnsafeMutablePointer<S>) {
        let kernels = S.kernels
        TilePlan(layout).forEachTile { _, positions in kernels.backward(logarithmic, y, dy, dx, layout, positions) }
    }
}

// Float16, as bit patterns: each tile widened into its own slab, computed there in place,
// narrowed back (`TileStaging`).  A tile reads all of its input before it writes its
// output, and tiles are disjoint, so the output may still be the input.

extension ForwardTask {
    func runStaged(_ x: UnsafePointer<UInt16>, _ y: UnsafeMutablePointer<UInt16>) {
        let staging = TileStaging<Float>(layout: layout)
        let (forward, logarithmic) = (staging.kernels.forward, logarithmic)
        staging.forEachTile(slabs: 1) { _, slab, _, slabLayout, positions in
            staging.widen(x, into: slab, positions)
            forward(logarithmic, slab, slab, slabLayout, 0..<positions.count, false)
            staging.narrow(slab, into: y, positions)
        }
    }
}

extension LogSumExpTask {
    func runStaged(_ x: UnsafePointer<UInt16>, _ out: UnsafeMutablePointer<UInt16>) {
        let staging = TileStaging<Float>(layout: layout)
        let (logSumExp, narrowHalf) = (staging.kernels.logSumExp, staging.kernels.narrowHalf)
        staging.forEachTile(slabs: 1) { _, slab, _, slabLayout, positions in
            let results = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, positions.count))
            defer { results.deallocate() }
            staging.widen(x, into: slab, positions)
            logSumExp(slab, results, slabLayout, 0..<positions.count)
            narrowHalf(results, out + positions.lowerBound, positions.count)
        }
    }
}

extension BackwardTask {
    func runStaged(_ y: UnsafePointer<UInt16>, _ dy: UnsafePointer<UInt16>, _ dx: UnsafeMutablePointer<UInt16>) {
        let staging = TileStaging<Float>(layout: layout)
        let (backward, logarithmic) = (staging.kernels.backward, logarithmic)
        staging.forEachTile(slabs: 2) { _, slab, elements, slabLayout, positions in
            let gradient = slab + elements
            staging.widen(y, into: slab, positions)
            staging.widen(dy, into: gradient, positions)
            backward(logarithmic, slab, gradient, gradient, slabLayout, 0..<positions.count)
            staging.narrow(gradient, into: dx, positions)
        }
    }
}
