import SoftmaxKernels

/// The tile kernels compiled for x86-64-v3 (AVX2 + FMA): 8 floats or 4 doubles per vector.
/// Only call them after checking the CPU (`softmax_cpu_level() >= 1`).
public enum AVX2Kernels {
    /// Float kernels, `SIMD8<Float>`.
    public static let float = TileKernelSet<Float>(name: "avx2", vector: SIMD8<Float>.self)
    /// Double kernels, `SIMD4<Double>`.
    public static let double = TileKernelSet<Double>(name: "avx2", vector: SIMD4<Double>.self)
}
