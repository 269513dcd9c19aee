import Softmax

/// Runs `network` over samples in chunks and collects scores, probabilities or metrics.
struct Scorer {
    let network: Network
    let transform: InputTransform
    /// Rows per forward pass: bounds the memory of large sets.
    var chunkRows = 8192

    /// Calls `body(firstSample, sampleCount, scores)` for consecutive chunks of `indices`;
    /// `scores` holds `sampleCount × rowsPerSample` rows of `classes` scores.
    func forEachChunk(
        of dataset: Dataset, samples indices: [Int], _ body: (Int, Int, ArraySlice<Float>) throws -> Void
    ) throws {
        let perSample = dataset.positionsPerSample
        let samplesPerChunk = Swift.max(1, chunkRows / perSample)
        let chunk = ResourceLimits.bytes(
            count: samplesPerChunk * perSample, size: 4 * (transform.rowFeatures + 2 * network.classes))
        try ResourceLimits.check(chunk, for: "scoring \(perSample) positions of \(transform.rowFeatures) features")
        var start = 0
        while start < indices.count {
            let end = Swift.min(start + samplesPerChunk, indices.count)
            let rows = transform.rows(of: dataset, samples: indices[start..<end])
            let scores = try network.forward(rows[...], rows: (end - start) * perSample)
            try body(start, end - start, scores.data[...])
            start = end
        }
    }

    /// Loss and confusion matrix of the samples at `indices`.
    func evaluate(_ dataset: Dataset, samples indices: [Int], ignoreIndex: Int?) throws -> Evaluation {
        try tally(dataset, samples: indices, ignoreIndex: ignoreIndex).evaluation
    }

    /// The summed loss, the count of non-ignored positions and the confusion matrix of the
    /// samples at `indices`: figures that add up over disjoint sets of samples.
    func tally(_ dataset: Dataset, samples indices: [Int], ignoreIndex: Int?) throws -> EvaluationTally {
        let classes = network.classes
        let perSample = dataset.positionsPerSample
        var confusion = ConfusionMatrix(classes: classes)
        var lossSum = 0.0
        var valid = 0
        try forEachChunk(of: dataset, samples: indices) { first, count, scores in
            let rows = count * perSample
            var labels = [Int32]()
            labels.reserveCapacity(rows)
            for n in indices[first..<(first + count)] {
                labels.append(contentsOf: dataset.labels[(n * perSample)..<((n + 1) * perSample)])
            }
            let options = CrossEntropyOptions(axis: 1, reduction: .sum, ignoreIndex: ignoreIndex)
            lossSum += try scores.withUnsafeBufferPointer { x in
                try labels.withUnsafeBufferPointer { t in
                    try crossEntropy(scores: x, shape: [rows, classes], classIndices: t, options: options)
                }
            }
            for r in 0..<rows {
                let label = Int(labels[r])
                guard label != ignoreIndex, (0..<classes).contains(label) else { continue }
                valid += 1
                confusion.add(truth: label, predicted: argmax(scores, row: r, classes: classes))
            }
        }
        return EvaluationTally(lossSum: lossSum, valid: valid, confusion: confusion)
    }
}

/// The index of the largest of `classes` scores in row `row` (the first on ties; NaN never wins).
func argmax(_ scores: ArraySlice<Float>, row: Int, classes: Int) -> Int {
    let base = scores.startIndex + row * classes
    var best = 0
    var bestScore = -Float.infinity
    for k in 0..<classes where scores[base + k] > bestScore {
        bestScore = scores[base + k]
        best = k
    }
    return best
}
