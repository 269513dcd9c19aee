import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// A system BLAS loaded at run time (`dlopen`), serving the GEMM seam through the standard
/// CBLAS symbols `cblas_sgemm` and `cblas_dgemm` — as NumPy's and Julia's BLAS trampolines
/// do, so that building needs no BLAS and any installed one is used without rebuilding.
///
/// The CBLAS interface takes 32-bit sizes (the LP64 build every distribution ships): a
/// product with a size or stride beyond `Int32.max` runs on the built-in kernel instead.
/// OpenBLAS's thread count follows `SoftmaxThreads` when the library exposes
/// `openblas_set_num_threads`.
package final class SystemBLAS: GEMMBackend, @unchecked Sendable {
    /// `cblas_sgemm(layout, transA, transB, M, N, K, α, A, lda, B, ldb, β, C, ldc)`.
    private typealias SGEMM =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?,
            Int32, Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    /// `cblas_dgemm`, the same with `Double`.
    private typealias DGEMM =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32, UnsafePointer<Double>?,
            Int32, Double, UnsafeMutablePointer<Double>?, Int32
        ) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void

    /// CBLAS's `CblasRowMajor`, `CblasNoTrans`, `CblasTrans`.
    private static let rowMajor: Int32 = 101
    private static func code(_ transpose: MatrixTranspose) -> Int32 { transpose == .none ? 111 : 112 }

    package let name: String
    /// The file the symbols came from.
    package let path: String
    private let sgemm: SGEMM
    private let dgemm: DGEMM
    private let setThreads: SetThreads?
    /// The thread count last given to `openblas_set_num_threads` (0: not yet).
    private let threadsSet = PthreadLocked(0)

    /// The libraries tried, in order, when `SOFTMAX_BLAS` names none.
    package static var candidates: [String] {
        #if canImport(Darwin)
            ["/System/Library/Frameworks/Accelerate.framework/Accelerate", "libopenblas.dylib"]
        #else
            ["libopenblas.so.0", "libopenblas.so", "libflexiblas.so.3", "libblas.so.3", "libcblas.so.3"]
        #endif
    }

    /// Loads `library` (a file name the dynamic linker searches for, or a path).
    ///
    /// - Throws: `SoftmaxError.invalidOption` naming `SOFTMAX_BLAS` and the linker's reason
    ///   when the library does not load or lacks `cblas_sgemm`/`cblas_dgemm`.
    package init(library: String) throws {
        func failure(_ reason: String) -> SoftmaxError {
            .invalidOption(name: "SOFTMAX_BLAS", value: "'\(library)'", reason: reason)
        }
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            throw failure("cannot load it (\(dlerror().map { String(cString: $0) } ?? "unknown reason"))")
        }
        guard let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm") else {
            dlclose(handle)
            throw failure("it has no cblas_sgemm and cblas_dgemm (not a CBLAS library)")
        }
        sgemm = unsafeBitCast(s, to: SGEMM.self)
        dgemm = unsafeBitCast(d, to: DGEMM.self)
        setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
        path = Self.file(containing: s) ?? library
        // OpenBLAS says what it is (version, kernels); other libraries are named by their file.
        typealias GetConfig = @convention(c) () -> UnsafePointer<CChar>?
        if let config = dlsym(handle, "openblas_get_config"),
            let text = unsafeBitCast(config, to: GetConfig.self)()
        {
            name = String(cString: text).split(separator: " ").prefix(2).joined(separator: " ") + " (\(path))"
        } else {
            name = path
        }
    }

    /// The file mapped at `address` (`dladdr` on Darwin; on Linux `/proc/self/maps`, since
    /// Glibc's module does not export the GNU `dladdr`), or `nil`.
    private static func file(containing address: UnsafeMutableRawPointer) -> String? {
        #if canImport(Darwin)
            var info = Dl_info()
            guard dladdr(address, &info) != 0, let name = info.dli_fname else { return nil }
            return String(cString: name)
        #else
            let target = UInt(bitPattern: address)
            guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
            for line in maps.split(separator: "\n") {
                // `start-end perms offset dev inode path`
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 6, let dash = fields[0].firstIndex(of: "-"),
                    let start = UInt(fields[0][..<dash], radix: 16),
                    let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16),
                    (start..<end).contains(target)
                else { continue }
                return fields[5...].joined(separator: " ")
            }
            return nil
        #endif
    }

    /// The first of `candidates` that loads, or `nil`.
    package static func firstAvailable() -> SystemBLAS? {
        for library in candidates {
            if let blas = try? SystemBLAS(library: library) { return blas }
        }
        return nil
    }

    /// A product's sizes and leading dimensions as CBLAS takes them (`M, N, K, lda, ldb, ldc`;
    /// a leading dimension at least 1), or `nil` when one does not fit its 32-bit integers.
    private static func cblasSizes<S>(
        m: Int, n: Int, k: Int, a: MatrixOperand<S>, b: MatrixOperand<S>, cRowStride: Int
    ) -> (m: Int32, n: Int32, k: Int32, lda: Int32, ldb: Int32, ldc: Int32)? {
        let values = [m, n, k, Swift.max(1, a.rowStride), Swift.max(1, b.rowStride), Swift.max(1, cRowStride)]
        guard values.allSatisfy({ $0 <= Int(Int32.max) }) else { return nil }
        let v = values.map { Int32($0) }
        return (v[0], v[1], v[2], v[3], v[4], v[5])
    }

    /// Gives OpenBLAS the thread count of the calling task (`SoftmaxThreads.effective`).
    private func matchThreads() {
        guard let setThreads else { return }
        let wanted = SoftmaxThreads.effective
        threadsSet.withLock { current in
            if current != wanted {
                setThreads(Int32(clamping: wanted))
                current = wanted
            }
        }
    }

    package func gemm(
        m: Int, n: Int, k: Int, alpha: Float, a: MatrixOperand<Float>, b: MatrixOperand<Float>, beta: Float,
        c: UnsafeMutablePointer<Float>, cRowStride: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard let size = Self.cblasSizes(m: m, n: n, k: k, a: a, b: b, cRowStride: cRowStride) else {
            return BlockedGEMM().gemm(
                m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, cRowStride: cRowStride)
        }
        matchThreads()
        sgemm(
            Self.rowMajor, Self.code(a.transpose), Self.code(b.transpose), size.m, size.n, size.k, alpha, a.base,
            size.lda, b.base, size.ldb, beta, c, size.ldc)
    }

    package func gemm(
        m: Int, n: Int, k: Int, alpha: Double, a: MatrixOperand<Double>, b: MatrixOperand<Double>, beta: Double,
        c: UnsafeMutablePointer<Double>, cRowStride: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard let size = Self.cblasSizes(m: m, n: n, k: k, a: a, b: b, cRowStride: cRowStride) else {
            return BlockedGEMM().gemm(
                m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, cRowStride: cRowStride)
        }
        matchThreads()
        dgemm(
            Self.rowMajor, Self.code(a.transpose), Self.code(b.transpose), size.m, size.n, size.k, alpha, a.base,
            size.lda, b.base, size.ldb, beta, c, size.ldc)
    }
}
