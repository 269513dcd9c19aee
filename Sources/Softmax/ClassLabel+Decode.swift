import Dispatch

/// Class-index targets checked and converted to the kernels' `Int32` (−1 = ignored).
package struct DecodedClassIndices {
    /// Σ w_t over the positions that are not ignored (the `.mean` denominator).
    package var targetWeightSum: Double
    /// The number of positions that are not ignored (the z-loss's `.mean` denominator).
    package var activeCount: Int
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
package func decodeClassIndices<L: ClassLabel>(
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
    // Per chunk: the weight sum and the count of labels kept, and the first bad position (or −1).
    var tallies = [(weightSum: Double, kept: Int)](repeating: (0, 0), count: chunkCount)
    var firstBad = [Int](repeating: -1, count: chunkCount)
    let ignore = options.ignoreIndex
    (options.classWeights ?? []).withUnsafeBufferPointer { weights in
        let weighted = options.classWeights != nil
        tallies.withUnsafeMutableBufferPointer { tallies in
            firstBad.withUnsafeMutableBufferPointer { firstBad in
                // Each chunk writes only its own labels' slots and its own tallies/firstBad entry.
                nonisolated(unsafe) let (tallies, firstBad, weights) = (tallies, firstBad, weights)
                nonisolated(unsafe) let (targets, decoded) = (targets, decoded)
                let chunk: @Sendable (Int) -> Void = { k in
                    let positions = (k * labelsPerChunk)..<Swift.min((k + 1) * labelsPerChunk, count)
                    if !weighted,
                        let kept = decodeUnweighted(
                            targets, positions, into: decoded, classes: classes, ignore: ignore)
                    {
                        tallies[k] = (Double(kept), kept)
                        return
                    }
                    var sum = 0.0
                    var kept = 0
                    for p in positions {
                        guard let t = targets[p].classIndex, t == ignore || (t >= 0 && t < classes) else {
                            firstBad[k] = p
                            return
                        }
                        if t == ignore {
                            decoded[p] = -1
                        } else {
                            decoded[p] = Int32(truncatingIfNeeded: t)
                            sum += weighted ? weights[t] : 1
                            kept += 1
                        }
                    }
                    tallies[k] = (sum, kept)
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
    return DecodedClassIndices(
        targetWeightSum: tallies.reduce(0) { $0 + $1.weightSum }, activeCount: tallies.reduce(0) { $0 + $1.kept })
}

/// Decodes `targets[positions]` without class weights when the labels are `Int32`, `Int64`,
/// `Int`, `UInt8` or `Int16`, in a loop the compiler vectorises (`decodeIntegers`).
///
/// - Returns: the number of labels that are not ignored, or `nil` when a label is bad or the
///   labels are of another type (the caller then takes the general loop, which finds the
///   first bad label).
@inline(__always)
private func decodeUnweighted<L: ClassLabel>(
    _ targets: UnsafeBufferPointer<L>, _ positions: Range<Int>, into decoded: UnsafeMutablePointer<Int32>,
    classes: Int, ignore: Int?
) -> Int? {
    guard let labels = UnsafeRawPointer(targets.baseAddress), !positions.isEmpty else { return 0 }
    @inline(__always) func decode<I: FixedWidthInteger>(as _: I.Type) -> Int? {
        decodeIntegers(
            labels.assumingMemoryBound(to: I.self), positions, into: decoded, classes: classes, ignore: ignore)
    }
    if L.self == Int32.self { return decode(as: Int32.self) }
    if L.self == Int64.self || (L.self == Int.self && MemoryLayout<Int>.size == 8) { return decode(as: Int64.self) }
    if L.self == UInt8.self { return decode(as: UInt8.self) }
    if L.self == Int16.self { return decode(as: Int16.self) }
    return nil
}

/// `decodeUnweighted` for one integer type: every test is integer arithmetic on flags of the
/// label's width, without branches or an early exit, so that the loop vectorises (the
/// checking loop with its exit at the first bad label took a tenth of the fused kernel's time
/// on a segmentation batch).
///
/// A label is in range when its bits, read as unsigned, are below the class count: negative
/// labels read as huge numbers.  That needs the class count in the label's own range; with
/// more classes than the type's largest value (`UInt8` labels and 300 classes) the general loop
/// runs instead.
@inline(never)
private func decodeIntegers<L: FixedWidthInteger>(
    _ labels: UnsafePointer<L>, _ positions: Range<Int>, into decoded: UnsafeMutablePointer<Int32>,
    classes: Int, ignore: Int?
) -> Int? {
    guard classes <= Int(clamping: L.max) else { return nil }
    // An ignore index that no label can equal ignores nothing.
    let ignoreLabel = ignore.flatMap { L(exactly: $0) }
    let (ignoreValue, ignores): (L, Int32) = (ignoreLabel ?? 0, ignoreLabel == nil ? 0 : 1)
    let limit = L.Magnitude(truncatingIfNeeded: classes)
    // Counted in 32 bits: a chunk holds at most `labelsPerChunk` labels.
    var (kept, bad): (Int32, Int32) = (0, 0)
    var p = positions.lowerBound
    while p < positions.upperBound {
        let t = labels[p]
        let ignored: Int32 = (t == ignoreValue ? 1 : 0) & ignores
        let inRange: Int32 = L.Magnitude(truncatingIfNeeded: t) < limit ? 1 : 0
        bad |= (ignored | inRange) ^ 1
        decoded[p] = Int32(truncatingIfNeeded: t) | (0 &- ignored)
        kept &+= 1 &- ignored
        p &+= 1
    }
    return bad != 0 ? nil : Int(kept)
}
