import SoftmaxKernels
import SoftmaxKernelsAVX2
import SoftmaxKernelsAVX512

/// A compute type (`Float`, `Double`) together with its kernel tables, one per instruction set.
///
/// The package's scalar protocols, by role: `SoftmaxScalar` is what callers' buffers hold
/// (storage: `Float16`, `Float`, `Double`); `KernelScalar` (in `SoftmaxKernels`) is what the
/// kernels compute in, with the constants of their exponential and logarithm; this protocol
/// adds the dispatch table, which lives here because the instruction-set modules that fill it
/// depend on `SoftmaxKernels`.  `TileStagedStorage` marks storage computed in another type.
package protocol KernelTableScalar: KernelScalar, SoftmaxScalar, Codable {
    /// The kernels of the active instruction set (`SoftmaxISA.active`).
    ///
    /// Read it on the calling thread and pass the table to the threaded driver: the
    /// task-local choice of `SoftmaxISA.withActive` is not visible on the pool's threads.
    static var kernels: TileKernelSet<Self> { get }
}

extension Float: KernelTableScalar {
    package static var kernels: TileKernelSet<Float> {
        switch SoftmaxISA.active {
        case .portable: portableKernels
        case .avx2: AVX2Kernels.float
        case .avx512: AVX512Kernels.float
        }
    }
}

extension Double: KernelTableScalar {
    package static var kernels: TileKernelSet<Double> {
        switch SoftmaxISA.active {
        case .portable: portableKernels
        case .avx2: AVX2Kernels.double
        case .avx512: AVX512Kernels.double
        }
    }
}
