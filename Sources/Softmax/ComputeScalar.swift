import SoftmaxKernels

/// A type the kernels run in, with the vector width the portable instantiation uses.
///
/// The vector type is the instruction-set choice: the generic `TileKernels` are compiled here
/// for these widths with the module's baseline flags.
protocol ComputeScalar: KernelScalar, Codable {
    /// The SIMD vector the portable kernels use.
    associatedtype Vector: SIMD where Vector.Scalar == Self
}

extension Float: ComputeScalar {
    typealias Vector = SIMD8<Float>
}

extension Double: ComputeScalar {
    typealias Vector = SIMD4<Double>
}
