/// Counts of (true class, predicted class) pairs, and the figures derived from them.
public struct ConfusionMatrix: Sendable, Equatable {
    /// `counts[t][p]`: positions of true class `t` predicted as `p`.
    public private(set) var counts: [[Int]]

    /// An all-zero matrix for `classes` classes.
    public init(classes: Int) {
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    }

    /// The number of classes.
    public var classes: Int { counts.count }

    /// Counts `count` positions of true class `truth` predicted as `predicted`.
    ///
    /// - Parameters:
    ///   - truth: The true class, `0..<classes`.
    ///   - predicted: The predicted class, `0..<classes`.
    ///   - count: How many positions (default 1).
    /// - Complexity: O(1).
    public mutating func add(truth: Int, predicted: Int, count: Int = 1) { counts[truth][predicted] += count }

    /// Positions counted.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Correct positions.
    public var correct: Int { (0..<classes).reduce(0) { $0 + counts[$1][$1] } }
    /// `correct / total` (0 when empty): accuracy, or pixel accuracy for segmentation.
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Positions of true class `k`.
    public func support(_ k: Int) -> Int { counts[k].reduce(0, +) }
    /// Positions predicted as `k`.
    public func predictedCount(_ k: Int) -> Int { (0..<classes).reduce(0) { $0 + counts[$1][k] } }

    /// `TP / (TP + FP)`, or `nil` when nothing was predicted as `k`.
    public func precision(_ k: Int) -> Double? {
        let predicted = predictedCount(k)
        return predicted == 0 ? nil : Double(counts[k][k]) / Double(predicted)
    }

    /// `TP / (TP + FN)`, or `nil` when class `k` never occurs.
    public func recall(_ k: Int) -> Double? {
        let support = support(k)
        return support == 0 ? nil : Double(counts[k][k]) / Double(support)
    }

    /// Intersection over union `TP / (TP + FP + FN)`, or `nil` when the class is neither
    /// present nor predicted.
    public func intersectionOverUnion(_ k: Int) -> Double? {
        let union = support(k) + predictedCount(k) - counts[k][k]
        return union == 0 ? nil : Double(counts[k][k]) / Double(union)
    }

    /// The mean IoU over the classes that are present or predicted (PASCAL VOC's mIoU).
    public var meanIntersectionOverUnion: Double {
        let values = (0..<classes).compactMap(intersectionOverUnion)
        return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
