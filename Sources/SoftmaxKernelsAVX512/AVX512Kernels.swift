import SoftmaxKernels

/// The tile kernels compiled for x86-64-v4 (AVX-512): 16 floats or 8 doubles per vector.
/// Only call them after checking the CPU (`softmax_cpu_level() >= 2`).
public enum AVX512Kernels {
    /// Float kernels, `SIMD16<Float>`.
    public static let float = TileKernelSet<Float>(name: "avx512", vector: SIMD16<Float>.self)
    /// Double kernels, `SIMD8<Double>`.
    public static let double = TileKernelSet<Double>(name: "avx512", vector: SIMD8<Double>.self)
}
