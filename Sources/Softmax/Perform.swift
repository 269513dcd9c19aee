import SoftmaxKernels

/// Runs a task on the caller's buffers in their compute type (`Float` or `Double`).
///
/// `Float16` values are converted to `Float` into temporary buffers and the outputs converted
/// back, so inputs and outputs may alias (in place) for every format.
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
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            return try stagedThroughFloat(
                inputs.map { $0.rebound(to: Float16.self) }, outputs.map { $0?.rebound(to: Float16.self) }, float)
        #else
            preconditionFailure("Float16 does not conform to SoftmaxScalar on this platform")
        #endif
    }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// Runs `float` on `Float` copies of `Float16` buffers and converts the outputs back.
    ///
    /// The conversions run through the active instruction set's loops (`vcvtph2ps`/`vcvtps2ph`
    /// with F16C) on all cores.  Concrete in `Float16`: through the generic `T` they were 3×
    /// slower still.
    private func stagedThroughFloat<Output>(
        _ inputs: [UnsafeBufferPointer<Float16>], _ outputs: [UnsafeMutableBufferPointer<Float16>?],
        _ float: ([UnsafeBufferPointer<Float>], [UnsafeMutableBufferPointer<Float>?]) throws -> Output
    ) rethrows -> Output {
        // One pooled block holds every staged buffer, inputs then outputs.
        let counts = inputs.map(\.count) + outputs.map { $0?.count ?? 0 }
        return try StagingPool.withBuffer(of: Float.self, count: counts.reduce(0, +)) { block in
            var offsets: [Int] = []
            var next = 0
            for count in counts {
                offsets.append(next)
                next += count
            }
            let kernels = Float.kernels
            // Each chunk reads and writes only its own range.
            nonisolated(unsafe) let base = block.address
            let staged = inputs.enumerated().map { k, input in
                nonisolated(unsafe) let (source, destination) = (input.address, base + offsets[k])
                forEachChunk(count: input.count) {
                    kernels.widenHalf(source + $0.lowerBound, destination + $0.lowerBound, $0.count)
                }
                return UnsafeBufferPointer(start: destination, count: input.count)
            }
            let results = outputs.enumerated().map { k, output in
                output.map { UnsafeMutableBufferPointer(start: base + offsets[inputs.count + k], count: $0.count) }
            }
            let value = try float(staged, results)
            for (output, result) in zip(outputs, results) {
                guard let output, let result else { continue }
                nonisolated(unsafe) let (source, destination) = (UnsafePointer(result.address), output.address)
                forEachChunk(count: output.count) {
                    kernels.narrowHalf(source + $0.lowerBound, destination + $0.lowerBound, $0.count)
                }
            }
            return value
        }
    }
#endif

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
    var address: UnsafeMutablePointer<Element> {
        baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }
}

extension UnsafeBufferPointer {
    /// See `UnsafeMutableBufferPointer.address`.
    var address: UnsafePointer<Element> {
        baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }
}

/// Throws unless `count` is what the shape needs.
func checkCount(_ count: Int, _ expected: Int, _ argument: String) throws {
    guard count == expected else {
        throw SoftmaxError.countMismatch(argument: argument, expected: expected, actual: count)
    }
}
