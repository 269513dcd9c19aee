import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

/// The strided training call with streaming stores (forced on with a threshold of 0 bytes;
/// by default outputs of 4 MiB or more): the two-pass kernel's pass 2 writes the gradient with
/// streaming stores from the first aligned address, lanes of one vector before it.  Checked
/// against float64, at every alignment the head can meet, against the general kernel (asked
/// for the probabilities too, so it keeps its exponentials in the output buffers) bit for bit,
/// loss included, and in place.
@Suite("Cross-entropy streaming gradient")
struct CrossEntropyStreamingTests {
    static let shape = [2, 5, 4100]

    static let cases: [CrossEntropyOptions] = [
        CrossEntropyOptions(axis: 1),
        CrossEntropyOptions(
            axis: 1, reduction: .sum, ignoreIndex: 3, classWeights: [1, 2, 0.5, 1, 0], lossWeight: 0.5),
        // The general kernel both times, with pass 1's shifted sums.
        CrossEntropyOptions(axis: 1, classWeights: [1, 2, 0.5, 1, 3], labelSmoothing: 0.1),
    ]

    @Test(arguments: SoftmaxISA.supported, cases)
    func agreesEverywhere(isa: SoftmaxISA, options: CrossEntropyOptions) throws {
        let shape = Self.shape
        let count = shape.reduce(1, *)
        let positions = count / shape[1]
        var rng = SeededGenerator(seed: 77)
        var x = rng.gaussians(count, std: 3).map { Float($0) }
        // Scores far above the first two classes' (the two-pass kernel's shift) at positions 9
        // and 10, near it at 12: both ways of pass 1 in one vector.
        let inner = shape[2]
        (x[3 * inner + 9], x[4 * inner + 10], x[2 * inner + 12]) = (100, 70, 20)
        var labels = (0..<positions).map { _ in Int32.random(in: 0..<5, using: &rng) }
        if let ignore = options.ignoreIndex {
            for p in stride(from: 0, to: positions, by: 7) { labels[p] = Int32(ignore) }
        }
        let want = Reference.crossEntropy(x.map(Double.init), shape, .indices(labels.map(Int.init)), options)

        try SoftmaxMemory.withStreamingThreshold(0) {
            try SoftmaxISA.withActive(isa) {
                // The general kernel, as reference bits.
                var general = [Float](repeating: .nan, count: count)
                var probabilities = [Float](repeating: .nan, count: count)
                let generalLoss = try x.withUnsafeBufferPointer { scores in
                    try labels.withUnsafeBufferPointer { t in
                        try general.withUnsafeMutableBufferPointer { g in
                            try probabilities.withUnsafeMutableBufferPointer { p in
                                try crossEntropy(
                                    scores: scores, shape: shape, classIndices: t, options: options,
                                    outputs: CrossEntropyOutputs(gradient: g, probabilities: p))
                            }
                        }
                    }
                }
                #expect(close(generalLoss, want.loss, rel: 2e-5, abs: 1e-6))
                #expect(firstMismatch(general.map(Double.init), want.gradient, rel: 2e-5, abs: 1e-6) == nil)

                // The gradient alone, into buffers starting 0…16 scalars past a 64-byte boundary.
                let storage = UnsafeMutableRawPointer.allocate(byteCount: (count + 16) * 4, alignment: 64)
                defer { storage.deallocate() }
                for offset in [0, 1, 5, 15, 16] {
                    let buffer = UnsafeMutableBufferPointer(
                        start: storage.bindMemory(to: Float.self, capacity: count + 16) + offset, count: count)
                    buffer.initialize(repeating: .nan)
                    let loss = try x.withUnsafeBufferPointer { scores in
                        try labels.withUnsafeBufferPointer { t in
                            try crossEntropy(
                                scores: scores, shape: shape, classIndices: t, options: options,
                                outputs: CrossEntropyOutputs(gradient: buffer))
                        }
                    }
                    #expect(loss == generalLoss, "\(isa) offset \(offset)")
                    // Not in #expect: it would print 100 k values.
                    let same = zip(buffer, general).allSatisfy { $0.bitPattern == $1.bitPattern }
                    #expect(same, "\(isa) offset \(offset): differs from the general kernel")
                }

                // In place over the scores.
                var inPlace = x
                _ = try inPlace.withUnsafeMutableBufferPointer { buffer in
                    try labels.withUnsafeBufferPointer { t in
                        try crossEntropy(
                            scores: UnsafeBufferPointer(buffer), shape: shape, classIndices: t, options: options,
                            outputs: CrossEntropyOutputs(gradient: buffer))
                    }
                }
                let same = zip(inPlace, general).allSatisfy { $0.bitPattern == $1.bitPattern }
                #expect(same, "\(isa) in place")
            }
        }
    }

    /// No classes: every position must be ignored, the loss is 0 and nothing is read, streamed
    /// or not (the training kernel's target gather once read a class-0 score that does not
    /// exist; the fuzzer found it).
    @Test(arguments: SoftmaxISA.supported, [0, Int.max])
    func noClasses(isa: SoftmaxISA, threshold: Int) throws {
        for shape in [[5, 0], [2, 0, 7], [1, 0, 40]] {
            let positions = shape[0] * (shape.count > 2 ? shape[2] : 1)
            let labels = [Int32](repeating: -100, count: positions)
            var gradient = [Float]()
            let loss = try SoftmaxISA.withActive(isa) {
                try SoftmaxMemory.withStreamingThreshold(threshold) {
                    try [Float]().withUnsafeBufferPointer { scores in
                        try labels.withUnsafeBufferPointer { t in
                            try gradient.withUnsafeMutableBufferPointer { g in
                                try crossEntropy(
                                    scores: scores, shape: shape, classIndices: t,
                                    options: CrossEntropyOptions(ignoreIndex: -100, labelSmoothing: 0.1),
                                    outputs: CrossEntropyOutputs(gradient: g))
                            }
                        }
                    }
                }
            }
            #expect(loss == 0, "\(isa) \(shape)")
            var probabilities = [Float]()
            try SoftmaxISA.withActive(isa) {
                try SoftmaxMemory.withStreamingThreshold(threshold) {
                    try [Float]().withUnsafeBufferPointer { x in
                        try probabilities.withUnsafeMutableBufferPointer {
                            try softmax(x, shape: shape, axis: 1, into: $0)
                        }
                    }
                }
            }
        }
    }

    /// A loss weight of 0 zeroes the gradient even where scores are NaN.
    @Test func zeroLossWeightGivesZeroGradient() throws {
        let shape = Self.shape
        let count = shape.reduce(1, *)
        var x = [Float](repeating: 0.5, count: count)
        for i in stride(from: 0, to: count, by: 1001) { x[i] = .nan }
        let labels = [Int32](repeating: 2, count: count / shape[1])
        var gradient = [Float](repeating: .nan, count: count)
        _ = try SoftmaxMemory.withStreamingThreshold(0) {
            try x.withUnsafeBufferPointer { scores in
                try labels.withUnsafeBufferPointer { t in
                    try gradient.withUnsafeMutableBufferPointer { g in
                        try crossEntropy(
                            scores: scores, shape: shape, classIndices: t,
                            options: CrossEntropyOptions(axis: 1, lossWeight: 0),
                            outputs: CrossEntropyOutputs(gradient: g))
                    }
                }
            }
        }
        #expect(gradient.allSatisfy { $0 == 0 })
    }
}

/// The strided softmax with streaming stores (forced with a threshold of 0 bytes) — the
/// two-pass kernel — agrees with the float64 reference, special values included, as the
/// ordinary kernel does, and gives the same bits at every alignment of the output and in place.
@Suite("Softmax streaming output")
struct SoftmaxStreamingTests {
    /// 7000 positions (several panels plus a partial vector) of 40 classes, with special
    /// values, and the float64 reference softmax along axis 1.
    static func problem() -> (shape: [Int], x: [Double], want: [Double]) {
        let shape = [2, 40, 7000]
        let (count, inner) = (shape.reduce(1, *), shape[2])
        var rng = SeededGenerator(seed: 78)
        var x = rng.gaussians(count, std: 3).map { Double(Float($0)) }
        x[5] = -.infinity
        // Position 11 fully masked, a +infinity at position 17, a NaN at position 23, and
        // at position 29 a maximum 200 above the rest in the last class (beyond the two-pass
        // kernel's shift: computed again with the maximum as the shift).
        for c in 0..<40 { x[c * inner + 11] = -.infinity }
        x[3 * inner + 17] = .infinity
        x[7 * inner + 23] = .nan
        x[39 * inner + 29] = 200
        // The two-pass kernel's shift is the larger of the first two classes' scores: at
        // position 31 the first class is masked, at 37 the first two; at 41 the maximum is
        // about 70 above the shift (lanes computed again with the maximum as the shift), at 43
        // 60 above it (kept: exponentials up to e^60).  Lanes of one vector take both ways.
        x[31] = -.infinity
        (x[37], x[inner + 37]) = (-.infinity, -.infinity)
        (x[41], x[inner + 41], x[20 * inner + 41]) = (-5, -5, 66)
        (x[43], x[inner + 43], x[20 * inner + 43]) = (0, 0, 60)
        var want = Reference.softmax(x, shape, 1)
        // SPEC's formula: exp(x − m) with m = +infinity is NaN for the whole position, as
        // NaN in is NaN out.
        for c in 0..<40 { (want[c * inner + 17], want[c * inner + 23]) = (.nan, .nan) }
        return (shape, x, want)
    }

    @Test(arguments: SoftmaxISA.supported)
    func agreesWithCachedStores(isa: SoftmaxISA) throws {
        let (shape, scores, want) = Self.problem()
        let count = scores.count
        let x = scores.map { Float($0) }
        try SoftmaxISA.withActive(isa) {
            var cached = [Float](repeating: .nan, count: count)
            try x.withUnsafeBufferPointer { input in
                try cached.withUnsafeMutableBufferPointer { try softmax(input, shape: shape, axis: 1, into: $0) }
            }
            #expect(firstMismatch(cached.map(Double.init), want, rel: 2e-5, abs: 1e-6) == nil, "\(isa) cached")
            try SoftmaxMemory.withStreamingThreshold(0) {
                let storage = UnsafeMutableRawPointer.allocate(byteCount: (count + 16) * 4, alignment: 64)
                defer { storage.deallocate() }
                var first: [Float] = []
                for offset in [0, 3, 16] {
                    let output = UnsafeMutableBufferPointer(
                        start: storage.bindMemory(to: Float.self, capacity: count + 16) + offset, count: count)
                    output.initialize(repeating: .nan)
                    try x.withUnsafeBufferPointer { try softmax($0, shape: shape, axis: 1, into: output) }
                    if first.isEmpty {
                        first = Array(output)
                        let streamed = first.map(Double.init)
                        #expect(firstMismatch(streamed, want, rel: 2e-5, abs: 1e-6) == nil, "\(isa) streamed")
                    } else {
                        // Not in #expect: it would print 560 k values.
                        let same = output.elementsEqual(first, by: { $0.bitPattern == $1.bitPattern })
                        #expect(same, "\(isa) offset \(offset)")
                    }
                }
                var inPlace = x
                try inPlace.withUnsafeMutableBufferPointer {
                    try softmax(UnsafeBufferPointer($0), shape: shape, axis: 1, into: $0)
                }
                let same = inPlace.elementsEqual(first, by: { $0.bitPattern == $1.bitPattern })
                #expect(same, "\(isa) in place")
                // One thread: other panels and vector groupings, the same bits.
                var serial = [Float](repeating: .nan, count: count)
                try SoftmaxThreads.withMaximum(1) {
                    try x.withUnsafeBufferPointer { input in
                        try serial.withUnsafeMutableBufferPointer {
                            try softmax(input, shape: shape, axis: 1, into: $0)
                        }
                    }
                }
                let sameSerial = serial.elementsEqual(first, by: { $0.bitPattern == $1.bitPattern })
                #expect(sameSerial, "\(isa) one thread")
            }
        }
    }

    /// Pass 1 takes the first two classes together and the rest two at a time: every class
    /// count from 1 to 6 (an odd one leaves a class alone), with positions that end in a
    /// partial vector, against float64; a NaN and a far maximum at some positions.
    @Test(arguments: SoftmaxISA.supported)
    func everyClassCountAgrees(isa: SoftmaxISA) throws {
        var rng = SeededGenerator(seed: 79)
        for classes in 1...6 {
            let shape = [3, classes, 1029]
            let inner = shape[2]
            var x = rng.gaussians(shape.reduce(1, *), std: 4).map { Double(Float($0)) }
            // Outer index 0: the last class 150 at position 7; outer index 1: a NaN in the
            // first class at position 8.
            let second = classes * inner
            x[(classes - 1) * inner + 7] = 150
            x[second + 8] = .nan
            var want = Reference.softmax(x, shape, 1)
            for c in 0..<classes { want[second + c * inner + 8] = .nan }
            let input = x.map { Float($0) }
            var streamed = [Float](repeating: .nan, count: x.count)
            try SoftmaxISA.withActive(isa) {
                try SoftmaxMemory.withStreamingThreshold(0) {
                    try input.withUnsafeBufferPointer { input in
                        try streamed.withUnsafeMutableBufferPointer {
                            try softmax(input, shape: shape, axis: 1, into: $0)
                        }
                    }
                }
            }
            let mismatch = firstMismatch(streamed.map(Double.init), want, rel: 2e-5, abs: 1e-6)
            #expect(mismatch == nil, "\(isa), \(classes) classes")
        }
    }

    /// The float64 kernels take the same two passes (the shift within 64 of the maximum too).
    @Test(arguments: SoftmaxISA.supported)
    func float64AgreesWithReference(isa: SoftmaxISA) throws {
        let (shape, x, want) = Self.problem()
        var streamed = [Double](repeating: .nan, count: x.count)
        try SoftmaxISA.withActive(isa) {
            try SoftmaxMemory.withStreamingThreshold(0) {
                try x.withUnsafeBufferPointer { input in
                    try streamed.withUnsafeMutableBufferPointer { try softmax(input, shape: shape, axis: 1, into: $0) }
                }
            }
        }
        #expect(firstMismatch(streamed, want, rel: 1e-13, abs: 1e-300) == nil, "\(isa)")
    }
}
