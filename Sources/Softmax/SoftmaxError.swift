/// Why a call was refused.  Every case names the bad value and where it is; `description` is
/// the sentence the command-line tool prints after `error:`.
public enum SoftmaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The axis is outside `-rank..<rank`.
    case axisOutOfRange(axis: Int, rank: Int)
    /// A dimension is negative, or the element count overflows `Int`.
    case invalidShape(shape: [Int], reason: String)
    /// A buffer holds a different number of elements than its shape needs.
    case countMismatch(argument: String, expected: Int, actual: Int)
    /// An array's shape does not fit the scores' shape.
    case shapeMismatch(argument: String, expected: [Int], actual: [Int])
    /// A class label is outside `0..<classes` and is not the ignore index.
    case labelOutOfRange(label: String, position: [Int], classes: Int)
    /// A class label stored as a float is not a whole number (or is NaN or infinite).
    case labelNotWhole(value: Double, position: [Int])
    /// An option has a value outside its domain.
    case invalidOption(name: String, value: String, reason: String)
    /// An input, or the memory a request needs, is over `ResourceLimits.maximumBytes`.
    case tooLarge(what: String, bytes: Int, limit: Int)
    /// An output would be larger than its inputs by more than `ResourceLimits.outputAllowance`
    /// (an empty class axis beside huge dimensions: a few bytes of header, exabytes of output).
    case outOfProportion(what: String, bytes: Int, inputBytes: Int)

    /// The message the command-line tool prints after `error:`.
    public var description: String {
        switch self {
        case .axisOutOfRange(let axis, let rank):
            if rank == 0 { return "axis \(axis) is out of range: a 0-d array has no class axis" }
            return "axis \(axis) is out of range for an array of rank \(rank) (valid: \(-rank)...\(rank - 1))"
        case .invalidShape(let shape, let reason):
            return "invalid shape \(Self.shapeText(shape)): \(reason)"
        case .countMismatch(let argument, let expected, let actual):
            return "\(argument) holds \(actual) elements but its shape needs \(expected)"
        case .shapeMismatch(let argument, let expected, let actual):
            return "\(argument) has shape \(Self.shapeText(actual)) but \(Self.shapeText(expected)) is required"
        case .labelOutOfRange(let label, let position, let classes):
            return "label \(label) at position \(Self.shapeText(position)) is outside 0..<\(classes) "
                + "(there are \(classes) classes) and is not the ignore index"
        case .labelNotWhole(let value, let position):
            return "label \(value) at position \(Self.shapeText(position)) is not a whole number"
        case .invalidOption(let name, let value, let reason):
            return "invalid \(name) \(value): \(reason)"
        case .tooLarge(let what, let bytes, let limit):
            let size = bytes == Int.max ? "more than \(ResourceLimits.text(Int.max))" : ResourceLimits.text(bytes)
            let source =
                ResourceLimits.configured.fromEnvironment
                ? "set by SOFTMAX_MAX_INPUT_BYTES" : "3/4 of this machine's memory; SOFTMAX_MAX_INPUT_BYTES changes it"
            return "\(what) needs \(size), more than the limit of \(ResourceLimits.text(limit)) (\(source))"
        case .outOfProportion(let what, let bytes, let inputBytes):
            let size = bytes == Int.max ? "more than \(ResourceLimits.text(Int.max))" : ResourceLimits.text(bytes)
            return "\(what) would write \(size) from \(ResourceLimits.text(inputBytes)) of input; "
                + "an output may exceed its inputs by at most \(ResourceLimits.text(ResourceLimits.outputAllowance))"
        }
    }

    /// A shape in NumPy's notation: `[2, 3]` → `(2, 3)`, `[5]` → `(5,)`, `[]` → `()`.
    public static func shapeText(_ dims: [Int]) -> String {
        dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
    }
}
