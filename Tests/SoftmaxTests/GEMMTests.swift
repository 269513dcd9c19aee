import Testing

@testable import Softmax

/// The GEMM seam's built-in kernels against a float64 triple loop, for every transpose pair,
/// α/β values, sub-matrix strides and sizes around the 16-element vector step.
@Suite("GEMM")
struct GEMMTests {
    /// `α · op(A) · op(B) + β · C` in float64, `β = 0` ignoring `C`.
    static func reference(
        m: Int, n: Int, k: Int, alpha: Double, a: [Double], aStride: Int, aT: Bool, b: [Double], bStride: Int,
        bT: Bool, beta: Double, c: [Double], cStride: Int
    ) -> [Double] {
        var result = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = aT ? a[p * aStride + i] : a[i * aStride + p]
                    let y = bT ? b[j * bStride + p] : b[p * bStride + j]
                    sum += x * y
                }
                result[i * cStride + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * cStride + j])
            }
        }
        return result
    }

    /// Runs one product in `S` and compares it with the reference; the tolerance is a few
    /// rounding errors of `S` per term (`k · ε · Σ|terms|`).
    func check<S: GEMMScalar>(
        _: S.Type, m: Int, n: Int, k: Int, aT: Bool, bT: Bool, alpha: Double, beta: Double,
        generator: inout SplitMix64, backend: any GEMMBackend = BuiltInGEMM()
    ) {
        // Strided operands: each stored row has 3 spare elements after it.
        let (aRows, aCols) = aT ? (k, m) : (m, k)
        let (bRows, bCols) = bT ? (n, k) : (k, n)
        let (aStride, bStride, cStride) = (aCols + 3, bCols + 3, n + 3)
        func values(_ count: Int) -> [Double] {
            (0..<count).map { _ in Double(S(2 * generator.uniform() - 1)) }
        }
        let a = values(aRows * aStride)
        let b = values(bRows * bStride)
        // NaN in C must not leak through β = 0.
        let c = beta == 0 ? [Double](repeating: .nan, count: m * cStride) : values(m * cStride)
        let want = Self.reference(
            m: m, n: n, k: k, alpha: alpha, a: a, aStride: aStride, aT: aT, b: b, bStride: bStride, bT: bT,
            beta: beta, c: c, cStride: cStride)
        let (aS, bS) = (a.map { S($0) }, b.map { S($0) })
        var cS = c.map { S($0) }
        aS.withUnsafeBufferPointer { ap in
            bS.withUnsafeBufferPointer { bp in
                cS.withUnsafeMutableBufferPointer { cp in
                    GEMM.multiply(
                        m: m, n: n, k: k, alpha: S(alpha),
                        MatrixOperand(ap.address, rowStride: aStride, transpose: aT ? .transposed : .none),
                        MatrixOperand(bp.address, rowStride: bStride, transpose: bT ? .transposed : .none),
                        beta: S(beta), into: cp.address, cRowStride: cStride, backend: backend)
                }
            }
        }
        let epsilon = Double(S.ulpOfOne)
        for i in 0..<m {
            for j in 0..<n {
                let index = i * cStride + j
                let got = Double(cS[index])
                let tolerance = 2 * Double(k + 2) * epsilon * (Swift.abs(alpha) * Double(k) + Swift.abs(beta) * 1)
                #expect(
                    Swift.abs(got - want[index]) <= tolerance,
                    "\(backend.name) \(S.self) m \(m) n \(n) k \(k) aT \(aT) bT \(bT) α \(alpha) β \(beta) at (\(i), \(j)): \(got) vs \(want[index])"
                )
            }
            // The spare elements after each row of C are never written.
            for j in n..<cStride {
                let index = i * cStride + j
                #expect(cS[index].isNaN == c[index].isNaN && (c[index].isNaN || Double(cS[index]) == c[index]))
            }
        }
    }

    /// Every transpose pair, α/β and size on `backend`, Float and Double.
    func checkAll(on backend: any GEMMBackend, transposes: (Bool, Bool)) {
        var generator = SplitMix64(seed: 15)
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (4, 9, 16), (5, 3, 17), (2, 33, 31), (7, 6, 40), (1, 4, 0), (0, 3, 2)] {
            for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (-0.5, 2.0), (0.0, 0.5)] {
                check(
                    Float.self, m: m, n: n, k: k, aT: transposes.0, bT: transposes.1, alpha: alpha, beta: beta,
                    generator: &generator, backend: backend)
                check(
                    Double.self, m: m, n: n, k: k, aT: transposes.0, bT: transposes.1, alpha: alpha, beta: beta,
                    generator: &generator, backend: backend)
            }
        }
    }

    static let transposePairs = [(false, false), (false, true), (true, false), (true, true)]

    @Test(arguments: transposePairs)
    func builtInMatchesFloat64Reference(transposes: (Bool, Bool)) {
        checkAll(on: BuiltInGEMM(), transposes: transposes)
    }

    /// The blocked built-in kernel through the same checks (`BlockedGEMMTests` has its own,
    /// tighter ones around its blocks).
    @Test(arguments: transposePairs)
    func blockedMatchesFloat64Reference(transposes: (Bool, Bool)) {
        checkAll(on: BlockedGEMM(), transposes: transposes)
    }

    /// The system BLAS this machine has (CI installs OpenBLAS), through the same checks.
    @Test(.enabled(if: SystemBLAS.firstAvailable() != nil, "no system BLAS here"), arguments: transposePairs)
    func systemBLASMatchesFloat64Reference(transposes: (Bool, Bool)) throws {
        let blas = try #require(SystemBLAS.firstAvailable())
        checkAll(on: blas, transposes: transposes)
        // One thread or all: OpenBLAS's thread count follows the caller's.
        SoftmaxThreads.withMaximum(1) { checkAll(on: blas, transposes: transposes) }
    }

    /// `SOFTMAX_BLAS`'s values.
    @Test func environmentValues() {
        #expect(SoftmaxBLAS.Request(environmentValue: nil) == .automatic)
        #expect(SoftmaxBLAS.Request(environmentValue: "") == .automatic)
        #expect(SoftmaxBLAS.Request(environmentValue: "none") == .builtIn)
        #expect(SoftmaxBLAS.Request(environmentValue: "NONE") == .builtIn)
        #expect(SoftmaxBLAS.Request(environmentValue: "/opt/x/libblas.so") == .library("/opt/x/libblas.so"))
        #expect(GEMM.select(.builtIn).backend.name == "built-in")
        #expect(GEMM.select(.builtIn).error == nil)
    }

    /// A library that does not load, or loads without CBLAS, falls back to the built-in kernel
    /// with an error that names `SOFTMAX_BLAS`, the value and the reason.
    @Test func badLibrariesAreRefused() {
        let missing = GEMM.select(.library("/nonexistent/libblas.so.3"))
        #expect(missing.backend.name == "built-in")
        let missingText = missing.error.map { "\($0)" } ?? ""
        #expect(
            missingText.contains("SOFTMAX_BLAS") && missingText.contains("/nonexistent/libblas.so.3"), "\(missingText)")
        #expect(missingText.contains("cannot load"), "\(missingText)")
        // The C math library loads everywhere and has no cblas_sgemm.
        #if canImport(Darwin)
            let notBLAS = "libSystem.B.dylib"
        #else
            let notBLAS = "libm.so.6"
        #endif
        let wrong = GEMM.select(.library(notBLAS))
        #expect(wrong.backend.name == "built-in")
        #expect(
            wrong.error.map { "\($0)" }?.contains("not a CBLAS library") == true, "\(String(describing: wrong.error))")
    }

    /// The automatic choice is a system BLAS exactly when one loads, and `SoftmaxBLAS.active`
    /// names it.
    @Test func automaticChoice() {
        let chosen = GEMM.select(.automatic).backend
        if let blas = SystemBLAS.firstAvailable() {
            #expect(chosen.name == blas.name)
            // The file the symbols came from (resolved through /proc/self/maps where it can be),
            // or the name it was loaded by.
            #expect(!blas.path.isEmpty && blas.name.contains(blas.path), "\(blas.name)")
        } else {
            #expect(chosen.name == "built-in")
        }
        #expect(GEMM.withBackend(BlockedGEMM()) { SoftmaxBLAS.active } == "built-in")
        #expect(GEMM.withBackend(BuiltInGEMM()) { SoftmaxBLAS.active } == "built-in reference")
    }
}
