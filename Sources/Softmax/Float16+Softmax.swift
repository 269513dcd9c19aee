// The one file of this module that names `Float16`, which Swift lacks on macOS on x86-64:
// its conformances, and the routing of its buffers to the staged kernels.  Everywhere else
// `Float16` values travel as bit patterns (`UInt16`, `TileStaging`) or as a type chosen
// at run time (`NPYDataType.scalarType`), so nothing else needs the platform guard.
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    extension Float16: SoftmaxScalar {
        /// `.float16`.
        @inlinable public static var format: FloatFormat { .float16 }
    }

    extension Float16: ClassLabel {}

    extension Float16: NPYElement {
        /// `.float16` (`<f2`).
        public static var npyDataType: NPYDataType { .float16 }
    }

    /// `Float16` is read and written as such and computed in `Float`, tile by tile.
    extension Float16: TileStagedStorage {
        static func runForward<T>(
            _ task: ForwardTask, input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>
        ) {
            task.runStaged(input.rebound(to: UInt16.self).address, output.rebound(to: UInt16.self).address)
        }

        static func runLogSumExp<T>(
            _ task: LogSumExpTask, input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>
        ) {
            task.runStaged(input.rebound(to: UInt16.self).address, output.rebound(to: UInt16.self).address)
        }

        static func runBackward<T>(
            _ task: BackwardTask, y: UnsafeBufferPointer<T>, dy: UnsafeBufferPointer<T>,
            dx: UnsafeMutableBufferPointer<T>
        ) {
            task.runStaged(
                y.rebound(to: UInt16.self).address, dy.rebound(to: UInt16.self).address,
                dx.rebound(to: UInt16.self).address)
        }

        static func runCrossEntropy<T>(
            _ task: CrossEntropyTask, scores: UnsafeBufferPointer<T>, probabilities: UnsafeBufferPointer<T>?,
            outputs: CrossEntropyOutputs<T>
        ) -> LossSums {
            let kernels = Float.kernels
            return task.runStaged(
                scores.rebound(to: UInt16.self).address, soft: probabilities?.rebound(to: UInt16.self).address,
                outputs: CrossEntropyStagedOutputs<UInt16>(outputs), load: kernels.widenHalf,
                store: kernels.narrowHalf)
        }
    }

    /// `Float16` where the platform has it, for code that picks an element type at run time.
    let platformFloat16: (any (SoftmaxScalar & NPYElement & ClassLabel).Type)? = Float16.self
#else
    /// `nil`: this platform has no `Float16`.
    let platformFloat16: (any (SoftmaxScalar & NPYElement & ClassLabel).Type)? = nil
#endif
