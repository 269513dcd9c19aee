import Foundation
import Softmax
import SoftmaxDistributed
import SoftmaxTestSupport
import SoftmaxTraining
import Testing

/// The code of `SoftmaxDistributed.docc/DistributedSchemes.md`, run on ranks as threads, and
/// after each region its results checked: the vocabulary-parallel losses against the
/// single-process calls on the gathered arrays and against float64 references written out
/// here, the collectives' counts against what the article says they send, and data-parallel
/// training against the one-process trainer.
@Suite("Article: Distributed schemes")
struct DistributedSchemesArticleTests {
    @Test func ranksAsThreads() throws {
        // docs: DistributedSchemes.md
        let perRank = try LocalCommunicatorGroup.run(size: 2) { communicator in
            var values: [Double] = [Double(communicator.rank + 1), 10]
            try communicator.allReduce(&values, .sum)
            return values
        }
        print(perRank)  // every rank holds the sums: [[3.0, 20.0], [3.0, 20.0]]
        // docs: end
        let posted: [[Double]] = (0..<2).map { [Double($0 + 1), 10] }
        let sums = (0..<2).map { i in posted.reduce(0) { $0 + $1[i] } }
        #expect(perRank == [sums, sums])
    }

    @Test func vocabularyParallelCrossEntropy() throws {
        // docs: DistributedSchemes.md
        // The logits of 3 positions over 5 classes, row-major, and the 3 labels.
        let (n, v) = (3, 5)
        let logits = (0..<(n * v)).map { Float(($0 * 7) % 11) / 4 - 1 }
        let labels: [Int64] = [2, 4, 0]

        let perRank = try LocalCommunicatorGroup.run(size: 2) { communicator in
            // Rank 0 holds classes 0..<3, rank 1 classes 3..<5.
            let shard = ClassShard.even(totalClasses: v, rank: communicator.rank, size: communicator.size)
            let scores = (0..<n).flatMap { row in shard.range.map { logits[row * v + $0] } }  // [n, shard.count]
            var gradient = [Float](repeating: 0, count: n * shard.count)
            let reduced = try scores.withUnsafeBufferPointer { x in
                try labels.withUnsafeBufferPointer { t in
                    try gradient.withUnsafeMutableBufferPointer { g in
                        try vocabParallelCrossEntropy(
                            scores: x, positions: n, shard: shard, classIndices: t, communicator: communicator,
                            outputs: VocabParallelOutputs(gradient: g))
                    }
                }
            }
            return (shard: shard, reduced: reduced, gradient: gradient)
        }
        print(perRank[0].reduced.loss, perRank[1].reduced.loss)  // the same mean loss on both ranks
        // docs: end
        // The single-process call on the gathered logits, and the float64 reference.
        let whole = try crossEntropy(
            NDArray(shape: [n, v], scalars: logits), classIndices: NDArray(shape: [n], scalars: labels))
        let reference = Reference.crossEntropy(
            logits.doubles, [n, v], .indices(labels.map { Int($0) }), CrossEntropyOptions())
        let tolerance = Tolerance.of(Float.self)
        #expect(tolerance.accepts(whole.loss, reference.loss))
        #expect(perRank.map(\.shard.range) == [0..<3, 3..<5])
        for (rank, result) in perRank.enumerated() {
            #expect(
                tolerance.accepts(result.reduced.loss, whole.loss), "rank \(rank): \(result.reduced) vs \(whole.loss)")
            #expect(tolerance.accepts(result.reduced.loss, reference.loss), "rank \(rank) against float64")
            #expect(result.reduced.zLoss == 0)
            // Its gradient is its columns of the whole gradient.
            let range = result.shard.range
            let columns = (0..<n).flatMap { row in range.map { whole.gradient!.scalars[row * v + $0] } }
            let referenceColumns = (0..<n).flatMap { row in range.map { reference.gradient[row * v + $0] } }
            #expect(mismatches(result.gradient, columns.doubles, tolerance).isEmpty, "rank \(rank) gradient")
            #expect(mismatches(result.gradient, referenceColumns, tolerance).isEmpty, "rank \(rank) vs float64")
        }
    }

    @Test func vocabularyParallelLinearCrossEntropy() throws {
        // docs: DistributedSchemes.md
        let (n, d, v) = (4, 3, 6)
        let hidden = (0..<(n * d)).map { Float($0 % 5) / 5 - 0.4 }  // [n, d] on every rank
        let weight = (0..<(v * d)).map { Float(($0 * 3) % 7) / 7 - 0.5 }  // [v, d]: the whole head
        let tokens: [Int32] = [5, 0, 2, 5]

        let perRank = try LocalCommunicatorGroup.run(size: 2) { communicator in
            let shard = ClassShard.even(totalClasses: v, rank: communicator.rank, size: communicator.size)
            let rows = Array(weight[(shard.start * d)..<((shard.start + shard.count) * d)])  // [shard.count, d]
            let measured = MeasuredCommunicator(communicator)
            var dHidden = [Float](repeating: 0, count: n * d)
            var dWeight = [Float](repeating: 0, count: shard.count * d)
            let reduced = try hidden.withUnsafeBufferPointer { h in
                try rows.withUnsafeBufferPointer { w in
                    try tokens.withUnsafeBufferPointer { t in
                        try dHidden.withUnsafeMutableBufferPointer { dh in
                            try dWeight.withUnsafeMutableBufferPointer { dw in
                                try vocabParallelLinearCrossEntropy(
                                    hidden: h, hiddenShape: [n, d], weight: w, weightShape: [shard.count, d],
                                    shard: shard, classIndices: t, communicator: measured,
                                    outputs: LinearCrossEntropyOutputs(hiddenGradient: dh, weightGradient: dw))
                            }
                        }
                    }
                }
            }
            print("rank \(communicator.rank): \(measured.allReduceCalls) allreduces, \(measured.allReduceBytes) bytes")
            return (
                shard: shard, reduced: reduced, dHidden: dHidden, dWeight: dWeight, calls: measured.allReduceCalls,
                bytes: measured.allReduceBytes
            )
        }
        // docs: end
        // The single-process call with the whole weight.
        let whole = try linearCrossEntropy(
            hidden: NDArray(shape: [n, d], scalars: hidden), weight: NDArray(shape: [v, d], scalars: weight),
            classIndices: NDArray(shape: [n], scalars: tokens))
        // The float64 reference: the logits formed in full, a log-sum-exp per row, G·W and Gᵀ·H.
        let (h, w) = (hidden.doubles, weight.doubles)
        let logits = Reference.linearLogits(hidden: h, weight: w, bias: nil, n: n, d: d, v: v)
        var lossSum = 0.0
        var g = [Double](repeating: 0, count: n * v)
        for r in 0..<n {
            let z = Array(logits[(r * v)..<((r + 1) * v)])
            let lse = Reference.logSumExp(z)
            lossSum += lse - z[Int(tokens[r])]
            for c in 0..<v { g[r * v + c] = (exp(z[c] - lse) - (c == Int(tokens[r]) ? 1 : 0)) / Double(n) }
        }
        let (dHidden, dWeight, _) = Reference.linearBackward(g, hidden: h, weight: w, n: n, d: d, v: v)
        let tolerance = Tolerance.of(Float.self)
        #expect(tolerance.accepts(whole.loss, lossSum / Double(n)))
        #expect(perRank.map(\.shard.range) == [0..<3, 3..<6])
        for (rank, result) in perRank.enumerated() {
            let range = result.shard.range
            #expect(tolerance.accepts(result.reduced.loss, lossSum / Double(n)), "rank \(rank): \(result.reduced)")
            #expect(tolerance.accepts(result.reduced.loss, whole.loss), "rank \(rank): against the gathered call")
            #expect(result.reduced.zLoss == 0)
            // dHidden: the whole gradient on every rank; dWeight: this rank's rows.
            #expect(mismatches(result.dHidden, dHidden, tolerance).isEmpty, "rank \(rank) dHidden")
            #expect(mismatches(result.dHidden, whole.hiddenGradient!.scalars.doubles, tolerance).isEmpty)
            let rows = Array(dWeight[(range.lowerBound * d)..<(range.upperBound * d)])
            #expect(mismatches(result.dWeight, rows, tolerance).isEmpty, "rank \(rank) dWeight")
            // What the article says it sends: two Doubles (the agreed chunk size, Σ target
            // weights); for the one chunk N maxima, 2N + 1 sums and N losses; N·D for dHidden.
            #expect(result.calls == 2 + 3 + 1, "rank \(rank): \(result.calls) allreduces")
            let floats = n + (2 * n + 1) + n + n * d
            #expect(result.bytes == 2 * 8 + floats * 4, "rank \(rank): \(result.bytes) bytes")
        }
    }

    @Test func dataParallelTraining() throws {
        // docs: DistributedSchemes.md
        var settings = TrainingSettings()
        settings.epochs = 2
        let data = try PreparedData(DataRequest(), test: nil, settings: settings, classNames: nil)  // the digits
        let runs = try LocalCommunicatorGroup.run(size: 2) { communicator in
            let trainer = Trainer(settings: settings, gradientReducer: CommunicatorGradientReducer(communicator))
            return try trainer.train(
                data.dataset, samples: data.trainSamples, testSet: data.testSet, testSamples: data.testSamples,
                data: data.description)
        }
        print(runs[0].test!.accuracy)  // rank 1 holds the same model and figures
        // docs: end
        #expect(runs[0].model.layers == runs[1].model.layers)
        #expect(runs[0].test?.confusion == runs[1].test?.confusion)
        // The one-process trainer on the same data and settings: the same training up to the
        // order of summation.
        let alone = try Trainer(settings: settings).train(
            data.dataset, samples: data.trainSamples, testSet: data.testSet, testSamples: data.testSamples,
            data: data.description)
        let together = runs[0].model.training!.history
        let oneProcess = alone.model.training!.history
        #expect(together.count == 2 && oneProcess.count == 2)
        for (a, b) in zip(together, oneProcess) {
            #expect(abs(a.trainLoss - b.trainLoss) <= 1e-5 * abs(b.trainLoss), "epoch \(a.epoch)")
            #expect(a.testAccuracy == b.testAccuracy, "epoch \(a.epoch)")
        }
        #expect(runs[0].test?.confusion == alone.test?.confusion)
        #expect(runs[0].test!.accuracy == alone.test!.accuracy)
        // Both ranks' models predict the test set as the one-process model does.
        let predicted = try Predictor(model: runs[0].model).evaluate(
            data.testSet, samples: data.testSamples, ignoreIndex: nil)
        #expect(predicted.confusion == alone.test?.confusion)
    }
}
