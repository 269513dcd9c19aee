import Foundation
import Softmax
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
}
