/// The block sizes of the blocked GEMM (`GEMMKernels`), in elements.
///
/// A micro-tile of `C` is `microRows × microColumns` (`microColumns` is two vectors); the
/// depth `depth` is the number of terms one pass of the micro-kernel sums (a packed sliver of
/// `op(B)`, `depth × microColumns`, stays in L1); `rowBlock` rows of packed `op(A)` stay in L2
/// while a panel of `columnBlock` packed columns of `op(B)` streams past them.
public struct GEMMBlocking: Sendable, Equatable {
    /// Rows of a micro-tile.
    public var microRows: Int
    /// Columns of a micro-tile (two vectors).
    public var microColumns: Int
    /// Terms summed per pass over the packed panels (`kc`).
    public var depth: Int
    /// Rows of packed `op(A)` per block, a multiple of `microRows` (`mc`).
    public var rowBlock: Int
    /// Columns of packed `op(B)` per panel, a multiple of `microColumns` (`nc`).
    public var columnBlock: Int

    /// The sizes; see the properties.
    @inlinable
    public init(microRows: Int, microColumns: Int, depth: Int, rowBlock: Int, columnBlock: Int) {
        self.microRows = microRows
        self.microColumns = microColumns
        self.depth = depth
        self.rowBlock = rowBlock
        self.columnBlock = columnBlock
    }
}

/// One product `C = α · op(A) · op(B) + β · C` on row-major matrices, as raw pointers (the
/// `Softmax` module's `MatrixOperand`s unpacked): `op(A)` is `m × k`, `op(B)` is `k × n`.
public struct GEMMProblem<Scalar>: @unchecked Sendable {
    /// The first element of stored `A`.
    public var a: UnsafePointer<Scalar>
    /// Elements between consecutive stored rows of `A`.
    public var aRowStride: Int
    /// Whether `op(A) = Aᵀ`.
    public var aTransposed: Bool
    /// The first element of stored `B`.
    public var b: UnsafePointer<Scalar>
    /// Elements between consecutive stored rows of `B`.
    public var bRowStride: Int
    /// Whether `op(B) = Bᵀ`.
    public var bTransposed: Bool
    /// The result.
    public var c: UnsafeMutablePointer<Scalar>
    /// Elements between consecutive rows of `C`.
    public var cRowStride: Int
    /// The inner dimension (at least 1 here: the driver handles `k = 0`).
    public var k: Int
    /// `α`.
    public var alpha: Scalar
    /// `β` (0: `C` is overwritten without being read).
    public var beta: Scalar

    /// A problem; see the properties.
    @inlinable
    public init(
        a: UnsafePointer<Scalar>, aRowStride: Int, aTransposed: Bool, b: UnsafePointer<Scalar>, bRowStride: Int,
        bTransposed: Bool, c: UnsafeMutablePointer<Scalar>, cRowStride: Int, k: Int, alpha: Scalar, beta: Scalar
    ) {
        self.a = a
        self.aRowStride = aRowStride
        self.aTransposed = aTransposed
        self.b = b
        self.bRowStride = bRowStride
        self.bTransposed = bTransposed
        self.c = c
        self.cRowStride = cRowStride
        self.k = k
        self.alpha = alpha
        self.beta = beta
    }
}

/// A cache-blocked GEMM in the manner of BLIS / GotoBLAS: panels of `op(A)` and `op(B)` packed
/// into contiguous scratch (slivers of `microRows` rows of `op(A)`, of `microColumns` columns
/// of `op(B)`, each in the order the micro-kernel reads them, ragged edges padded with zeros),
/// and a register-tiled micro-kernel of `6 × 2` vectors accumulating with fused multiply-adds.
///
/// Every element of `C` sums its terms in blocks of `depth` (`kc`): within a block, in order,
/// into one accumulator lane; then `C = α·acc + β·C` (`β` for the first block, 1 after).  That
/// order depends neither on where the element lies in a tile nor on how the driver splits `C`
/// between threads, so results are the same bits on any thread count (for one vector width:
/// the instruction sets differ in FMA).
public enum GEMMKernels<V: SIMD> where V.Scalar: KernelScalar {
    public typealias Scalar = V.Scalar

    /// Rows of a micro-tile: 12 accumulators, two `op(B)` vectors and a broadcast fit the 16
    /// vector registers of SSE and AVX2.
    public static var microRows: Int { 6 }

    /// The block sizes for this vector width: a packed `op(B)` sliver of 32 KiB at most for
    /// L1 (256 terms of two 512-bit vectors), 144 rows of `op(A)` for L2, 4 KiB of columns.
    @inlinable
    public static var blocking: GEMMBlocking {
        let microColumns = 2 * V.scalarCount
        let columns = Swift.max(microColumns, 4096 / MemoryLayout<Scalar>.stride / microColumns * microColumns)
        return GEMMBlocking(
            microRows: microRows, microColumns: microColumns, depth: 256, rowBlock: 24 * microRows,
            columnBlock: columns)
    }

    /// Computes the block `rows × columns` of `C` for the whole depth `k`: per block of
    /// `depth` terms, packs the block's `op(B)` panel into `packedB` (at least `depth ×
    /// columnBlock` elements; `columns.count ≤ columnBlock`), then per block of `rowBlock` rows
    /// packs `op(A)` into `packedA` (at least `rowBlock × depth`) and runs the micro-kernel
    /// over the tiles.
    @inlinable
    public static func multiplyBlock(
        _ problem: GEMMProblem<Scalar>, rows: Range<Int>, columns: Range<Int>, packedA: UnsafeMutablePointer<Scalar>,
        packedB: UnsafeMutablePointer<Scalar>
    ) {
        let blocking = Self.blocking
        let (mr, nr) = (blocking.microRows, blocking.microColumns)
        var p0 = 0
        while p0 < problem.k {
            let kc = Swift.min(blocking.depth, problem.k - p0)
            let beta = p0 == 0 ? problem.beta : 1
            packB(problem, depth: p0, count: kc, columns: columns, into: packedB)
            var i0 = rows.lowerBound
            while i0 < rows.upperBound {
                let mc = Swift.min(blocking.rowBlock, rows.upperBound - i0)
                packA(problem, rows: i0..<(i0 + mc), depth: p0, count: kc, into: packedA)
                var j = 0
                while j < columns.count {
                    let tileColumns = Swift.min(nr, columns.count - j)
                    let sliverB = UnsafePointer(packedB + j * kc)
                    var i = 0
                    while i < mc {
                        microKernel(
                            depth: kc, UnsafePointer(packedA + i * kc), sliverB,
                            c: problem.c + (i0 + i) * problem.cRowStride + columns.lowerBound + j,
                            cRowStride: problem.cRowStride, alpha: problem.alpha, beta: beta,
                            rows: Swift.min(mr, mc - i), columns: tileColumns)
                        i += mr
                    }
                    j += nr
                }
                i0 += mc
            }
            p0 += kc
        }
    }

    /// Packs `op(A)[rows, depth..<depth+count]` as slivers of `microRows` rows: sliver `s`
    /// holds, for each term `p`, its rows' `op(A)[i, p]` side by side (zeros past the last row).
    @inlinable
    public static func packA(
        _ problem: GEMMProblem<Scalar>, rows: Range<Int>, depth p0: Int, count kc: Int,
        into packed: UnsafeMutablePointer<Scalar>
    ) {
        let mr = microRows
        let (a, lda) = (problem.a, problem.aRowStride)
        var i = rows.lowerBound
        var d = packed
        while i < rows.upperBound {
            let valid = Swift.min(mr, rows.upperBound - i)
            if problem.aTransposed {
                // op(A)[i, p] = A[p, i]: each term's rows are contiguous.
                var source = a + p0 * lda + i
                if valid == mr {
                    for _ in 0..<kc {
                        d[0] = source[0]
                        d[1] = source[1]
                        d[2] = source[2]
                        d[3] = source[3]
                        d[4] = source[4]
                        d[5] = source[5]
                        d += mr
                        source += lda
                    }
                } else {
                    for _ in 0..<kc {
                        for r in 0..<mr { d[r] = r < valid ? source[r] : 0 }
                        d += mr
                        source += lda
                    }
                }
            } else {
                // op(A)[i, p] = A[i, p]: six rows read side by side.
                let r0 = a + i * lda + p0
                if valid == mr {
                    let (r1, r2, r3, r4, r5) = (r0 + lda, r0 + 2 * lda, r0 + 3 * lda, r0 + 4 * lda, r0 + 5 * lda)
                    for p in 0..<kc {
                        d[0] = r0[p]
                        d[1] = r1[p]
                        d[2] = r2[p]
                        d[3] = r3[p]
                        d[4] = r4[p]
                        d[5] = r5[p]
                        d += mr
                    }
                } else {
                    for p in 0..<kc {
                        for r in 0..<mr { d[r] = r < valid ? r0[r * lda + p] : 0 }
                        d += mr
                    }
                }
            }
            i += mr
        }
    }

    /// Packs `op(B)[depth..<depth+count, columns]` as slivers of `microColumns` columns:
    /// sliver `s` holds, for each term `p`, its columns' `op(B)[p, j]` side by side (zeros past
    /// the last column).
    @inlinable
    public static func packB(
        _ problem: GEMMProblem<Scalar>, depth p0: Int, count kc: Int, columns: Range<Int>,
        into packed: UnsafeMutablePointer<Scalar>
    ) {
        let w = V.scalarCount
        let nr = 2 * w
        let (b, ldb) = (problem.b, problem.bRowStride)
        var j = columns.lowerBound
        var sliver = packed
        while j < columns.upperBound {
            let valid = Swift.min(nr, columns.upperBound - j)
            if problem.bTransposed {
                // op(B)[p, j] = B[j, p]: column j of the sliver is the contiguous row j of B.
                // Blocks of 8 terms keep the reads sequential and the writes within a few lines.
                var p = 0
                while p < kc {
                    let terms = Swift.min(8, kc - p)
                    for c in 0..<nr {
                        let d = sliver + p * nr + c
                        if c < valid {
                            let source = b + (j + c) * ldb + p0 + p
                            for t in 0..<terms { d[t * nr] = source[t] }
                        } else {
                            for t in 0..<terms { d[t * nr] = 0 }
                        }
                    }
                    p += terms
                }
            } else {
                // op(B)[p, j] = B[p, j]: each term's columns are contiguous.
                var source = b + p0 * ldb + j
                var d = sliver
                if valid == nr {
                    for _ in 0..<kc {
                        d.storeVector(source.loadVector(V.self))
                        (d + w).storeVector((source + w).loadVector(V.self))
                        d += nr
                        source += ldb
                    }
                } else {
                    let (first, second) = (Swift.min(valid, w), Swift.max(0, valid - w))
                    for _ in 0..<kc {
                        d.storeVector(source.loadLanes(first, V.self))
                        (d + w).storeVector(second > 0 ? (source + w).loadLanes(second, V.self) : V())
                        d += nr
                        source += ldb
                    }
                }
            }
            sliver += nr * kc
            j += nr
        }
    }

    /// The micro-kernel: `C[0..<rows, 0..<columns] = α · Σ_p a[p]·b[p] + β · C` for one packed
    /// sliver of each operand (`a`: 6 scalars per term, `b`: 2 vectors per term), with the
    /// 6 × 2 vectors of sums in registers.  `β = 0` does not read `C`.
    @inlinable @inline(__always)
    public static func microKernel(
        depth kc: Int, _ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, c: UnsafeMutablePointer<Scalar>,
        cRowStride ldc: Int, alpha: Scalar, beta: Scalar, rows: Int, columns: Int
    ) {
        let w = V.scalarCount
        var (c00, c01, c10, c11, c20, c21) = (V(), V(), V(), V(), V(), V())
        var (c30, c31, c40, c41, c50, c51) = (V(), V(), V(), V(), V(), V())
        var pa = a
        var pb = b
        for _ in 0..<kc {
            let b0 = pb.loadVector(V.self)
            let b1 = (pb + w).loadVector(V.self)
            let a0 = V(repeating: pa[0])
            c00 = a0.multiplyAdd(b0, c00)
            c01 = a0.multiplyAdd(b1, c01)
            let a1 = V(repeating: pa[1])
            c10 = a1.multiplyAdd(b0, c10)
            c11 = a1.multiplyAdd(b1, c11)
            let a2 = V(repeating: pa[2])
            c20 = a2.multiplyAdd(b0, c20)
            c21 = a2.multiplyAdd(b1, c21)
            let a3 = V(repeating: pa[3])
            c30 = a3.multiplyAdd(b0, c30)
            c31 = a3.multiplyAdd(b1, c31)
            let a4 = V(repeating: pa[4])
            c40 = a4.multiplyAdd(b0, c40)
            c41 = a4.multiplyAdd(b1, c41)
            let a5 = V(repeating: pa[5])
            c50 = a5.multiplyAdd(b0, c50)
            c51 = a5.multiplyAdd(b1, c51)
            pa += 6
            pb += 2 * w
        }
        store(c00, c01, to: c, columns: columns, alpha: alpha, beta: beta)
        if rows > 1 { store(c10, c11, to: c + ldc, columns: columns, alpha: alpha, beta: beta) }
        if rows > 2 { store(c20, c21, to: c + 2 * ldc, columns: columns, alpha: alpha, beta: beta) }
        if rows > 3 { store(c30, c31, to: c + 3 * ldc, columns: columns, alpha: alpha, beta: beta) }
        if rows > 4 { store(c40, c41, to: c + 4 * ldc, columns: columns, alpha: alpha, beta: beta) }
        if rows > 5 { store(c50, c51, to: c + 5 * ldc, columns: columns, alpha: alpha, beta: beta) }
    }

    /// `row[0..<columns] = α · (s0, s1) + β · row` (`β = 0`: not read).
    @inlinable @inline(__always)
    static func store(_ s0: V, _ s1: V, to row: UnsafeMutablePointer<Scalar>, columns: Int, alpha: Scalar, beta: Scalar)
    {
        let w = V.scalarCount
        let (alphaV, betaV) = (V(repeating: alpha), V(repeating: beta))
        if columns == 2 * w {
            var r0 = s0 * alphaV
            var r1 = s1 * alphaV
            if beta != 0 {
                r0 = row.loadVector(V.self).multiplyAdd(betaV, r0)
                r1 = (row + w).loadVector(V.self).multiplyAdd(betaV, r1)
            }
            row.storeVector(r0)
            (row + w).storeVector(r1)
            return
        }
        let (first, second) = (Swift.min(columns, w), Swift.max(0, columns - w))
        var r0 = s0 * alphaV
        if beta != 0 { r0 = row.loadLanes(first, V.self).multiplyAdd(betaV, r0) }
        row.storeLanes(r0, first)
        if second > 0 {
            var r1 = s1 * alphaV
            if beta != 0 { r1 = (row + w).loadLanes(second, V.self).multiplyAdd(betaV, r1) }
            (row + w).storeLanes(r1, second)
        }
    }
}
