#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// Which library the package's matrix products run on: a system BLAS found at run time, or
/// the built-in kernel.
///
/// Nothing is linked at build time.  On first use the package loads, in order, OpenBLAS
/// (`libopenblas.so.0`), FlexiBLAS, the `libblas.so.3` alternative (Debian's reference BLAS or
/// whichever BLAS the alternatives system points it at) — Accelerate on macOS — and uses its
/// `cblas_sgemm`/`cblas_dgemm`; with none, the built-in kernel (`BlockedGEMM`: cache-blocked,
/// threaded) computes the same products.
/// The environment variable `SOFTMAX_BLAS` overrides the search: `none` for the built-in
/// kernel, or the path (or file name) of a CBLAS library.
public enum SoftmaxBLAS {
    /// What `SOFTMAX_BLAS` asks for.
    public enum Request: Equatable, Sendable {
        /// Unset or empty: the first system BLAS found, else the built-in kernel.
        case automatic
        /// `none`: the built-in kernel.
        case builtIn
        /// A library to load (a path, or a file name the dynamic linker searches for).
        case library(String)

        /// The request a value of `SOFTMAX_BLAS` makes (`nil`: unset).
        public init(environmentValue: String?) {
            switch environmentValue {
            case nil, "": self = .automatic
            case let value? where value.lowercased() == "none": self = .builtIn
            case let value?: self = .library(value)
            }
        }
    }

    /// The request of this process's `SOFTMAX_BLAS`.
    public static var environmentRequest: Request {
        Request(environmentValue: getenv("SOFTMAX_BLAS").map { String(cString: $0) })
    }

    /// What the products run on now: `built-in`, or the library's name and file (for
    /// OpenBLAS its version and kernel set, e.g. `OpenBLAS 0.3.21 (/usr/lib/…/libopenblas.so.0)`;
    /// the file as the system mapped it where that can be read, else the name it was loaded
    /// by — under AddressSanitizer the mapping was not found).  Reading it loads the library
    /// on first use.
    public static var active: String { GEMM.backend.name }

    /// Why the library `SOFTMAX_BLAS` names could not be used (the products then run on the
    /// built-in kernel), or `nil`.  Reading it loads the library on first use.
    public static var loadError: SoftmaxError? { GEMM.selection.error }
}

extension GEMM {
    /// The backend chosen for this process from `SOFTMAX_BLAS`, made on first use.
    static let selection: (backend: any GEMMBackend, error: SoftmaxError?) = select(SoftmaxBLAS.environmentRequest)

    /// The backend `request` selects, and the error of loading the library it names.
    package static func select(_ request: SoftmaxBLAS.Request) -> (backend: any GEMMBackend, error: SoftmaxError?) {
        switch request {
        case .builtIn: return (BlockedGEMM(), nil)
        case .automatic: return (SystemBLAS.firstAvailable() ?? BlockedGEMM(), nil)
        case .library(let library):
            do { return (try SystemBLAS(library: library), nil) } catch let error as SoftmaxError {
                return (BlockedGEMM(), error)
            } catch {
                return (BlockedGEMM(), .invalidOption(name: "SOFTMAX_BLAS", value: library, reason: "\(error)"))
            }
        }
    }
}
