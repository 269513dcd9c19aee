import SoftmaxKernels

/// Whether a GEMM operand is used as stored or transposed (BLAS's `N`/`T`).
package enum MatrixTranspose: Sendable {
    /// `op(X) = X`.
    case none
    /// `op(X) = Xᵀ`.
    case transposed
}

/// One operand of a matrix product: row-major storage and how it enters the product.
///
/// Element `(r, c)` of the stored matrix is `base[r · rowStride + c]`; `rowStride` is BLAS's
/// leading dimension and may exceed the stored column count (a sub-matrix of a wider one).
package struct MatrixOperand<Scalar>: @unchecked Sendable {
    /// The first element.
    package var base: UnsafePointer<Scalar>
    /// Elements between the starts of consecutive stored rows.
    package var rowStride: Int
    /// Whether the product uses the matrix or its transpose.
    package var transpose: MatrixTranspose

    /// An operand; see the properties.
    @inlinable
    package init(_ base: UnsafePointer<Scalar>, rowStride: Int, transpose: MatrixTranspose = .none) {
        self.base = base
        self.rowStride = rowStride
        self.transpose = transpose
    }
}

/// What computes `C = α · op(A) · op(B) + β · C` on row-major matrices: the seam between the
/// layers and losses that need matrix products and whatever serves them (`SystemBLAS`, a BLAS
/// loaded at run time; `BlockedGEMM`, the fast built-in kernel; `BuiltInGEMM`, the layers'
/// kernel of record).
///
/// `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n` with row stride `cRowStride`.  As in
/// BLAS, `β = 0` overwrites `C` without reading it (NaN in `C` does not propagate), and `k = 0`
/// scales `C` by `β`.  Callers guarantee the sizes are non-negative and the operands cover
/// them; implementations need not check.
package protocol GEMMBackend: Sendable {
    /// A short name for reports (`built-in`, the BLAS library's name).
    var name: String { get }

    /// The `Float` product (BLAS's `sgemm`).
    func gemm(
        m: Int, n: Int, k: Int, alpha: Float, a: MatrixOperand<Float>, b: MatrixOperand<Float>, beta: Float,
        c: UnsafeMutablePointer<Float>, cRowStride: Int)

    /// The `Double` product (BLAS's `dgemm`).
    func gemm(
        m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand<Double>, b: MatrixOperand<Double>, beta: Double,
        c: UnsafeMutablePointer<Double>, cRowStride: Int)
}

/// A type `GEMM` multiplies in: `Float` or `Double`, each routed to its backend call.
package protocol GEMMScalar: KernelScalar {
    /// Calls the backend's product for this type.
    static func gemm(
        on backend: any GEMMBackend, m: Int, n: Int, k: Int, alpha: Self, a: MatrixOperand<Self>,
        b: MatrixOperand<Self>, beta: Self, c: UnsafeMutablePointer<Self>, cRowStride: Int)
}

extension Float: GEMMScalar {
    package static func gemm(
        on backend: any GEMMBackend, m: Int, n: Int, k: Int, alpha: Float, a: MatrixOperand<Float>,
        b: MatrixOperand<Float>, beta: Float, c: UnsafeMutablePointer<Float>, cRowStride: Int
    ) {
        backend.gemm(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, cRowStride: cRowStride)
    }
}

extension Double: GEMMScalar {
    package static func gemm(
        on backend: any GEMMBackend, m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand<Double>,
        b: MatrixOperand<Double>, beta: Double, c: UnsafeMutablePointer<Double>, cRowStride: Int
    ) {
        backend.gemm(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, cRowStride: cRowStride)
    }
}

/// The package's one entry point for matrix products.
package enum GEMM {
    /// The backend products run on: the innermost `withBackend` of the current task, else the
    /// one `SOFTMAX_BLAS` selects (`SoftmaxBLAS`: a system BLAS when one loads, else
    /// `BlockedGEMM`).
    package static var backend: any GEMMBackend { override ?? selection.backend }

    @TaskLocal private static var override: (any GEMMBackend)?

    /// Runs `body` with `backend` serving the products of the current task (tests compare
    /// backends side by side this way).
    package static func withBackend<R>(_ backend: any GEMMBackend, _ body: () throws -> R) rethrows -> R {
        try $override.withValue(backend, operation: body)
    }

    /// `C = α · op(A) · op(B) + β · C` on `backend` (the active one unless given).
    ///
    /// - Parameters:
    ///   - m: rows of `op(A)` and `C`.
    ///   - n: columns of `op(B)` and `C`.
    ///   - k: columns of `op(A)`, rows of `op(B)`.
    ///   - c: the result, `m` rows of `n` (row stride `cRowStride`, `n` unless given).
    /// - Complexity: O(m · n · k).
    @inlinable
    package static func multiply<S: GEMMScalar>(
        m: Int, n: Int, k: Int, alpha: S = 1, _ a: MatrixOperand<S>, _ b: MatrixOperand<S>, beta: S = 0,
        into c: UnsafeMutablePointer<S>, cRowStride: Int? = nil, backend: (any GEMMBackend)? = nil
    ) {
        S.gemm(
            on: backend ?? Self.backend, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c,
            cRowStride: cRowStride ?? n)
    }
}
