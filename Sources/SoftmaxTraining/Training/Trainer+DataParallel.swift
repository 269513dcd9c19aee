import Softmax

extension Trainer {
    /// One data-parallel step up to the solver's update: forward and backward over this
    /// process's share of `members`, then `gradientReducer.reduce(_:loss:denominator:)`,
    /// which leaves the whole batch's mean gradient in `gradients` in every process.
    ///
    /// The share is `processShare(of: members.count, …)` of the batch; an empty one (a batch
    /// smaller than the process count) runs nothing and contributes zero gradients, loss and
    /// denominator.
    ///
    /// - Parameters:
    ///   - members: The whole global batch (the same in every process).
    ///   - dataset: The training set.
    ///   - transform: The rows' standardisation.
    ///   - network: The network (its parameters' diffs are the gradients).
    ///   - loss: The loss head.
    ///   - gradients: The network's parameters, in `Network.parameters` order.
    /// - Returns: The whole batch's mean loss (not checked for being finite).
    /// - Throws: `SoftmaxError` from the kernels (a label outside the classes in this
    ///   process's share); what `gradientReducer` throws.
    /// - Complexity: O(share rows · Σ inputs · outputs of the layers) plus the reduction.
    func dataParallelStep(
        _ members: ArraySlice<Int>, of dataset: Dataset, transform: InputTransform, network: Network,
        loss: LossHead, gradients: ParameterGradients
    ) throws -> Double {
        let share = processShare(
            of: members.count, rank: gradientReducer.processRank, processes: gradientReducer.processCount)
        let local = members[(members.startIndex + share.lowerBound)..<(members.startIndex + share.upperBound)]
        var shareLoss = 0.0
        var denominator = 0.0
        if local.isEmpty {
            // Nothing to run (a forward over no rows would give the same zeros).  The solver
            // clears the diffs after each step; clear them anyway: the reducer must see this
            // process's gradient, which is zero.
            for blob in gradients.blobs {
                blob.diff.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            }
        } else {
            let rows = transform.rows(of: dataset, samples: local)
            let scores = try network.forward(rows[...], rows: local.count * dataset.positionsPerSample)
            shareLoss = try loss.forward(scores: scores, samples: local)
            denominator = loss.denominator(samples: local)
            try loss.backward(scores: scores, samples: local.count)
            try network.backward()
        }
        return try gradientReducer.reduce(gradients, loss: shareLoss, denominator: denominator)
    }

    /// The evaluations of the training and test samples when each process evaluates its
    /// share of them: the processes' loss sums, position counts and confusion counts are
    /// added with one `gradientReducer.sum(_:)`.  The counts equal the one-process
    /// evaluation's exactly, the loss up to the order of summation.
    ///
    /// - Parameters:
    ///   - scorer: Runs the network.
    ///   - dataset: The training set.
    ///   - trainIndices: Its samples to evaluate.
    ///   - testSet: The test set, or `nil`.
    ///   - testIndices: Its samples (none: no test evaluation).
    /// - Returns: The training set's evaluation and the test set's (`nil` without a test set
    ///   or test samples), the same in every process.
    /// - Throws: `SoftmaxError` from the kernels; what `gradientReducer` throws, or
    ///   `SoftmaxError.countMismatch` when its `sum(_:)` returns another number of values.
    /// - Complexity: O(samples / processes · positions · Σ inputs · outputs of the layers)
    ///   plus one reduction of `2 + classes²` values per set.
    func evaluateShares(
        _ scorer: Scorer, _ dataset: Dataset, samples trainIndices: [Int], testSet: Dataset?,
        testSamples testIndices: [Int]
    ) throws -> (train: Evaluation, test: Evaluation?) {
        func tally(_ set: Dataset, _ indices: [Int]) throws -> EvaluationTally {
            let share = processShare(
                of: indices.count, rank: gradientReducer.processRank, processes: gradientReducer.processCount)
            return try scorer.tally(set, samples: Array(indices[share]), ignoreIndex: settings.ignoreIndex)
        }
        let test = testIndices.isEmpty ? nil : testSet
        var values = try tally(dataset, trainIndices).packed
        if let test { values += try tally(test, testIndices).packed }
        let sums = try gradientReducer.sum(values)
        guard sums.count == values.count else {
            throw SoftmaxError.countMismatch(argument: "summed evaluation", expected: values.count, actual: sums.count)
        }
        let classes = scorer.network.classes
        let count = EvaluationTally.packedCount(classes: classes)
        return (
            EvaluationTally(packed: sums[0..<count], classes: classes).evaluation,
            test.map { _ in EvaluationTally(packed: sums[count..<(2 * count)], classes: classes).evaluation }
        )
    }
}
