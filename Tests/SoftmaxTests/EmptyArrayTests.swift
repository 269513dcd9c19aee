import Foundation
import Testing

@testable import Softmax

// Zero-sized arrays whose other dimensions are huge: the result is the empty (or -inf, or 0)
// answer at once.  Before, softmax of (0, 6.6e17) along axis 0 looped over 6.6e17 positions
// that hold nothing, float16 trapped on an overflow in its tile arithmetic, and logsumexp
// allocated the exabytes its output would need.  A regression hangs or traps these tests.

/// Dimensions whose product with a zero is an empty array but whose positions number ~10¹⁸.
private let huge = 660_000_000_000_000_000
/// The largest dimension whose bytes still fit in `Int` for float16 (`2 · d ≤ Int.max`).
private let hugeHalf = Int.max / 2

@Suite("Empty arrays: the right empty result at once, whatever the other dimensions", .timeLimit(.minutes(3)))
struct EmptyArrayTests {
    /// Runs the softmax family on an empty buffer of `shape` along `axis` in `T`.
    private func forwardAndBackward<T: SoftmaxScalar>(_: T.Type, shape: [Int], axis: Int) throws {
        let empty = UnsafeMutableBufferPointer<T>.allocate(capacity: 0)
        defer { empty.deallocate() }
        let input = UnsafeBufferPointer(empty)
        try softmax(input, shape: shape, axis: axis, into: empty)
        try logSoftmax(input, shape: shape, axis: axis, into: empty)
        try softmaxBackward(output: input, gradient: input, shape: shape, axis: axis, into: empty)
        try logSoftmaxBackward(output: input, gradient: input, shape: shape, axis: axis, into: empty)
        // Positions exist only when the empty dimension is the class axis.
        let layout = try Layout(shape: shape, axis: axis)
        if layout.positions == 0 { try logSumExp(input, shape: shape, axis: axis, into: empty) }
    }

    @Test("softmax, log-softmax, both backward passes and logsumexp of (0, ~10¹⁸), every type and axis")
    func hugeEmptyShapes() throws {
        for axis in [0, 1, -1, -2] {
            try forwardAndBackward(Float.self, shape: [0, huge], axis: axis)
            try forwardAndBackward(Double.self, shape: [huge, 0], axis: axis)
            try forwardAndBackward(Float.self, shape: [0, Int.max / 4], axis: axis)
            #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
                // The shape that trapped in TileStaging.forEachTile (then HalfTileStaging).
                try forwardAndBackward(Float16.self, shape: [0, hugeHalf], axis: axis)
                try forwardAndBackward(Float16.self, shape: [huge, 0, 3], axis: axis)
            #endif
        }
    }

    @Test("logsumexp over an empty class axis is -inf at every position, in every type")
    func logSumExpOfNothing() throws {
        func check<T: SoftmaxScalar>(_: T.Type) throws {
            for (shape, axis, positions) in [([0, 1000], 0, 1000), ([3, 0, 5], 1, 15), ([4, 0], -1, 4)] {
                var out = [T](repeating: 7, count: positions)
                try [T]().withUnsafeBufferPointer { x in
                    try out.withUnsafeMutableBufferPointer { try logSumExp(x, shape: shape, axis: axis, into: $0) }
                }
                #expect(out.allSatisfy { $0 == -T.infinity }, "\(T.self) \(shape) axis \(axis)")
                let array = try NDArray<T>(shape: shape, scalars: []).logSumExp(axis: axis)
                var outShape = shape
                outShape.remove(at: axis < 0 ? axis + shape.count : axis)
                #expect(array.shape == outShape && array.scalars == [T](repeating: -T.infinity, count: positions))
            }
        }
        try check(Float.self)
        try check(Double.self)
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            try check(Float16.self)
        #endif
    }

    @Test("NDArray.logSumExp refuses an output larger than memory before allocating it")
    func logSumExpOutputIsChecked() throws {
        let x = try NDArray<Float>(shape: [0, huge], scalars: [])
        #expect(throws: SoftmaxError.self) { try x.logSumExp(axis: 0) }
        do {
            _ = try x.logSumExp(axis: 0)
        } catch let SoftmaxError.tooLarge(what, bytes, _) {
            #expect(what.contains("(0, \(huge))") && bytes == huge * 4)
        }
        // The other axis is empty: an empty result, at once.
        #expect(try x.logSumExp(axis: 1).shape == [0])
        #expect(try x.softmax(axis: 0).shape == [0, huge])
    }

    @Test("cross-entropy of no scores: 0 under every reduction, at once, for both target kinds")
    func crossEntropyOfNothing() throws {
        for reduction in LossReduction.allCases {
            let options = CrossEntropyOptions(axis: 1, reduction: reduction)
            // 3·10⁹ positions of no classes: every per-position loss is an empty sum.
            let soft = try [Float]().withUnsafeBufferPointer { x in
                try crossEntropy(scores: x, shape: [3_000_000_000, 0], probabilities: x, options: options)
            }
            #expect(soft == 0, "\(reduction)")
            // No positions, five classes.
            let none = try [Double]().withUnsafeBufferPointer { x in
                try [Int32]().withUnsafeBufferPointer { t in
                    try crossEntropy(scores: x, shape: [0, 5], classIndices: t, options: options)
                }
            }
            #expect(none == 0, "\(reduction)")
        }
        // No positions but 3·10⁹ classes: no label to check, a loss of 0 (the class count is
        // not refused as too large when there is nothing to label).
        let noPositions = try [Float]().withUnsafeBufferPointer { x in
            try [Int64]().withUnsafeBufferPointer { t in
                try crossEntropy(scores: x, shape: [0, 3_000_000_000], classIndices: t)
            }
        }
        #expect(noPositions == 0)
        // Per-position losses of no classes are written as zeros.
        let result = try crossEntropy(
            try NDArray<Float>(shape: [6, 0], scalars: []),
            probabilities: try NDArray<Float>(shape: [6, 0], scalars: []),
            options: CrossEntropyOptions(axis: 1, reduction: .none), outputs: [.losses, .gradient])
        #expect(result.losses?.scalars == [Float](repeating: 0, count: 6))
        #expect(result.gradient?.shape == [6, 0])
        #expect(result.loss == 0)
    }

    @Test("class indices with no classes: ignored labels give 0, any other label is refused")
    func noClassesWithIndices() throws {
        let scores = try NDArray<Float>(shape: [4, 0], scalars: [])
        let ignored = try NDArray<Int64>(shape: [4], scalars: [-100, -100, -100, -100])
        let options = CrossEntropyOptions(axis: 1, reduction: .none, ignoreIndex: -100)
        let result = try crossEntropy(scores, classIndices: ignored, options: options, outputs: [.losses, .gradient])
        #expect(result.loss == 0 && result.losses?.scalars == [0, 0, 0, 0])
        let bad = try NDArray<Int64>(shape: [4], scalars: [-100, 0, -100, -100])
        #expect(throws: SoftmaxError.labelOutOfRange(label: "0", position: [1], classes: 0)) {
            try crossEntropy(scores, classIndices: bad, options: options)
        }
    }
}
