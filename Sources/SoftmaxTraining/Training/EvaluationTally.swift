/// An evaluation before its division: the summed loss, the count of non-ignored positions and
/// the confusion matrix — figures that add up over disjoint sets of samples, so processes that
/// each evaluate a share of a set get the whole set's `Evaluation` from their sums.
struct EvaluationTally: Equatable {
    /// Σ cross-entropy over the non-ignored positions.
    var lossSum: Double
    /// The non-ignored positions (the positions `confusion` counts).
    var valid: Int
    /// True against predicted classes.
    var confusion: ConfusionMatrix

    /// The evaluation: the mean loss (0 when no position counts) and the confusion matrix.
    var evaluation: Evaluation {
        Evaluation(loss: valid == 0 ? 0 : lossSum / Double(valid), confusion: confusion)
    }

    /// The number of values `packed` holds for `classes` classes: the loss sum, the count and
    /// `classes²` confusion counts.
    ///
    /// - Parameter classes: The number of classes.
    /// - Returns: `2 + classes²`.
    static func packedCount(classes: Int) -> Int { 2 + classes * classes }

    /// The tally as values to add across processes: the loss sum, the count, then the
    /// confusion counts row by row (counts below 2^53 are exact as `Double`).
    var packed: [Double] {
        [lossSum, Double(valid)] + confusion.counts.flatMap { $0.map(Double.init) }
    }

    /// The tally `packed` gave, from the start of `values`.
    ///
    /// - Parameters:
    ///   - values: At least `packedCount(classes:)` values from `packed` (or sums of them);
    ///     the count and confusion counts must be whole and non-negative.
    ///   - classes: The number of classes.
    init(packed values: ArraySlice<Double>, classes: Int) {
        let base = values.startIndex
        lossSum = values[base]
        valid = Int(values[base + 1])
        confusion = ConfusionMatrix(classes: classes)
        for t in 0..<classes {
            for p in 0..<classes {
                confusion.add(truth: t, predicted: p, count: Int(values[base + 2 + t * classes + p]))
            }
        }
    }

    /// A tally of the given figures.
    init(lossSum: Double, valid: Int, confusion: ConfusionMatrix) {
        self.lossSum = lossSum
        self.valid = valid
        self.confusion = confusion
    }
}
