/// A type that can hold class-index targets: every integer type, and floating-point types
/// holding whole numbers (Caffe stores labels as floats).
public protocol ClassLabel: Sendable {
    /// The label as a class index, or `nil` when it is not a whole number (a fraction, NaN or
    /// an infinity).  Integers too large for `Int` are clamped (they are out of range anyway).
    var classIndex: Int? { get }
    /// The label as written, for error messages.
    var labelValue: Double { get }
    /// The label as written, exactly (an integer, or a float's own spelling when it is not an
    /// `Int`), for error messages.
    var labelDescription: String { get }
}

extension ClassLabel where Self: BinaryInteger {
    /// The integer itself (clamped to `Int`).
    @inlinable public var classIndex: Int? { Int(clamping: self) }
    /// The integer as a `Double`.
    @inlinable public var labelValue: Double { Double(self) }
    /// The integer in decimal.
    public var labelDescription: String { "\(self)" }
}

extension ClassLabel where Self: BinaryFloatingPoint {
    /// The value as an `Int` when it is finite and whole.
    @inlinable public var classIndex: Int? {
        guard isFinite, rounded(.towardZero) == self else { return nil }
        return Int(exactly: self) ?? (self < 0 ? Int.min : Int.max)
    }
    /// The value as a `Double`.
    @inlinable public var labelValue: Double { Double(self) }
    /// The value as an integer when it is one, else in the type's own spelling.
    public var labelDescription: String { Int(exactly: self).map { "\($0)" } ?? "\(self)" }
}

extension Int: ClassLabel {}
extension Int8: ClassLabel {}
extension Int16: ClassLabel {}
extension Int32: ClassLabel {}
extension Int64: ClassLabel {}
extension UInt: ClassLabel {}
extension UInt8: ClassLabel {}
extension UInt16: ClassLabel {}
extension UInt32: ClassLabel {}
extension UInt64: ClassLabel {}
extension Float: ClassLabel {}
extension Double: ClassLabel {}
