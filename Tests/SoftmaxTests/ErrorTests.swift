import SoftmaxTestSupport
import Testing

@testable import Softmax

@Suite("Bad input gives typed errors that name the value and its place")
struct ErrorTests {
    let scores = try! NDArray(shape: [2, 3], scalars: [Float](repeating: 0, count: 6))

    @Test func axisOutOfRange() {
        #expect(throws: SoftmaxError.axisOutOfRange(axis: 2, rank: 2)) { try scores.softmax(axis: 2) }
        #expect(throws: SoftmaxError.axisOutOfRange(axis: -3, rank: 2)) { try scores.logSoftmax(axis: -3) }
        #expect(throws: SoftmaxError.axisOutOfRange(axis: 5, rank: 2)) { try scores.logSumExp(axis: 5) }
        let scalar = try! NDArray(shape: [], scalars: [Float(1)])
        #expect(throws: SoftmaxError.axisOutOfRange(axis: -1, rank: 0)) { try scalar.softmax() }
        #expect(SoftmaxError.axisOutOfRange(axis: 2, rank: 2).description.contains("axis 2"))
    }

    @Test func invalidShapes() {
        #expect(throws: SoftmaxError.self) { try NDArray(shape: [2, -1], scalars: [Float]()) }
        #expect(throws: SoftmaxError.self) { try NDArray<Float>(repeating: 0, shape: [Int.max, 3]) }
        #expect(throws: SoftmaxError.countMismatch(argument: "array", expected: 6, actual: 5)) {
            try NDArray(shape: [2, 3], scalars: [Float](repeating: 0, count: 5))
        }
        // Zero-sized dimensions are valid and give empty results, even next to huge ones.
        #expect(throws: Never.self) { _ = try NDArray<Float>(repeating: 0, shape: [0, 5]).softmax() }
        #expect(throws: Never.self) { _ = try Layout(shape: [Int.max / 2, 0, 2], axis: 1) }
        // ... but not when the position count (outer · inner) would overflow.
        #expect(throws: SoftmaxError.self) { _ = try Layout(shape: [Int.max, 0, Int.max], axis: 1) }
    }

    @Test func bufferSizes() {
        var out = [Float](repeating: 0, count: 5)
        let input = [Float](repeating: 0, count: 6)
        #expect(throws: SoftmaxError.countMismatch(argument: "output", expected: 6, actual: 5)) {
            try input.withUnsafeBufferPointer { x in
                try out.withUnsafeMutableBufferPointer { try softmax(x, shape: [2, 3], axis: 1, into: $0) }
            }
        }
        #expect(throws: SoftmaxError.countMismatch(argument: "output", expected: 2, actual: 5)) {
            try input.withUnsafeBufferPointer { x in
                try out.withUnsafeMutableBufferPointer { try logSumExp(x, shape: [2, 3], axis: 1, into: $0) }
            }
        }
    }

    @Test func labelOutOfRangeNamesLabelAndPosition() throws {
        let x = try NDArray(shape: [2, 3, 2], scalars: [Float](repeating: 0, count: 12))
        let t = try NDArray(shape: [2, 2], scalars: [0, 1, 2, 7] as [Int64])
        let error = SoftmaxError.labelOutOfRange(label: "7", position: [1, 1], classes: 3)
        #expect(throws: error) { try crossEntropy(x, classIndices: t) }
        #expect(error.description.contains("label 7") && error.description.contains("(1, 1)"))
        let negative = try NDArray(shape: [2, 2], scalars: [0, -1, 2, 1] as [Int32])
        #expect(throws: SoftmaxError.labelOutOfRange(label: "-1", position: [0, 1], classes: 3)) {
            try crossEntropy(x, classIndices: negative)
        }
        // The same label is fine once it is the ignore index.
        #expect(throws: Never.self) { try crossEntropy(x, classIndices: negative, options: .init(ignoreIndex: -1)) }
    }

    @Test func fractionalAndNonFiniteFloatLabels() throws {
        let x = try NDArray(shape: [3, 4], scalars: [Float](repeating: 0, count: 12))
        #expect(throws: SoftmaxError.labelNotWhole(value: 1.5, position: [1])) {
            try crossEntropy(x, classIndices: NDArray(shape: [3], scalars: [0, 1.5, 2] as [Float]))
        }
        #expect(throws: SoftmaxError.self) {
            try crossEntropy(x, classIndices: NDArray(shape: [3], scalars: [0, .nan, 2] as [Double]))
        }
        #expect(throws: SoftmaxError.self) {
            try crossEntropy(x, classIndices: NDArray(shape: [3], scalars: [0, 1, .infinity] as [Double]))
        }
    }

    @Test func targetShapes() throws {
        let x = try NDArray(shape: [2, 3, 4], scalars: [Float](repeating: 0, count: 24))
        #expect(throws: SoftmaxError.shapeMismatch(argument: "class-index targets", expected: [2, 4], actual: [4, 2])) {
            try crossEntropy(x, classIndices: NDArray(shape: [4, 2], scalars: [Int](repeating: 0, count: 8)))
        }
        #expect(
            throws: SoftmaxError.shapeMismatch(
                argument: "probability targets", expected: [2, 3, 4], actual: [2, 4, 3])
        ) {
            try crossEntropy(x, probabilities: NDArray(shape: [2, 4, 3], scalars: [Float](repeating: 0, count: 24)))
        }
        // Buffer API: wrong target count.
        #expect(throws: SoftmaxError.countMismatch(argument: "targets", expected: 8, actual: 7)) {
            try x.scalars.withUnsafeBufferPointer { s in
                try [Int](repeating: 0, count: 7).withUnsafeBufferPointer {
                    try crossEntropy(scores: s, shape: [2, 3, 4], classIndices: $0)
                }
            }
        }
    }

    @Test func invalidOptions() throws {
        let x = try NDArray(shape: [2, 3], scalars: [Float](repeating: 0, count: 6))
        let t = try NDArray(shape: [2], scalars: [0, 1])
        #expect(throws: SoftmaxError.self) { try crossEntropy(x, classIndices: t, options: .init(labelSmoothing: 1.5)) }
        #expect(throws: SoftmaxError.self) {
            try crossEntropy(x, classIndices: t, options: .init(labelSmoothing: -0.1))
        }
        #expect(throws: SoftmaxError.self) {
            try crossEntropy(x, classIndices: t, options: .init(labelSmoothing: .nan))
        }
        #expect(throws: SoftmaxError.self) {
            try crossEntropy(x, classIndices: t, options: .init(lossWeight: .infinity))
        }
        #expect(throws: SoftmaxError.self) {
            try crossEntropy(x, classIndices: t, options: .init(classWeights: [1, 2]))
        }
        #expect(throws: SoftmaxError.self) {
            try crossEntropy(x, classIndices: t, options: .init(classWeights: [1, .nan, 2]))
        }
        #expect(throws: SoftmaxError.axisOutOfRange(axis: 2, rank: 2)) {
            try crossEntropy(x, classIndices: t, options: .init(axis: 2))
        }
        // Finite in Double, not in Float (the fuzzer found NaN gradients from these).
        #expect(
            throws: SoftmaxError.invalidOption(
                name: "loss weight", value: "1e+300", reason: "it is not finite in float32")
        ) { try crossEntropy(x, classIndices: t, options: .init(lossWeight: 1e300)) }
        #expect(throws: SoftmaxError.self) {
            try crossEntropy(x, classIndices: t, options: .init(classWeights: [1, -1e200, 2]))
        }
        let x64 = try NDArray(shape: [2, 3], scalars: [Double](repeating: 0, count: 6))
        let big = try crossEntropy(x64, classIndices: t, options: .init(lossWeight: 1e300))
        #expect(big.gradient!.scalars.allSatisfy { $0.isFinite })
        let message = SoftmaxError.invalidOption(name: "label smoothing", value: "1.5", reason: "it must be in [0, 1]")
            .description
        #expect(message.contains("1.5"))
    }

    @Test func concurrentCallsFromManyTasks() async throws {
        var rng = SeededGenerator(seed: 99)
        let shape = [32, 2000]
        let x = try NDArray(shape: shape, scalars: rng.gaussians(64_000).map { Float($0) })
        let t = try NDArray(shape: [32], scalars: (0..<32).map { _ in Int.random(in: 0..<2000, using: &rng) })
        let want = try crossEntropy(x, classIndices: t)
        try await withThrowingTaskGroup(of: Double.self) { group in
            for _ in 0..<16 { group.addTask { try crossEntropy(x, classIndices: t).loss } }
            for try await loss in group { #expect(loss == want.loss) }
        }
    }
}
