import SoftmaxKernels

/// The reference GEMM, the layers' kernel of record: two loop shapes, each with a contiguous
/// innermost loop.
///
/// - `op(B) = Bᵀ` (B stored `n × k`): each `C[i, j]` is a dot product of two contiguous rows
///   (8-lane vectors, two accumulators).  When `op(A)` is also transposed its row is gathered
///   into a scratch row first.
/// - `op(B) = B` (stored `k × n`): each row of `C` accumulates `(α · op(A)[i, p]) · B[p, :]`
///   for `p` in order — an `axpy` the compiler vectorises; a zero factor adds nothing (the
///   masked rows of a ReLU gradient cost no pass over `B`).
///
/// Each element sums its `k` terms in the same order whatever the sizes, so results do not
/// depend on how callers tile a product, nor on the machine beyond its rounding.  It is the
/// layers' kernel of record (`InnerProductLayer`: a seed trains the same model bit for bit),
/// not a tuned GEMM — no cache blocking, one thread; `BlockedGEMM` is the fast built-in one.
package struct BuiltInGEMM: GEMMBackend {
    package init() {}

    package var name: String { "built-in reference" }

    package func gemm(
        m: Int, n: Int, k: Int, alpha: Float, a: MatrixOperand<Float>, b: MatrixOperand<Float>, beta: Float,
        c: UnsafeMutablePointer<Float>, cRowStride: Int
    ) {
        Self.multiply(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, cRowStride: cRowStride)
    }

    package func gemm(
        m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand<Double>, b: MatrixOperand<Double>, beta: Double,
        c: UnsafeMutablePointer<Double>, cRowStride: Int
    ) {
        Self.multiply(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, cRowStride: cRowStride)
    }

    static func multiply<S: KernelScalar>(
        m: Int, n: Int, k: Int, alpha: S, a: MatrixOperand<S>, b: MatrixOperand<S>, beta: S,
        c: UnsafeMutablePointer<S>, cRowStride: Int
    ) {
        guard m > 0, n > 0 else { return }
        /// `op(A)[i, p]`.
        @inline(__always) func elementOfA(_ i: Int, _ p: Int) -> S {
            a.transpose == .none ? a.base[i * a.rowStride + p] : a.base[p * a.rowStride + i]
        }
        if b.transpose == .transposed {
            let gathered = a.transpose == .transposed ? UnsafeMutablePointer<S>.allocate(capacity: k) : nil
            defer { gathered?.deallocate() }
            for i in 0..<m {
                let rowOfA: UnsafePointer<S>
                if let gathered {
                    for p in 0..<k { gathered[p] = a.base[p * a.rowStride + i] }
                    rowOfA = UnsafePointer(gathered)
                } else {
                    rowOfA = a.base + i * a.rowStride
                }
                let rowOfC = c + i * cRowStride
                for j in 0..<n {
                    let product = alpha * dot(rowOfA, b.base + j * b.rowStride, count: k)
                    rowOfC[j] = beta == 0 ? product : product + beta * rowOfC[j]
                }
            }
        } else {
            for i in 0..<m {
                let rowOfC = c + i * cRowStride
                if beta == 0 {
                    rowOfC.update(repeating: 0, count: n)
                } else if beta != 1 {
                    for j in 0..<n { rowOfC[j] *= beta }
                }
                for p in 0..<k {
                    let factor = alpha * elementOfA(i, p)
                    if factor == 0 { continue }
                    let rowOfB = b.base + p * b.rowStride
                    for j in 0..<n { rowOfC[j] += factor * rowOfB[j] }
                }
            }
        }
    }

    /// `Σ x[i]·y[i]` for `i < count`: two 8-lane running sums, then the tail in order.
    @inline(__always)
    static func dot<S: KernelScalar>(_ x: UnsafePointer<S>, _ y: UnsafePointer<S>, count: Int) -> S {
        let (rawX, rawY) = (UnsafeRawPointer(x), UnsafeRawPointer(y))
        let vectorBytes = MemoryLayout<SIMD8<S>>.size
        var (sum0, sum1) = (SIMD8<S>(), SIMD8<S>())
        var i = 0
        while i + 16 <= count {
            let offset = i * MemoryLayout<S>.stride
            sum0 +=
                rawX.loadUnaligned(fromByteOffset: offset, as: SIMD8<S>.self)
                * rawY.loadUnaligned(fromByteOffset: offset, as: SIMD8<S>.self)
            sum1 +=
                rawX.loadUnaligned(fromByteOffset: offset + vectorBytes, as: SIMD8<S>.self)
                * rawY.loadUnaligned(fromByteOffset: offset + vectorBytes, as: SIMD8<S>.self)
            i += 16
        }
        var sum = (sum0 + sum1).sum()
        while i < count {
            sum += x[i] * y[i]
            i += 1
        }
        return sum
    }
}
