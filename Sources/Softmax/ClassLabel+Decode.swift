import Dispatch

/// Class-index targets checked and converted to the kernels' `Int32` (−1 = ignored).
struct DecodedClassIndices {
    /// Σ w_t over the positions that are not ignored (the `.mean` denominator).
    var targetWeightSum: Double
}

/// Labels per chunk of the decoder: chunks are the unit of parallel work and of the partial
/// weight sums, which are added in chunk order (the same bits on any number of threads).
private let labelsPerChunk = 32 * 1024

/// Checks every label and writes `decoded[p]` (the class, or −1 where the label equals the
/// ignore index).
///
/// The common label types run through concrete instantiations: the generic `ClassLabel` path
/// costs a witness call per label, which on an 8×256×256 segmentation batch took as long as
/// the fused kernel.  Large label arrays are checked on all cores.
///
/// - Throws: `SoftmaxError.labelNotWhole` or `.labelOutOfRange` for the first bad label (in
///   C order), whatever the thread count.
func decodeClassIndices<L: ClassLabel>(
    _ targets: UnsafeBufferPointer<L>, into decoded: UnsafeMutablePointer<Int32>, classes: Int,
    options: CrossEntropyOptions, targetShape: [Int]
) throws -> DecodedClassIndices {
    @inline(__always) func run<C: ClassLabel>(_: C.Type) throws -> DecodedClassIndices {
        let base = UnsafeRawPointer(targets.baseAddress).map { $0.assumingMemoryBound(to: C.self) }
        return try decodeChunks(
            UnsafeBufferPointer(start: base, count: targets.count), into: decoded, classes: classes,
            options: options, targetShape: targetShape)
    }
    if L.self == Int32.self { return try run(Int32.self) }
    if L.self == Int64.self { return try run(Int64.self) }
    if L.self == Int.self { return try run(Int.self) }
    if L.self == UInt8.self { return try run(UInt8.self) }
    if L.self == Int16.self { return try run(Int16.self) }
    if L.self == Float.self { return try run(Float.self) }
    if L.self == Double.self { return try run(Double.self) }
    return try decodeChunks(targets, into: decoded, classes: classes, options: options, targetShape: targetShape)
}

@inline(__always)
private func decodeChunks<L: ClassLabel>(
    _ targets: UnsafeBufferPointer<L>, into decoded: UnsafeMutablePointer<Int32>, classes: Int,
    options: CrossEntropyOptions, targetShape: [Int]
) throws -> DecodedClassIndices {
    let count = targets.count
    let chunkCount = (count + labelsPerChunk - 1) / labelsPerChunk
    // Per chunk: the weight sum, and the first bad position (or −1).
    var sums = [Double](repeating: 0, count: chunkCount)
    var firstBad = [Int](repeating: -1, count: chunkCount)
    let ignore = options.ignoreIndex
    (options.classWeights ?? []).withUnsafeBufferPointer { weights in
        let weighted = options.classWeights != nil
        sums.withUnsafeMutableBufferPointer { sums in
            firstBad.withUnsafeMutableBufferPointer { firstBad in
                // Each chunk writes only its own labels' slots and its own sums/firstBad entry.
                nonisolated(unsafe) let (sums, firstBad, weights) = (sums, firstBad, weights)
                nonisolated(unsafe) let (targets, decoded) = (targets, decoded)
                let chunk: @Sendable (Int) -> Void = { k in
                    var sum = 0.0
                    for p in (k * labelsPerChunk)..<Swift.min((k + 1) * labelsPerChunk, count) {
                        guard let t = targets[p].classIndex, t == ignore || (t >= 0 && t < classes) else {
                            firstBad[k] = p
                            return
                        }
                        if t == ignore {
                            decoded[p] = -1
                        } else {
                            decoded[p] = Int32(truncatingIfNeeded: t)
                            sum += weighted ? weights[t] : 1
                        }
                    }
                    sums[k] = sum
                }
                let threads = Swift.min(SoftmaxThreads.effective, chunkCount)
                if threads <= 1 {
                    for k in 0..<chunkCount { chunk(k) }
                } else {
                    WorkerPool.shared.run(iterations: chunkCount, threads: threads, chunk)
                }
            }
        }
    }
    if let bad = firstBad.first(where: { $0 >= 0 }) {
        let label = targets[bad]
        let position = multiIndex(bad, in: targetShape)
        guard label.classIndex != nil else {
            throw SoftmaxError.labelNotWhole(value: label.labelValue, position: position)
        }
        throw SoftmaxError.labelOutOfRange(label: label.labelDescription, position: position, classes: classes)
    }
    return DecodedClassIndices(targetWeightSum: sums.reduce(0, +))
}
