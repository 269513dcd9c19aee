import SoftmaxKernels
import Testing

@testable import Softmax

/// The blocked built-in GEMM (`BlockedGEMM`) against a float64 triple loop: every transpose
/// pair, α/β (β = 0 over NaN), strided sub-matrices, sizes of 0 and 1 and ragged edges around
/// the micro-tile (6 rows, 2 vectors of columns), the depth block (256), the row block (144)
/// and the column panel (1024 floats, 512 doubles); Float and Double, every instruction set,
/// one thread or all.
@Suite("Blocked GEMM")
struct BlockedGEMMTests {
    /// One product's sizes and factors.
    struct Case: CustomStringConvertible {
        var m: Int, n: Int, k: Int
        var aT = false, bT = false
        var alpha = 1.0, beta = 0.0
        var description: String { "m \(m) n \(n) k \(k) aT \(aT) bT \(bT) α \(alpha) β \(beta)" }
    }

    /// Runs `c` in `S` on `BlockedGEMM` and returns the worst error as a multiple of its
    /// tolerance (≤ 1 passes) — `4·√(k+2)·ε·(|α|·Σ_p |op(A)[i,p]·op(B)[p,j]| + 2·|β·C[i,j]|)`,
    /// a few roundings per term for random data, so one term lost or counted twice fails —
    /// with whether the spare elements after each row of `C` are untouched and, when
    /// `expected` is given, whether the result has exactly those bits.
    static func run<S: GEMMScalar & KernelTableScalar>(
        _: S.Type, _ c: Case, seed: UInt64, expected: [S]? = nil
    ) -> (worst: Double, where: String, sparesKept: Bool, result: [S]) {
        var generator = SplitMix64(seed: seed)
        let (aRows, aCols) = c.aT ? (c.k, c.m) : (c.m, c.k)
        let (bRows, bCols) = c.bT ? (c.n, c.k) : (c.k, c.n)
        // Sub-matrices of wider ones: spare elements after each stored row.
        let (aStride, bStride, cStride) = (aCols + 3, bCols + 5, c.n + 2)
        func values(_ count: Int) -> [Double] { (0..<count).map { _ in Double(S(2 * generator.uniform() - 1)) } }
        let a = values(aRows * aStride)
        let b = values(bRows * bStride)
        // NaN in C must not leak through β = 0.
        let cInitial = c.beta == 0 ? [Double](repeating: .nan, count: c.m * cStride) : values(c.m * cStride)
        let want = GEMMTests.reference(
            m: c.m, n: c.n, k: c.k, alpha: c.alpha, a: a, aStride: aStride, aT: c.aT, b: b, bStride: bStride, bT: c.bT,
            beta: c.beta, c: cInitial, cStride: cStride)
        let (aS, bS) = (a.map { S($0) }, b.map { S($0) })
        var cS = cInitial.map { S($0) }
        aS.withUnsafeBufferPointer { ap in
            bS.withUnsafeBufferPointer { bp in
                cS.withUnsafeMutableBufferPointer { cp in
                    GEMM.multiply(
                        m: c.m, n: c.n, k: c.k, alpha: S(c.alpha),
                        MatrixOperand(ap.address, rowStride: aStride, transpose: c.aT ? .transposed : .none),
                        MatrixOperand(bp.address, rowStride: bStride, transpose: c.bT ? .transposed : .none),
                        beta: S(c.beta), into: cp.address, cRowStride: cStride, backend: BlockedGEMM())
                }
            }
        }
        let epsilon = Double(S.ulpOfOne)
        var (worst, location, sparesKept) = (0.0, "", true)
        for i in 0..<c.m {
            for j in 0..<c.n {
                var magnitude = 0.0
                for p in 0..<c.k {
                    let x = c.aT ? a[p * aStride + i] : a[i * aStride + p]
                    let y = c.bT ? b[j * bStride + p] : b[p * bStride + j]
                    magnitude += Swift.abs(x * y)
                }
                let index = i * cStride + j
                let old = c.beta == 0 ? 0 : Swift.abs(c.beta * cInitial[index])
                let tolerance =
                    4 * (Double(c.k) + 2).squareRoot() * epsilon * (Swift.abs(c.alpha) * magnitude + 2 * old)
                let error = Swift.abs(Double(cS[index]) - want[index])
                // NaN (or a wrong value where the tolerance is 0) counts as infinitely bad.
                let ratio = error.isNaN ? .infinity : (error == 0 ? 0 : error / tolerance)
                if ratio > worst {
                    worst = ratio
                    location = "(\(i), \(j)): \(cS[index]) vs \(want[index])"
                }
            }
            for j in c.n..<cStride {
                let index = i * cStride + j
                let kept = cInitial[index].isNaN ? cS[index].isNaN : Double(cS[index]) == cInitial[index]
                sparesKept = sparesKept && kept
            }
        }
        if let expected, expected.count == cS.count {
            let same = expected.withUnsafeBytes { x in cS.withUnsafeBytes { y in x.elementsEqual(y) } }
            if !same { (worst, location) = (.infinity, "bits differ from the other run") }
        }
        return (worst, location, sparesKept, cS)
    }

    /// Checks `c` in Float and Double.
    static func check(_ c: Case, seed: UInt64, _ context: String) {
        let float = run(Float.self, c, seed: seed)
        #expect(float.worst <= 1 && float.sparesKept, "\(context) Float \(c): \(float.worst)× at \(float.where)")
        let double = run(Double.self, c, seed: seed)
        #expect(double.worst <= 1 && double.sparesKept, "\(context) Double \(c): \(double.worst)× at \(double.where)")
    }

    static let transposePairs = [(false, false), (false, true), (true, false), (true, true)]
    static let factors = [(1.0, 0.0), (1.0, 1.0), (-0.5, 2.0), (0.75, -1.0)]

    /// Small and ragged sizes (0, 1, around the micro-tile of every vector width) with every
    /// α/β, on every instruction set.
    @Test(arguments: SoftmaxISA.supported)
    func raggedSizes(isa: SoftmaxISA) {
        SoftmaxISA.withActive(isa) {
            var seed: UInt64 = 1
            for (aT, bT) in Self.transposePairs {
                for (m, n, k) in [
                    (1, 1, 1), (0, 5, 3), (4, 0, 3), (1, 1, 2), (5, 7, 1), (6, 8, 3), (7, 9, 5), (6, 16, 2),
                    (13, 17, 4),
                    (2, 31, 3), (12, 32, 2), (11, 33, 6), (1, 65, 7), (19, 3, 9),
                ] {
                    for (alpha, beta) in Self.factors {
                        Self.check(
                            Case(m: m, n: n, k: k, aT: aT, bT: bT, alpha: alpha, beta: beta), seed: seed, "\(isa)")
                        seed += 1
                    }
                }
            }
        }
    }

    /// The depth around its block of 256 terms (β applied once, the later blocks added), the
    /// rows around their block of 144, the columns around their panel.
    @Test(arguments: SoftmaxISA.supported)
    func blockEdges(isa: SoftmaxISA) {
        SoftmaxISA.withActive(isa) {
            var seed: UInt64 = 1000
            for (aT, bT) in Self.transposePairs {
                for (m, n, k) in [
                    (7, 9, 255), (5, 10, 256), (8, 7, 257), (3, 35, 513), (143, 5, 3), (145, 9, 2), (289, 3, 1),
                    (2, 511, 3), (3, 513, 2), (1, 1025, 2), (2, 1023, 1),
                ] {
                    for (alpha, beta) in [(1.0, 0.0), (-0.5, 2.0)] {
                        Self.check(
                            Case(m: m, n: n, k: k, aT: aT, bT: bT, alpha: alpha, beta: beta), seed: seed, "\(isa)")
                        seed += 1
                    }
                }
            }
        }
    }

    /// `k = 0` scales C by β (β = 0 clears NaN); `α = 0` reads neither operand.
    @Test func emptyDepthAndZeroAlpha() {
        for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (2.0, -0.5), (0.0, 0.0), (0.0, 3.0)] {
            Self.check(Case(m: 7, n: 40, k: 0, alpha: alpha, beta: beta), seed: 5, "k = 0")
            Self.check(Case(m: 7, n: 40, k: 9, alpha: 0, beta: beta), seed: 6, "α = 0")
        }
    }

    /// Products big enough to be split between threads give the same bits on one thread as
    /// on all, and pass the reference on both.
    @Test(arguments: SoftmaxISA.supported)
    func sameBitsOnAnyThreadCount(isa: SoftmaxISA) {
        SoftmaxISA.withActive(isa) {
            for (index, (aT, bT)) in Self.transposePairs.enumerated() {
                // 2.9 M multiply-adds: above the threaded threshold; row groups of C (one panel).
                let c = Case(m: 151, n: 70, k: 277, aT: aT, bT: bT, alpha: 0.5, beta: index % 2 == 0 ? 0 : 1)
                let one = SoftmaxThreads.withMaximum(1) { Self.run(Float.self, c, seed: 77) }
                #expect(one.worst <= 1 && one.sparesKept, "\(isa) one thread \(c): \(one.worst)× at \(one.where)")
                let all = SoftmaxThreads.withMaximum(0) { Self.run(Float.self, c, seed: 77, expected: one.result) }
                #expect(all.worst <= 1 && all.sparesKept, "\(isa) all threads \(c): \(all.worst)× at \(all.where)")
            }
            // Several panels of columns (Double's are 512 wide).
            let wide = Case(m: 20, n: 1100, k: 100, aT: false, bT: true, alpha: 1, beta: 0)
            let one = SoftmaxThreads.withMaximum(1) { Self.run(Double.self, wide, seed: 78) }
            #expect(one.worst <= 1, "\(isa) one thread \(wide): \(one.worst)× at \(one.where)")
            let all = SoftmaxThreads.withMaximum(0) { Self.run(Double.self, wide, seed: 78, expected: one.result) }
            #expect(all.worst <= 1, "\(isa) all threads \(wide): \(all.worst)× at \(all.where)")
        }
    }

    /// Each instruction set runs its own width (so the sets above tested different code), and
    /// the blocks of C cover it exactly.
    @Test func blockingPerInstructionSet() {
        let widths: [SoftmaxISA: (Int, Int)] = [.portable: (8, 4), .avx2: (16, 8), .avx512: (32, 16)]
        for isa in SoftmaxISA.supported {
            SoftmaxISA.withActive(isa) {
                #expect(Float.kernels.gemmBlocking.microColumns == widths[isa]?.0, "\(isa)")
                #expect(Double.kernels.gemmBlocking.microColumns == widths[isa]?.1, "\(isa)")
                #expect(Float.kernels.gemmBlocking.depth == 256 && Double.kernels.gemmBlocking.depth == 256)
            }
        }
        let blocking = Float.kernels.gemmBlocking
        for (m, n, threads) in [(1, 1, 1), (512, 32000, 2), (32000, 1024, 2), (7, 5, 8), (151, 70, 2), (600, 10, 3)] {
            let blocks = BlockedGEMM.Blocks(m: m, n: n, blocking: blocking, threads: threads)
            var covered = [Int](repeating: 0, count: m * n)
            for index in 0..<blocks.count {
                let rows = blocks.rows(ofBlock: index, m: m)
                let columns = blocks.columns(ofBlock: index, n: n)
                #expect(rows.lowerBound % blocking.microRows == 0 && columns.count <= blocking.columnBlock)
                for i in rows { for j in columns { covered[i * n + j] += 1 } }
            }
            #expect(covered.allSatisfy { $0 == 1 }, "m \(m) n \(n) threads \(threads)")
            #expect(threads == 1 || blocks.count >= Swift.min(threads, (m + 5) / 6), "m \(m) n \(n)")
        }
    }

    /// Without a system BLAS (`SOFTMAX_BLAS=none`, or a library that does not load) the
    /// products run on the blocked kernel; the layers keep the reference one.
    @Test func fallbacksAreTheBlockedKernel() {
        #expect(GEMM.select(.builtIn).backend is BlockedGEMM)
        #expect(GEMM.select(.library("/nonexistent/libblas.so.3")).backend is BlockedGEMM)
        if SystemBLAS.firstAvailable() == nil { #expect(GEMM.select(.automatic).backend is BlockedGEMM) }
        #expect(BlockedGEMM().name == "built-in" && BuiltInGEMM().name != BlockedGEMM().name)
    }
}
