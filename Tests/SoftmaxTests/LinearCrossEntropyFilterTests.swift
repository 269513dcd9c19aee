import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

/// The linear cross-entropy's gradient filter (Cut Cross-Entropy's): against a float64
/// reference that forms the logits, zeroes the gradient in every block of 128 positions × 256
/// classes whose unscaled gradient stays below ε, and takes the products — on peaked logits
/// (a confident model, wrong on a few positions), where most blocks are skipped.
@Suite("Linear cross-entropy: gradient filtering")
struct LinearCrossEntropyFilterTests {
    static let n = 260, d = 48, v = 2000
    var n: Int { Self.n }
    var d: Int { Self.d }
    var v: Int { Self.v }

    /// Inputs and the unscaled gradient `p − onehot` of every logit, computed once.
    struct Problem {
        let hidden: [Double], weight: [Double], labels: [Int], gradient: [Double]
    }

    static let problem: Problem = {
        var generator = SeededGenerator(seed: 4242)
        let weight = generator.gaussians(v * d).map { Double(Float($0 * 0.5)) }
        let labels = (0..<n).map { _ in Int(generator.next() % UInt64(v)) }
        // Each position points along one class's weight row (a logit gap of about 18): its
        // label's, except every 97th, which points at another class (confidently wrong:
        // large gradients in two blocks of its row block).
        var hidden = [Double](repeating: 0, count: n * d)
        let noise = generator.gaussians(n * d)
        for r in 0..<n {
            let dominant = r % 97 == 5 ? (labels[r] + 1) % v : labels[r]
            for k in 0..<d { hidden[r * d + k] = Double(Float(3 * weight[dominant * d + k] + 0.01 * noise[r * d + k])) }
        }
        var gradient = [Double](repeating: 0, count: n * v)
        for r in 0..<n {
            let logits = (0..<v).map { c in (0..<d).reduce(0.0) { $0 + hidden[r * d + $1] * weight[c * d + $1] } }
            let lse = Reference.logSumExp(logits)
            for c in 0..<v { gradient[r * v + c] = Foundation.exp(logits[c] - lse) - (c == labels[r] ? 1 : 0) }
        }
        return Problem(hidden: hidden, weight: weight, labels: labels, gradient: gradient)
    }()

    var hidden: [Double] { Self.problem.hidden }
    var weight: [Double] { Self.problem.weight }
    var labels: [Int] { Self.problem.labels }

    /// The mean loss's dHidden and dWeight in float64, the unscaled gradient zeroed in every
    /// block below `epsilon` (none when `epsilon` is 0); and how many blocks were zeroed.
    func reference(epsilon: Double) -> (dHidden: [Double], dWeight: [Double], skipped: Int) {
        var g = Self.problem.gradient
        var skipped = 0
        for rowBlock in stride(from: 0, to: n, by: 128) {
            for classBlock in stride(from: 0, to: v, by: 256) {
                let rows = rowBlock..<min(rowBlock + 128, n)
                let classes = classBlock..<min(classBlock + 256, v)
                let largest = rows.flatMap { r in classes.map { abs(g[r * v + $0]) } }.max() ?? 0
                if largest < epsilon {
                    skipped += 1
                    for r in rows { for c in classes { g[r * v + c] = 0 } }
                }
            }
        }
        let products = Reference.linearBackward(
            g.map { $0 / Double(n) }, hidden: hidden, weight: weight, n: n, d: d, v: v)
        return (products.dHidden, products.dWeight, skipped)
    }

    static let exact = LinearCrossEntropyFilterTests().reference(epsilon: 0)

    func run(epsilon: Double, budget: Int = LinearCrossEntropy.defaultMemoryBudget) throws
        -> LinearCrossEntropyResult<Double>
    {
        try linearCrossEntropy(
            hidden: NDArray(shape: [n, d], scalars: hidden), weight: NDArray(shape: [v, d], scalars: weight),
            classIndices: NDArray(shape: [n], scalars: labels), outputs: .gradients, memoryBudget: budget,
            gradientFilter: epsilon)
    }

    func largestDifference(_ a: [Double]?, _ b: [Double]) -> Double {
        zip(a ?? [], b).map { abs($0 - $1) }.max() ?? .infinity
    }

    /// Chunks of every kind: all rows, 50 rows (row blocks cut by chunks), one row.
    @Test(arguments: [LinearCrossEntropy.defaultMemoryBudget, 50 * 2000 * 8, 2000 * 8])
    func filteredGradientsMatchTheBlockwiseReference(budget: Int) throws {
        let epsilon = 1e-3
        let want = reference(epsilon: epsilon)
        let exact = Self.exact
        // Not vacuous: blocks are skipped, and skipping them changes the gradients.
        #expect(want.skipped > 0)
        #expect(largestDifference(want.dWeight, exact.dWeight) > 0)
        let got = try run(epsilon: epsilon, budget: budget)
        let scale = (exact.dWeight + exact.dHidden).map(abs).max() ?? 1
        if budget == LinearCrossEntropy.defaultMemoryBudget {
            #expect(largestDifference(got.hiddenGradient?.scalars, want.dHidden) <= 1e-12 * scale)
            #expect(largestDifference(got.weightGradient?.scalars, want.dWeight) <= 1e-12 * scale)
        } else {
            // Smaller chunks cut the row blocks differently, so fewer blocks may be skipped;
            // every difference from the exact result stays within what the filter may drop.
            #expect(largestDifference(got.weightGradient?.scalars, exact.dWeight) <= 256 * 128 * epsilon / Double(n))
        }
    }

    @Test func aTinyEpsilonIsExactAndAHugeOneSkipsEverything() throws {
        let exact = Self.exact
        let scale = (exact.dWeight + exact.dHidden).map(abs).max() ?? 1
        let tiny = try run(epsilon: 1e-300)
        #expect(largestDifference(tiny.hiddenGradient?.scalars, exact.dHidden) <= 1e-12 * scale)
        #expect(largestDifference(tiny.weightGradient?.scalars, exact.dWeight) <= 1e-12 * scale)
        let huge = try run(epsilon: 1e9)
        #expect(huge.hiddenGradient?.scalars.allSatisfy { $0 == 0 } == true)
        #expect(huge.weightGradient?.scalars.allSatisfy { $0 == 0 } == true)
        // The loss is exact whatever the filter.
        #expect(abs(huge.loss - tiny.loss) <= 1e-12 * abs(tiny.loss))
    }

    @Test(arguments: [-1e-3, .nan, .infinity])
    func aBadEpsilonIsRefused(epsilon: Double) {
        #expect(throws: SoftmaxError.self) { try run(epsilon: epsilon) }
    }
}
