/// The element types a `.npy` file can hold here.
public enum NPYDataType: String, Sendable, CaseIterable {
    /// IEEE 754 floating point of 16, 32 and 64 bits (NumPy's `f2`, `f4`, `f8`).
    case float16, float32, float64
    /// Signed integers of 8 to 64 bits (`i1` … `i8`).
    case int8, int16, int32, int64
    /// Unsigned integers of 8 to 64 bits (`u1` … `u8`).
    case uint8, uint16, uint32, uint64

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .int8, .uint8: 1
        case .float16, .int16, .uint16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    /// True for the three floating-point types.
    public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 }

    /// The Swift type the softmax family and the losses compute this element type in, for code
    /// that picks it at run time from a file: `Float`, `Double`, `Float16` where the platform
    /// has it; `nil` for integers and for `float16` on macOS on x86-64.
    public var scalarType: (any (SoftmaxScalar & NPYElement).Type)? {
        switch self {
        case .float16: platformFloat16
        case .float32: Float.self
        case .float64: Double.self
        default: nil
        }
    }

    /// The Swift type class-index labels of this element type are read as; `nil` only for
    /// `float16` on macOS on x86-64.
    public var classLabelType: (any (ClassLabel & NPYElement).Type)? {
        switch self {
        case .float16: platformFloat16
        case .float32: Float.self
        case .float64: Double.self
        case .int8: Int8.self
        case .int16: Int16.self
        case .int32: Int32.self
        case .int64: Int64.self
        case .uint8: UInt8.self
        case .uint16: UInt16.self
        case .uint32: UInt32.self
        case .uint64: UInt64.self
        }
    }

    /// NumPy's type character and size, e.g. `f4` for `float32`.
    var code: String {
        switch self {
        case .float16: "f2"
        case .float32: "f4"
        case .float64: "f8"
        case .int8: "i1"
        case .int16: "i2"
        case .int32: "i4"
        case .int64: "i8"
        case .uint8: "u1"
        case .uint16: "u2"
        case .uint32: "u4"
        case .uint64: "u8"
        }
    }

    /// Parses a NumPy `descr` such as `<f4`, `>i8` or `|u1`.
    ///
    /// - Returns: the type and whether its bytes are big-endian, or `nil` if unsupported.
    static func parse(descr: String) -> (NPYDataType, bigEndian: Bool)? {
        guard let order = descr.first, "<>|=".contains(order) else { return nil }
        let code = String(descr.dropFirst())
        guard let type = allCases.first(where: { $0.code == code }) else { return nil }
        if order == "|" && type.itemSize != 1 { return nil }
        let nativeBig = 1.bigEndian == 1
        return (type, order == ">" || (order == "=" && nativeBig))
    }

    /// The `descr` this type is written with (native byte order).
    var descr: String {
        if itemSize == 1 { return "|" + code }
        return (1.bigEndian == 1 ? ">" : "<") + code
    }
}

/// A Swift type that maps to one `.npy` element type.
public protocol NPYElement: Sendable {
    /// The `.npy` element type that holds this type's values.
    static var npyDataType: NPYDataType { get }
}

extension Float: NPYElement { public static var npyDataType: NPYDataType { .float32 } }
extension Double: NPYElement { public static var npyDataType: NPYDataType { .float64 } }
extension Int8: NPYElement { public static var npyDataType: NPYDataType { .int8 } }
extension Int16: NPYElement { public static var npyDataType: NPYDataType { .int16 } }
extension Int32: NPYElement { public static var npyDataType: NPYDataType { .int32 } }
extension Int64: NPYElement { public static var npyDataType: NPYDataType { .int64 } }
extension UInt8: NPYElement { public static var npyDataType: NPYDataType { .uint8 } }
extension UInt16: NPYElement { public static var npyDataType: NPYDataType { .uint16 } }
extension UInt32: NPYElement { public static var npyDataType: NPYDataType { .uint32 } }
extension UInt64: NPYElement { public static var npyDataType: NPYDataType { .uint64 } }
