import Softmax
import SoftmaxTraining

/// The classes one rank holds of a vocabulary split across ranks: `start..<start + count` of
/// `totalClasses`.
public struct ClassShard: Sendable, Equatable, CustomStringConvertible {
    /// The first class of the shard.
    public let start: Int
    /// The number of classes in the shard (may be 0).
    public let count: Int
    /// The classes of the whole vocabulary.
    public let totalClasses: Int

    /// A shard.
    ///
    /// - Throws: `SoftmaxError.invalidOption` unless `0 ≤ start`, `0 ≤ count` and
    ///   `start + count ≤ totalClasses`.
    public init(start: Int, count: Int, totalClasses: Int) throws {
        guard start >= 0, count >= 0, totalClasses >= 0, start <= totalClasses, count <= totalClasses - start else {
            throw SoftmaxError.invalidOption(
                name: "class shard", value: "\(start)..<\(start &+ count) of \(totalClasses)",
                reason: "it must lie within 0..<\(totalClasses)")
        }
        self.init(unchecked: start, count, totalClasses)
    }

    private init(unchecked start: Int, _ count: Int, _ totalClasses: Int) {
        self.start = start
        self.count = count
        self.totalClasses = totalClasses
    }

    /// Rank `rank`'s part of `totalClasses` split as evenly as possible over `size` ranks
    /// (the first `totalClasses % size` ranks take one class more), Megatron's split — the
    /// `processShare` that data-parallel training splits its batches by.
    ///
    /// - Precondition: `0 ≤ rank < size`, `totalClasses ≥ 0`.
    public static func even(totalClasses: Int, rank: Int, size: Int) -> ClassShard {
        let range = processShare(of: totalClasses, rank: rank, processes: size)
        return ClassShard(unchecked: range.lowerBound, range.count, totalClasses)
    }

    /// The shard's classes as a range of the whole vocabulary.
    public var range: Range<Int> { start..<(start + count) }

    /// "start..<end of total".
    public var description: String { "\(start)..<\(start + count) of \(totalClasses)" }
}
