/// One instruction set's tile kernels for one scalar type, as function values: the dispatch
/// table the public API picks from at first use (the shape of onnxruntime MLAS's dispatch).
///
/// Each instruction-set module fills it with closures that call `TileKernels<V>` for its
/// vector width; the closures are formed in that module, so the kernels are compiled there with
/// its CPU flags.
public struct TileKernelSet<Scalar: KernelScalar>: Sendable {
    /// The name of the instruction set (`portable`, `avx2`, `avx512`).
    public var name: String
    /// `TileKernels.forward`.
    public var forward:
        @Sendable (
            _ logarithmic: Bool, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, _ layout: Layout,
            _ positions: Range<Int>, _ streaming: Bool
        ) -> Void
    /// `TileKernels.logSumExp`.
    public var logSumExp:
        @Sendable (
            _ x: UnsafePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>, _ layout: Layout, _ positions: Range<Int>
        ) -> Void
    /// `TileKernels.backward`.
    public var backward:
        @Sendable (
            _ logarithmic: Bool, _ y: UnsafePointer<Scalar>, _ dy: UnsafePointer<Scalar>,
            _ dx: UnsafeMutablePointer<Scalar>, _ layout: Layout, _ positions: Range<Int>
        ) -> Void
    /// `TileKernels.crossEntropy` with class indices.
    public var crossEntropyIndices:
        @Sendable (
            _ x: UnsafePointer<Scalar>, _ targets: UnsafePointer<Int32>, _ layout: Layout, _ positions: Range<Int>,
            _ parameters: CrossEntropyParameters<Scalar>, _ outputs: CrossEntropyOutputPointers<Scalar>,
            _ losses: UnsafeMutablePointer<Scalar>, _ zLosses: UnsafeMutablePointer<Scalar>?
        ) -> Void
    /// `TileKernels.crossEntropy` with probability targets.
    public var crossEntropyProbabilities:
        @Sendable (
            _ x: UnsafePointer<Scalar>, _ q: UnsafePointer<Scalar>, _ layout: Layout, _ positions: Range<Int>,
            _ parameters: CrossEntropyParameters<Scalar>, _ outputs: CrossEntropyOutputPointers<Scalar>,
            _ losses: UnsafeMutablePointer<Scalar>, _ zLosses: UnsafeMutablePointer<Scalar>?
        ) -> Void

    /// `RowKernels.crossEntropy(_:target:parameters:transform:gradient:slopes:zLoss:)` for each
    /// row of `positions` (`inner == 1`, at least `2·V.scalarCount` classes): the transformed
    /// training call.
    public var crossEntropyTransformedRows:
        @Sendable (
            _ x: UnsafePointer<Scalar>, _ targets: UnsafePointer<Int32>, _ layout: Layout, _ positions: Range<Int>,
            _ parameters: CrossEntropyParameters<Scalar>, _ transform: LogitTransform<Scalar>,
            _ gradient: UnsafeMutablePointer<Scalar>, _ losses: UnsafeMutablePointer<Scalar>,
            _ zLosses: UnsafeMutablePointer<Scalar>?, _ slopes: UnsafeMutablePointer<Scalar>
        ) -> Void
    /// `RowKernels.transformLogits`.
    public var transformLogits:
        @Sendable (
            _ x: UnsafePointer<Scalar>, _ s: UnsafeMutablePointer<Scalar>, _ count: Int,
            _ transform: LogitTransform<Scalar>
        ) -> Void
    /// `RowKernels.chainLogitGradient`.
    public var chainLogitGradient:
        @Sendable (
            _ ds: UnsafePointer<Scalar>, _ s: UnsafePointer<Scalar>, _ dx: UnsafeMutablePointer<Scalar>, _ count: Int,
            _ transform: LogitTransform<Scalar>
        ) -> Void

    /// `RowKernels.normalizer` of each row of `positions` (rows of `classes` scores): its
    /// maximum into `maxima[p]` and `Σ exp(x − shift)` into `sums[p]`.
    public var rowNormalizers:
        @Sendable (
            _ x: UnsafePointer<Scalar>, _ classes: Int, _ positions: Range<Int>, _ maxima: UnsafeMutablePointer<Scalar>,
            _ sums: UnsafeMutablePointer<Scalar>
        ) -> Void
    /// `RowKernels.crossEntropy` of each row of `positions` (rows of `parameters.classes`)
    /// with the normaliser `(maxima[p], sums[p])` computed elsewhere and the target's weight
    /// `targetWeights[p]` where the target lies in another shard (target ≥ classes): the
    /// vocabulary-parallel loss's shard of each row.  Writes `losses[p]` and the gradient.
    public var crossEntropyGivenNormalizers:
        @Sendable (
            _ x: UnsafePointer<Scalar>, _ targets: UnsafePointer<Int32>, _ positions: Range<Int>,
            _ parameters: CrossEntropyParameters<Scalar>, _ gradient: UnsafeMutablePointer<Scalar>?,
            _ maxima: UnsafePointer<Scalar>, _ sums: UnsafePointer<Scalar>, _ targetWeights: UnsafePointer<Scalar>,
            _ losses: UnsafeMutablePointer<Scalar>, _ zLosses: UnsafeMutablePointer<Scalar>?
        ) -> Void

    /// `HalfConversion.widen`: `Float16` values, as bit patterns, into the compute type.
    public var widenHalf:
        @Sendable (_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Scalar>, _ count: Int) -> Void
    /// `HalfConversion.narrow`: compute-type values into `Float16` bit patterns.
    public var narrowHalf:
        @Sendable (_ source: UnsafePointer<Scalar>, _ destination: UnsafeMutablePointer<UInt16>, _ count: Int) -> Void

    /// The block sizes of `gemmBlock`: what its caller sizes the packing scratch and the
    /// threads' blocks of `C` by.
    public var gemmBlocking: GEMMBlocking
    /// `GEMMKernels.multiplyBlock`: one block of `C` of a cache-blocked matrix product.
    public var gemmBlock:
        @Sendable (
            _ problem: GEMMProblem<Scalar>, _ rows: Range<Int>, _ columns: Range<Int>,
            _ packedA: UnsafeMutablePointer<Scalar>, _ packedB: UnsafeMutablePointer<Scalar>
        ) -> Void

    /// The kernels of `TileKernels<V>`.  Call it from the module whose CPU flags should compile
    /// them: the body is inlined there and the closures specialise `TileKernels<V>` in place.
    @inlinable @inline(__always)
    public init<V: SIMD & Sendable>(name: String, vector _: V.Type) where V.Scalar == Scalar {
        self.name = name
        forward = { TileKernels<V>.forward(logarithmic: $0, $1, $2, layout: $3, positions: $4, streaming: $5) }
        logSumExp = { TileKernels<V>.logSumExp($0, $1, layout: $2, positions: $3) }
        backward = {
            TileKernels<V>.backward(logarithmic: $0, output: $1, gradient: $2, into: $3, layout: $4, positions: $5)
        }
        crossEntropyIndices = {
            TileKernels<V>.crossEntropy(
                $0, targets: $1, layout: $2, positions: $3, parameters: $4, outputs: $5, losses: $6, zLosses: $7)
        }
        crossEntropyProbabilities = {
            TileKernels<V>.crossEntropy(
                $0, probabilities: $1, layout: $2, positions: $3, parameters: $4, outputs: $5, losses: $6,
                zLosses: $7)
        }
        crossEntropyTransformedRows = { x, targets, layout, positions, parameters, transform, g, losses, z, slopes in
            let n = layout.classes
            for p in positions {
                losses[p] = RowKernels<V>.crossEntropy(
                    x + p * n, target: Int(targets[p]), parameters: parameters, transform: transform,
                    gradient: g + p * n, slopes: slopes, zLoss: z.map { $0 + p })
            }
        }
        transformLogits = { RowKernels<V>.transformLogits($0, $1, count: $2, transform: $3) }
        chainLogitGradient = {
            RowKernels<V>.chainLogitGradient($0, transformed: $1, into: $2, count: $3, transform: $4)
        }
        rowNormalizers = { x, classes, positions, maxima, sums in
            for p in positions {
                let norm = RowKernels<V>.normalizer(x + p * classes, count: classes)
                maxima[p] = norm.max
                sums[p] = norm.sum
            }
        }
        crossEntropyGivenNormalizers = { x, targets, positions, parameters, g, maxima, sums, weights, losses, z in
            let n = parameters.classes
            for p in positions {
                losses[p] = RowKernels<V>.crossEntropy(
                    x + p * n, target: Int(targets[p]), parameters: parameters,
                    outputs: CrossEntropyOutputPointers(gradient: g.map { $0 + p * n }),
                    normalizer: Normalizer(max: maxima[p], sum: sums[p]), targetWeight: weights[p],
                    zLoss: z.map { $0 + p })
            }
        }
        widenHalf = { HalfConversion<Scalar>.widen($0, $1, count: $2) }
        narrowHalf = { HalfConversion<Scalar>.narrow($0, $1, count: $2) }
        gemmBlocking = GEMMKernels<V>.blocking
        gemmBlock = { GEMMKernels<V>.multiplyBlock($0, rows: $1, columns: $2, packedA: $3, packedB: $4) }
    }
}
