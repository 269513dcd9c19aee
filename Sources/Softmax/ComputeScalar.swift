import SoftmaxKernels
import SoftmaxKernelsAVX2
import SoftmaxKernelsAVX512

/// A type the kernels run in (`Float`, `Double`), with its kernels per instruction set.
protocol ComputeScalar: KernelScalar, Codable {
    /// The kernels of the active instruction set (`SoftmaxISA.active`).
    ///
    /// Read it on the calling thread and pass the table to the threaded driver: the
    /// task-local choice of `SoftmaxISA.withActive` is not visible on the pool's threads.
    static var kernels: TileKernelSet<Self> { get }
}

extension Float: ComputeScalar {
    static var kernels: TileKernelSet<Float> {
        switch SoftmaxISA.active {
        case .portable: portableKernels
        case .avx2: AVX2Kernels.float
        case .avx512: AVX512Kernels.float
        }
    }
}

extension Double: ComputeScalar {
    static var kernels: TileKernelSet<Double> {
        switch SoftmaxISA.active {
        case .portable: portableKernels
        case .avx2: AVX2Kernels.double
        case .avx512: AVX512Kernels.double
        }
    }
}
