/// The contiguous part of `count` items that process `rank` of `processes` takes when they
/// split them as evenly as possible: the first `count % processes` processes take one item
/// more, and the parts, rank 0 first, tile `0..<count` in order.
///
/// Data-parallel training splits each global batch this way, and the evaluation its samples.
///
/// - Parameters:
///   - count: The number of items, at least 0.
///   - rank: The process, `0..<processes`.
///   - processes: The number of processes, at least 1.
/// - Returns: Offsets into the items; empty when `rank ≥ count`.
/// - Complexity: O(1).
package func processShare(of count: Int, rank: Int, processes: Int) -> Range<Int> {
    precondition(processes >= 1 && (0..<processes).contains(rank) && count >= 0, "rank \(rank) of \(processes)")
    let base = count / processes
    let extra = count % processes
    let start = rank * base + Swift.min(rank, extra)
    return start..<(start + base + (rank < extra ? 1 : 0))
}
