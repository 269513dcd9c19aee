import SoftmaxKernels

/// Runs a task on the caller's `Float` or `Double` buffers (`Float16` calls are staged tile by
/// tile in `Float` by `HalfTileStaging` instead).
///
/// A task is a struct with a generic `run<S: ComputeScalar>(inputs:outputs:)`; its `run` is
/// passed as two closures, one per compute type, formed where the task's type is concrete: that
/// is what makes the compiler specialise the kernels for `Float` and `Double`.  (Calling `task.run` from here, generic over the task, ran the kernels through
/// witness tables, hundreds of times slower.)
func perform<T: SoftmaxScalar, Output>(
    inputs: [UnsafeBufferPointer<T>], outputs: [UnsafeMutableBufferPointer<T>?],
    float: ([UnsafeBufferPointer<Float>], [UnsafeMutableBufferPointer<Float>?]) throws -> Output,
    double: ([UnsafeBufferPointer<Double>], [UnsafeMutableBufferPointer<Double>?]) throws -> Output
) throws -> Output {
    switch T.format {
    case .float32:
        return try float(inputs.map { $0.rebound(to: Float.self) }, outputs.map { $0?.rebound(to: Float.self) })
    case .float64:
        return try double(inputs.map { $0.rebound(to: Double.self) }, outputs.map { $0?.rebound(to: Double.self) })
    case .float16:
        // Every entry point stages Float16 tile by tile (`HalfTileStaging`) before it gets here.
        preconditionFailure("Float16 calls are staged by HalfTileStaging, not perform")
    }
}

extension UnsafeBufferPointer {
    /// The same memory viewed as `U`; only called when `Element` is `U` (checked by `format`).
    func rebound<U>(to _: U.Type) -> UnsafeBufferPointer<U> {
        UnsafeBufferPointer<U>(
            start: baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: U.self) }, count: count)
    }
}

extension UnsafeMutableBufferPointer {
    /// The same memory viewed as `U`; only called when `Element` is `U` (checked by `format`).
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

extension UnsafeBufferPointer {
    /// See `UnsafeMutableBufferPointer.address`.
    package var address: UnsafePointer<Element> {
        baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }
}

/// Throws unless `count` is what the shape needs.
func checkCount(_ count: Int, _ expected: Int, _ argument: String) throws {
    guard count == expected else {
        throw SoftmaxError.countMismatch(argument: argument, expected: expected, actual: count)
    }
}
