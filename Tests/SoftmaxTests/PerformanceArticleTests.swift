import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

/// The code of the Performance article (Softmax.docc), run, and what it claims checked: the
/// same bits on any thread count, other instruction sets and the streaming threshold within
/// rounding, Float16 within half precision of a float64 softmax.
@Suite("Performance article")
struct PerformanceArticleTests {
    @Test func threads() throws {
        var printed: Bool?
        func print(_ same: Bool) { printed = same }
        // docs: Performance.md
        let logits = try NDArray<Float>(shape: [64, 1000], scalars: (0..<64_000).map { Float($0 % 97) / 10 })
        let everyCore = try logits.softmax()
        let oneThread = try SoftmaxThreads.withMaximum(1) { try logits.softmax() }
        print(everyCore == oneThread)  // true: the same bits
        // docs: end
        #expect(printed == true)
        #expect(
            mismatches(oneThread.scalars, Reference.softmax(logits.scalars.doubles, [64, 1000], 1), .of(Float.self))
                .isEmpty)
    }

    @Test func instructionSets() throws {
        var largest: Double?
        func print(_ values: Any...) { largest = values.last as? Double }
        // docs: Performance.md
        let scores = try NDArray<Double>(shape: [8, 300], scalars: (0..<2400).map { sin(Double($0)) * 20 })
        print(SoftmaxISA.supported.map(\.rawValue), SoftmaxISA.active)  // e.g. ["portable", "avx2", "avx512"] avx512
        let best = try scores.logSoftmax()
        let portable = try SoftmaxISA.withActive(.portable) { try scores.logSoftmax() }
        print(zip(best.scalars, portable.scalars).map { abs($0 - $1) }.max()!)  // ~1e-15
        // docs: end
        #expect(largest! <= 1e-12)
        let want = Reference.logSoftmax(scores.scalars, [8, 300], 1)
        #expect(mismatches(portable.scalars, want, .of(Double.self)).isEmpty)
        #expect(mismatches(best.scalars, want, .of(Double.self)).isEmpty)
    }

    @Test func streamingThreshold() throws {
        var largest: Float?
        func print(_ value: Float) { largest = value }
        // docs: Performance.md
        let maps = try NDArray<Float>(shape: [2, 21, 64, 64], scalars: (0..<172_032).map { Float($0 % 23) / 4 })
        let streamed = try SoftmaxMemory.withStreamingThreshold(0) { try maps.softmax(axis: 1) }
        let cached = try SoftmaxMemory.withStreamingThreshold(.max) { try maps.softmax(axis: 1) }
        print(zip(streamed.scalars, cached.scalars).map { abs($0 - $1) }.max()!)  // ~1e-7
        // docs: end
        #expect(largest! <= 1e-6)
        let want = Reference.softmax(maps.scalars.doubles, maps.shape, 1)
        #expect(mismatches(streamed.scalars, want, .of(Float.self)).isEmpty)
        #expect(mismatches(cached.scalars, want, .of(Float.self)).isEmpty)
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        @Test func float16() throws {
            var rowSum: Float?
            func print(_ first: Float16, _ sum: Float) { rowSum = sum }
            // docs: Performance.md
            let half = try NDArray<Float16>(shape: [4, 10], scalars: (0..<40).map { Float16(Float($0 % 13) / 3) })
            let probabilities = try half.softmax()
            let firstRow = probabilities.scalars[0..<10].reduce(Float(0)) { $0 + Float($1) }
            print(probabilities[0, 0], firstRow)  // sums to 1 within about 1e-3
            // docs: end
            #expect(abs(rowSum! - 1) <= 4e-3)
            let want = Reference.softmax(half.scalars.map { Double($0) }, [4, 10], 1)
            #expect(mismatches(probabilities.scalars, want, .of(Float16.self)).isEmpty)
        }
    #endif
}
