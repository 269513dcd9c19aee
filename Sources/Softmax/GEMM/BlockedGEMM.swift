import SoftmaxKernels
import Synchronization

/// The fast GEMM that needs no library: cache-blocked, packed, register-tiled, threaded.
///
/// `C` is cut into blocks (whole column panels of `columnBlock` columns, and row groups when
/// there are too few panels to keep the threads busy); each thread takes blocks in turn and
/// computes them with the active instruction set's `gemmBlock` (`GEMMKernels`: packed panels
/// of `op(A)` and `op(B)`, a 6 × 2-vector FMA micro-kernel), its own packing scratch from
/// `StagingPool`.  Threads write disjoint blocks of `C`, and every element sums its terms in
/// the same order wherever its block falls, so the result is the same bits on any thread
/// count; it differs between instruction sets (FMA or not, vector width) and from
/// `BuiltInGEMM`'s, so the layers keep that one.
///
/// The default backend when no system BLAS loads (`SoftmaxBLAS`, `SOFTMAX_BLAS=none`).
package struct BlockedGEMM: GEMMBackend {
    package init() {}

    package var name: String { "built-in" }

    /// Below this many multiply-adds a product runs on the calling thread alone.
    static let parallelThreshold = 1 << 21

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

    /// The blocks of `C` one product is cut into: `rowGroups × panels`, row groups a multiple
    /// of the micro-tile's rows.
    struct Blocks {
        let rowsPerGroup: Int
        let rowGroups: Int
        let columnsPerPanel: Int
        let panels: Int
        var count: Int { rowGroups * panels }

        init(m: Int, n: Int, blocking: GEMMBlocking, threads: Int) {
            columnsPerPanel = blocking.columnBlock
            panels = (n + columnsPerPanel - 1) / columnsPerPanel
            // Enough blocks for two per thread; each extra row group packs op(B) once more.
            let wanted = threads > 1 ? (2 * threads + panels - 1) / panels : 1
            let slivers = (m + blocking.microRows - 1) / blocking.microRows
            let groups = Swift.max(1, Swift.min(wanted, slivers))
            rowsPerGroup = (slivers + groups - 1) / groups * blocking.microRows
            rowGroups = (m + rowsPerGroup - 1) / rowsPerGroup
        }

        func rows(ofBlock index: Int, m: Int) -> Range<Int> {
            let start = (index / panels) * rowsPerGroup
            return start..<Swift.min(start + rowsPerGroup, m)
        }

        func columns(ofBlock index: Int, n: Int) -> Range<Int> {
            let start = (index % panels) * columnsPerPanel
            return start..<Swift.min(start + columnsPerPanel, n)
        }
    }

    /// The next block for a thread to take.
    private final class BlockCounter: Sendable {
        let next = Atomic<Int>(0)
    }

    static func multiply<S: GEMMScalar & KernelTableScalar>(
        m: Int, n: Int, k: Int, alpha: S, a: MatrixOperand<S>, b: MatrixOperand<S>, beta: S,
        c: UnsafeMutablePointer<S>, cRowStride: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 || alpha == 0 {
            // C = β·C, without reading C when β = 0 (BLAS does not read A or B either).
            for i in 0..<m {
                let row = c + i * cRowStride
                if beta == 0 {
                    row.update(repeating: 0, count: n)
                } else if beta != 1 {
                    for j in 0..<n { row[j] *= beta }
                }
            }
            return
        }
        // Read on the calling thread: `SoftmaxISA.withActive` is not visible on the pool's.
        let kernels = S.kernels
        let blocking = kernels.gemmBlocking
        let problem = GEMMProblem(
            a: a.base, aRowStride: a.rowStride, aTransposed: a.transpose == .transposed, b: b.base,
            bRowStride: b.rowStride, bTransposed: b.transpose == .transposed, c: c, cRowStride: cRowStride, k: k,
            alpha: alpha, beta: beta)
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k)
        let wantedThreads = work.overflow || work.partialValue >= parallelThreshold ? SoftmaxThreads.effective : 1
        let blocks = Blocks(m: m, n: n, blocking: blocking, threads: wantedThreads)
        let threads = Swift.min(wantedThreads, blocks.count)
        // Per thread: rowBlock × depth of op(A), depth × columnBlock of op(B), cache-line apart.
        let packedA = blocking.rowBlock * blocking.depth
        let packedB = blocking.depth * blocking.columnBlock
        let perThread = (packedA + packedB + 63) / 64 * 64
        StagingPool.withBuffer(of: S.self, count: threads * perThread) { scratch in
            let scratchBase = scratch.baseAddress!
            if threads == 1 {
                for index in 0..<blocks.count {
                    kernels.gemmBlock(
                        problem, blocks.rows(ofBlock: index, m: m), blocks.columns(ofBlock: index, n: n), scratchBase,
                        scratchBase + packedA)
                }
                return
            }
            // Each thread takes blocks until none are left (a busy core takes fewer); blocks
            // are disjoint parts of C, and scratch is the thread's own.
            let counter = BlockCounter()
            nonisolated(unsafe) let base = scratchBase
            WorkerPool.shared.run(iterations: threads) { thread in
                let ownA = base + thread * perThread
                while true {
                    let index = counter.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < blocks.count else { return }
                    kernels.gemmBlock(
                        problem, blocks.rows(ofBlock: index, m: m), blocks.columns(ofBlock: index, n: n), ownA,
                        ownA + packedA)
                }
            }
        }
    }
}
