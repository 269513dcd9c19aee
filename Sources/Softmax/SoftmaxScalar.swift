/// The storage format of a floating-point element.
public enum FloatFormat: String, Sendable, CaseIterable {
    /// IEEE half precision, computed in `Float`.
    case float16
    /// IEEE single precision.
    case float32
    /// IEEE double precision.
    case float64
}

/// An element type the softmax family and the losses accept: `Float`, `Double` and (where the
/// platform has it) `Float16`.
///
/// `Float` computes in `Float`, `Double` in `Double`, `Float16` is read and written as
/// `Float16` and computed in `Float`.
public protocol SoftmaxScalar: BinaryFloatingPoint, Sendable {
    /// How the type is stored, which selects the kernels that compute it.
    static var format: FloatFormat { get }
}

extension Float: SoftmaxScalar {
    /// `.float32`.
    @inlinable public static var format: FloatFormat { .float32 }
}

extension Double: SoftmaxScalar {
    /// `.float64`.
    @inlinable public static var format: FloatFormat { .float64 }
}
