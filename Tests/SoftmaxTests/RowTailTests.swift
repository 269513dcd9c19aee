import Foundation
import Softmax
import SoftmaxTestSupport
import Testing

/// Rows whose length is not a multiple of the vector width, with lanes whose maximum is far
/// below 0: the lanes past the row's end must not overflow the exponential (the fuzzer found
/// rows of 0 and −1e20 that came out all NaN).
@Suite("Row tails")
struct RowTailTests {
    @Test(arguments: SoftmaxISA.supported)
    func veryNegativeLanesInAPartialVector(isa: SoftmaxISA) throws {
        for length in 2...70 {
            for low in [-1e20, -1e3, -100.0, -89.0] {
                let x = (0..<length).map { Float($0 % 2 == 0 ? 0 : low) }
                // float64 reference: exp(0) = 1 for the zeros, exp(low) (≈ 0) for the others.
                let zeros = Double((length + 1) / 2)
                let others = Double(length / 2)
                let sum = zeros + others * Foundation.exp(low)
                try SoftmaxISA.withActive(isa) {
                    var y = [Float](repeating: .nan, count: length)
                    var ly = [Float](repeating: .nan, count: length)
                    try x.withUnsafeBufferPointer { input in
                        try y.withUnsafeMutableBufferPointer { try softmax(input, shape: [length], axis: 0, into: $0) }
                        try ly.withUnsafeMutableBufferPointer {
                            try logSoftmax(input, shape: [length], axis: 0, into: $0)
                        }
                    }
                    for i in 0..<length {
                        let p = (i % 2 == 0 ? 1 : Foundation.exp(low)) / sum
                        #expect(
                            abs(Double(y[i]) - p) <= 1e-6 + 2e-5 * p,
                            "\(isa) length \(length) low \(low) at \(i): \(y[i])")
                        let lp = (i % 2 == 0 ? 0 : low) - Foundation.log(sum)
                        #expect(
                            abs(Double(ly[i]) - lp) <= 1e-6 + 2e-5 * abs(lp),
                            "\(isa) length \(length) low \(low) at \(i): \(ly[i])")
                    }
                }
            }
        }
    }

    /// A row's partial last vector is computed as the full vector ending at the row's end,
    /// overlapping the previous one: the overlapped scores must count once in the sum, and
    /// in place (`y` is `x`) the overlap must be read before it is overwritten.  Lengths cover
    /// one block and several (rows over 2048 scores), with and without a partial vector.
    @Test(arguments: SoftmaxISA.supported)
    func overlappingLastVector(isa: SoftmaxISA) throws {
        for length in [33, 47, 64, 1000, 2047, 2049, 4111, 40_007] {
            var rng = SeededGenerator(seed: UInt64(length))
            let x = rng.gaussians(3 * length, std: 5).map { Float($0) }
            let xd = x.map(Double.init)
            let shape = [3, length]
            try SoftmaxISA.withActive(isa) {
                for logarithmic in [false, true] {
                    let want = logarithmic ? Reference.logSoftmax(xd, shape, 1) : Reference.softmax(xd, shape, 1)
                    var separate = [Float](repeating: .nan, count: x.count)
                    var inPlace = x
                    try x.withUnsafeBufferPointer { input in
                        try separate.withUnsafeMutableBufferPointer {
                            try logarithmic
                                ? logSoftmax(input, shape: shape, axis: 1, into: $0)
                                : softmax(input, shape: shape, axis: 1, into: $0)
                        }
                    }
                    try inPlace.withUnsafeMutableBufferPointer {
                        try logarithmic
                            ? logSoftmax(UnsafeBufferPointer($0), shape: shape, axis: 1, into: $0)
                            : softmax(UnsafeBufferPointer($0), shape: shape, axis: 1, into: $0)
                    }
                    let mismatch = firstMismatch(separate.map(Double.init), want, rel: 2e-5, abs: 1e-6)
                    #expect(
                        mismatch == nil, "\(isa) length \(length) log \(logarithmic): \(String(describing: mismatch))")
                    #expect(inPlace == separate, "\(isa) length \(length) log \(logarithmic): in place differs")
                }
            }
        }
    }

    /// Each row's maximum is taken while the previous row is being exponentiated, from its
    /// full vectors and then its partial last one.  A maximum ~200 above the rest, in the
    /// last lane of a row (or its first), must be found: a shift too small by 200 overflows
    /// the exponential.
    @Test(arguments: SoftmaxISA.supported)
    func farLargerMaximumAtEitherEnd(isa: SoftmaxISA) throws {
        for length in [10, 33, 47, 64, 1000, 2047, 2049, 4111] {
            for atEnd in [true, false] {
                var x = [Float](repeating: -100, count: 4 * length)
                for row in 0..<4 { x[row * length + (atEnd ? length - 1 : 0)] = 100 + Float(row) }
                let shape = [4, length]
                let want = Reference.softmax(x.map(Double.init), shape, 1)
                let wantLog = Reference.logSoftmax(x.map(Double.init), shape, 1)
                try SoftmaxISA.withActive(isa) {
                    var y = [Float](repeating: .nan, count: x.count)
                    var ly = [Float](repeating: .nan, count: x.count)
                    try x.withUnsafeBufferPointer { input in
                        try y.withUnsafeMutableBufferPointer { try softmax(input, shape: shape, axis: 1, into: $0) }
                        try ly.withUnsafeMutableBufferPointer { try logSoftmax(input, shape: shape, axis: 1, into: $0) }
                    }
                    let mismatch = firstMismatch(y.map(Double.init), want, rel: 2e-5, abs: 1e-6)
                    let logMismatch = firstMismatch(ly.map(Double.init), wantLog, rel: 2e-5, abs: 1e-6)
                    #expect(mismatch == nil, "\(isa) length \(length) at end \(atEnd): \(String(describing: mismatch))")
                    #expect(
                        logMismatch == nil,
                        "\(isa) length \(length) at end \(atEnd): \(String(describing: logMismatch))")
                }
            }
        }
    }
}
