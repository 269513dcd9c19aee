import SoftmaxKernels

/// A storage type that is not computed in itself but widened to `Float` tile by tile
/// (`TileStaging`): `Float16`.  Its conformance, with everything else in this module that
/// names `Float16`, is in `Float16+Softmax.swift`, the one file behind the platform guard.
///
/// Each requirement runs one task on the caller's buffers; `T` is always the conforming type
/// (the call sites are generic over the element type, so the buffers arrive typed by it).
protocol TileStagedStorage: SoftmaxScalar {
    /// `ForwardTask` on `input` into `output`.
    static func runForward<T>(_ task: ForwardTask, input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>)
    /// `LogSumExpTask` on `input` into `output`.
    static func runLogSumExp<T>(
        _ task: LogSumExpTask, input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>)
    /// `BackwardTask` on the forward output `y` and its gradient `dy`, into `dx`.
    static func runBackward<T>(
        _ task: BackwardTask, y: UnsafeBufferPointer<T>, dy: UnsafeBufferPointer<T>, dx: UnsafeMutableBufferPointer<T>)
    /// `CrossEntropyTask` on `scores` (and probability targets), into `outputs`; returns the
    /// sums of the per-position losses and z terms in tile order.
    static func runCrossEntropy<T>(
        _ task: CrossEntropyTask, scores: UnsafeBufferPointer<T>, probabilities: UnsafeBufferPointer<T>?,
        outputs: CrossEntropyOutputs<T>
    ) -> LossSums
}

/// Runs a call on `T`'s buffers the way `T` is computed: `float` for `Float`, `double` for
/// `Double`, `staged` (given the staged type) for `Float16`.
///
/// Each closure is formed at the call site, where the task's type is concrete and the buffers
/// are rebound to the compute type: that is what makes the compiler specialise the kernels for
/// `Float` and `Double`.  (A task run from here, generic over the task, went through witness
/// tables, hundreds of times slower.)
@inline(__always)
func dispatch<T: SoftmaxScalar, R>(
    _: T.Type, float: () throws -> R, double: () throws -> R, staged: (any TileStagedStorage.Type) throws -> R
) rethrows -> R {
    if let stagedType = T.self as? any TileStagedStorage.Type { return try staged(stagedType) }
    return T.format == .float64 ? try double() : try float()
}

extension UnsafeBufferPointer {
    /// The same memory viewed as `U`; only called when `Element` is `U` (as `dispatch` routes).
    func rebound<U>(to _: U.Type) -> UnsafeBufferPointer<U> {
        UnsafeBufferPointer<U>(
            start: baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: U.self) }, count: count)
    }

    /// See `UnsafeMutableBufferPointer.address`.
    package var address: UnsafePointer<Element> {
        baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }
}

extension UnsafeMutableBufferPointer {
    /// The same memory viewed as `U`; only called when `Element` is `U` (as `dispatch` routes).
    func rebound<U>(to _: U.Type) -> UnsafeMutableBufferPointer<U> {
        UnsafeMutableBufferPointer<U>(
            start: baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: U.self) }, count: count)
    }

    /// The base address of a buffer that may be empty: a dangling but never dereferenced
    /// pointer stands in for `nil` so that kernels over zero elements need no special case.
    package var address: UnsafeMutablePointer<Element> {
        baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }
}
