import Foundation
import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

/// The code of `PortingFromCaffe.md` (SoftmaxLayers' DocC catalog), region by region, each
/// followed by checks against references written out here in Double: log-sum-exp, softmax,
/// `(p − onehot) / norm`, PyTorch's weighted and smoothed loss, the logit transforms, and
/// Caffe's SGD update.
@Suite("Porting from Caffe article")
struct PortingFromCaffeArticleTests {
    /// The scores of four samples over three classes and Caffe's float labels (the third
    /// sample carries the ignore label 255), as the article's loss section builds them.
    static let scoreValues: [Float] = [2, 1, 0.1, 0.5, 2.5, -1, 1, 1, 1, -0.5, 0.3, 3]
    static let labelValues: [Float] = [0, 1, 255, 2]

    /// The article's `scores`, `labels` and `loss` blobs, for the sections after the first
    /// loss section.
    static func batch() throws -> (scores: Blob<Float>, labels: Blob<Float>, loss: Blob<Float>) {
        (
            try Blob<Float>(shape: [4, 3], data: scoreValues), try Blob<Float>(shape: [4], data: labelValues),
            try Blob<Float>(shape: [])
        )
    }

    /// The labelled samples of the batch: (row of scores in Double, class).
    static var labelled: [(scores: [Double], label: Int)] {
        (0..<4).compactMap { n in
            labelValues[n] == 255 ? nil : (rowOf(scoreValues, n, width: 3), Int(labelValues[n]))
        }
    }

    @Test func blob() throws {
        // docs: PortingFromCaffe.md
        let blob = try Blob<Float>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        print(blob.shape, blob.count)  // [2, 3] 6
        try blob.reshape([3, 2])  // the same count: the values are kept
        print(blob.data, blob.diff)  // 1…6, and six zeros
        // docs: end
        #expect(blob.shape == [3, 2])
        #expect(blob.data == [1, 2, 3, 4, 5, 6])
        #expect(blob.diff == [Float](repeating: 0, count: 6))
        try blob.reshape([4, 2])  // a new count: both arrays are zero-filled
        #expect(blob.data == [Float](repeating: 0, count: 8) && blob.diff.count == 8)
    }

    @Test func softmaxLayer() throws {
        // docs: PortingFromCaffe.md
        let softmax = SoftmaxLayer(axis: 1)
        let logits = try Blob<Float>(shape: [2, 3], data: [1, 2, 3, 1, 1, 1])
        let probabilities = try Blob<Float>(shape: [])
        try softmax.forward(bottom: [logits], top: [probabilities])
        print(probabilities.shape, probabilities.data)  // [2, 3]; each row sums to 1
        probabilities.diff = [1, 0, 0, 0, 0, 0]  // the gradient from the layer above
        try softmax.backward(top: [probabilities], bottom: [logits])
        print(logits.diff)  // y ⊙ (dy − Σ dy·y), row by row
        // docs: end
        #expect(probabilities.shape == [2, 3])
        let y = (0..<2).map { Reference.softmax(rowOf([1, 2, 3, 1, 1, 1], $0, width: 3), [3], 0) }
        #expect(mismatches(probabilities.data, y.flatMap { $0 }, .of(Float.self)).isEmpty)
        for n in 0..<2 {
            let sum = probabilities.data[(3 * n)..<(3 * n + 3)].reduce(0, +)
            #expect(abs(sum - 1) < 1e-6)
        }
        #expect(abs(Double(probabilities.data[3]) - 1.0 / 3) < 1e-7)
        let dy: [[Double]] = [[1, 0, 0], [0, 0, 0]]
        let dx = (0..<2).flatMap { n in
            let dot = zip(dy[n], y[n]).map { $0 * $1 }.reduce(0, +)
            return (0..<3).map { c in y[n][c] * (dy[n][c] - dot) }
        }
        #expect(mismatches(logits.diff, dx, .of(Float.self)).isEmpty)
    }

    @Test func softmaxWithLoss() throws {
        // docs: PortingFromCaffe.md
        let scores = try Blob<Float>(shape: [4, 3], data: [2, 1, 0.1, 0.5, 2.5, -1, 1, 1, 1, -0.5, 0.3, 3])
        let labels = try Blob<Float>(shape: [4], data: [0, 1, 255, 2])  // the third sample is ignored
        let loss = try Blob<Float>(shape: [])
        let layer = try SoftmaxWithLossLayer<Float>(axis: 1, ignoreLabel: 255, normalization: .valid)
        try layer.forward(bottom: [scores, labels], top: [loss])
        try layer.backward(top: [loss], propagateDown: [true, false], bottom: [scores, labels])
        print(loss.data[0])  // the mean loss of the three labelled samples
        print(scores.diff)  // (p − onehot) / 3, and 0 in the ignored sample's row
        // docs: end
        #expect(scores.data == Self.scoreValues && labels.data == Self.labelValues)
        let want = Self.labelled.map { Reference.logSumExp($0.scores) - $0.scores[$0.label] }.reduce(0, +) / 3
        #expect(Tolerance.of(Float.self).accepts(Double(loss.data[0]), want))
        #expect(mismatches(scores.diff, unitGradient(normalizer: 3), .of(Float.self)).isEmpty)
        #expect(scores.diff[6..<9].allSatisfy { $0 == 0 })
    }

    @Test func twoTopsAndLossWeight() throws {
        let (scores, labels, loss) = try Self.batch()
        // docs: PortingFromCaffe.md
        let probabilities = try Blob<Float>(shape: [])
        let twoTops = try SoftmaxWithLossLayer<Float>(ignoreLabel: 255, lossWeights: [2, 0])
        let weighted = try twoTops.forward(bottom: [scores, labels], top: [loss, probabilities])
        try twoTops.backward(top: [loss, probabilities], bottom: [scores, labels])
        print(weighted, loss.data[0], loss.diff[0])  // 2 × the loss, the loss, 2
        print(probabilities.shape)  // [4, 3]: the softmax of every sample, the ignored one too
        print(scores.diff)  // 2 · (p − onehot) / 3
        // docs: end
        let want = Self.labelled.map { Reference.logSumExp($0.scores) - $0.scores[$0.label] }.reduce(0, +) / 3
        let tolerance = Tolerance.of(Float.self)
        #expect(tolerance.accepts(weighted, 2 * want))
        #expect(tolerance.accepts(Double(loss.data[0]), want))
        #expect(loss.diff == [2])
        #expect(probabilities.shape == [4, 3])
        #expect(
            mismatches(
                probabilities.data,
                (0..<4).flatMap { Reference.softmax(rowOf(Self.scoreValues, $0, width: 3), [3], 0) }, .of(Float.self)
            ).isEmpty)
        #expect(mismatches(scores.diff, unitGradient(normalizer: 3).map { 2 * $0 }, .of(Float.self)).isEmpty)
    }

    @Test func normalization() throws {
        let (scores, labels, loss) = try Self.batch()
        // docs: PortingFromCaffe.md
        let legacy = try SoftmaxWithLossLayer<Float>(ignoreLabel: 255, normalize: false)
        print(legacy.normalization)  // batchSize, as Caffe reads normalize: false
        try legacy.forward(bottom: [scores, labels], top: [loss])
        print(loss.data[0])  // the summed loss of the labelled samples / 4
        // docs: end
        let sum = Self.labelled.map { Reference.logSumExp($0.scores) - $0.scores[$0.label] }.reduce(0, +)
        let tolerance = Tolerance.of(Float.self)
        #expect(legacy.normalization == .batchSize)
        #expect(tolerance.accepts(Double(loss.data[0]), sum / 4))
        #expect(try SoftmaxWithLossLayer<Float>(normalize: true).normalization == .valid)
        #expect(try SoftmaxWithLossLayer<Float>().normalization == .valid)
        // The table's denominators: VALID the labelled samples, FULL every sample, BATCH_SIZE
        // the outer count, NONE nothing.
        let denominators: [(SoftmaxWithLossLayer<Float>.Normalization, Double)] = [
            (.valid, 3), (.full, 4), (.batchSize, 4), (.none, 1),
        ]
        for (mode, denominator) in denominators {
            let layer = try SoftmaxWithLossLayer<Float>(ignoreLabel: 255, normalization: mode)
            try layer.forward(bottom: [scores, labels], top: [loss])
            try layer.backward(top: [loss], bottom: [scores, labels])
            #expect(tolerance.accepts(Double(loss.data[0]), sum / denominator), "\(mode)")
            #expect(mismatches(scores.diff, unitGradient(normalizer: denominator), .of(Float.self)).isEmpty, "\(mode)")
        }
    }

    @Test func pyTorchExtras() throws {
        let (scores, labels, loss) = try Self.batch()
        // docs: PortingFromCaffe.md
        let pytorch = try SoftmaxWithLossLayer<Float>(
            ignoreLabel: 255, classWeights: [1, 2, 0.5], labelSmoothing: 0.1)
        try pytorch.forward(bottom: [scores, labels], top: [loss])
        print(loss.data[0])  // cross_entropy(weight=[1, 2, 0.5], ignore_index=255, label_smoothing=0.1)
        // docs: end
        // PyTorch: ℓ = −(1−ε)·w_t·logp_t − (ε/C)·Σ_c w_c·logp_c, divided by Σ w_t.
        let weights = [1, 2, 0.5]
        var sum = 0.0
        var weightSum = 0.0
        for (row, t) in Self.labelled {
            let logp = row.map { $0 - Reference.logSumExp(row) }
            sum -= 0.9 * weights[t] * logp[t] + 0.1 / 3 * (0..<3).map { weights[$0] * logp[$0] }.reduce(0, +)
            weightSum += weights[t]
        }
        #expect(Tolerance.of(Float.self).accepts(Double(loss.data[0]), sum / weightSum))

        // docs: PortingFromCaffe.md
        let llm = try SoftmaxWithLossLayer<Float>(ignoreLabel: 255, temperature: 2, softcap: 30, zLoss: 1e-4)
        try llm.forward(bottom: [scores, labels], top: [loss])
        print(loss.data[0])  // the loss of 30·tanh(scores / 2 / 30), plus 1e-4 · lse² per labelled sample
        // docs: end
        var total = 0.0
        for (row, t) in Self.labelled {
            let s = row.map { 30 * tanh($0 / 2 / 30) }
            let lse = Reference.logSumExp(s)
            total += (lse - s[t]) + 1e-4 * lse * lse
        }
        #expect(Tolerance.of(Float.self).accepts(Double(loss.data[0]), total / 3))
    }

    @Test func differencesFromCaffe() throws {
        let (scores, labels, loss) = try Self.batch()
        let layer = try SoftmaxWithLossLayer<Float>(axis: 1, ignoreLabel: 255, normalization: .valid)
        // docs: PortingFromCaffe.md
        let badLabels = try Blob<Float>(shape: [4], data: [0, 1, 3, 2])  // 3 is no class of 3
        do {
            try layer.forward(bottom: [scores, badLabels], top: [loss])
        } catch {
            print(error)  // label 3 at position (2,) is outside 0..<3 …
        }
        do {
            try layer.backward(top: [loss], propagateDown: [true, true], bottom: [scores, labels])
        } catch LayerError.cannotBackpropagateToLabels {
            print("labels have no gradient: propagate_down must be false for them")
        }
        // docs: end
        let error = #expect(throws: SoftmaxError.self) {
            try layer.forward(bottom: [scores, badLabels], top: [loss])
        }
        guard case .labelOutOfRange("3", [2], 3) = error else {
            Issue.record("expected labelOutOfRange for label 3 at [2], got \(String(describing: error))")
            return
        }
        // A fractional label is an error too (Caffe would truncate it).
        let fractional = try Blob<Float>(shape: [4], data: [0, 1.5, 255, 2])
        #expect(throws: SoftmaxError.labelNotWhole(value: 1.5, position: [1])) {
            try layer.forward(bottom: [scores, fractional], top: [loss])
        }
        // Log-sum-exp, not −log(max(p, FLT_MIN)): a loss of 200 is 200, not Caffe's 87.3365.
        let confident = try Blob<Float>(shape: [1, 2], data: [0, 200])
        try layer.forward(bottom: [confident, try Blob<Float>(shape: [1], data: [0])], top: [loss])
        #expect(Tolerance.of(Float.self).accepts(Double(loss.data[0]), Reference.logSumExp([0, 200]) - 0))
        try layer.forward(bottom: [scores, labels], top: [loss])
        #expect(throws: LayerError.cannotBackpropagateToLabels) {
            try layer.backward(top: [loss], propagateDown: [true, true], bottom: [scores, labels])
        }
    }

    @Test func layersAndSolver() throws {
        // docs: PortingFromCaffe.md
        var generator = SplitMix64(seed: 42)
        let ip1 = try InnerProductLayer(inputs: 4, outputs: 8, generator: &generator)  // xavier filler
        let relu = ReLULayer()
        let ip2 = try InnerProductLayer(inputs: 8, outputs: 3, generator: &generator)
        let lossLayer = try SoftmaxWithLossLayer<Float>()
        let solver = try SGDSolver(
            parameters: [ip1, ip2].flatMap {
                [SGDSolver.Parameter($0.weights), SGDSolver.Parameter($0.bias, rateMultiplier: 2, decayMultiplier: 0)]
            },
            learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4, policy: .step(stepSize: 100, gamma: 0.1))

        // docs: end
        // Caffe's xavier filler (FAN_IN): uniform in ±√(3 / inputs); the bias starts at 0.
        for layer in [ip1, ip2] {
            let limit = Float((3 / Double(layer.inputs)).squareRoot())
            #expect(layer.weights.shape == [layer.outputs, layer.inputs])
            #expect(layer.weights.data.allSatisfy { abs($0) <= limit } && Set(layer.weights.data).count > 1)
            #expect(layer.bias.data == [Float](repeating: 0, count: layer.outputs))
        }
        #expect(solver.learningRate == 0.1 && solver.parameters.map(\.decayMultiplier) == [1, 0, 1, 0])

        // docs: PortingFromCaffe.md
        let data = try Blob<Float>(
            shape: [6, 4],
            data: [1, 0, 0, 0.5, 0, 1, 0.5, 0, 0.5, 0, 1, 0, 0.9, 0.1, 0, 0.4, 0, 0.8, 0.6, 0, 0.4, 0, 0.9, 0.1])
        let label = try Blob<Float>(shape: [6], data: [0, 1, 2, 0, 1, 2])
        let hidden = try Blob<Float>(shape: [])
        let scores = try Blob<Float>(shape: [])
        let loss = try Blob<Float>(shape: [])
        for iteration in 0..<150 {
            try ip1.forward(bottom: [data], top: [hidden])
            try relu.forward(bottom: [hidden], top: [hidden])  // in place, as Caffe allows
            try ip2.forward(bottom: [hidden], top: [scores])
            try lossLayer.forward(bottom: [scores, label], top: [loss])
            try lossLayer.backward(top: [loss], bottom: [scores, label])
            try ip2.backward(top: [scores], bottom: [hidden])
            try relu.backward(top: [hidden], bottom: [hidden])
            try ip1.backward(top: [hidden], propagateDown: false, bottom: [data])  // no gradient for the data
            if iteration % 50 == 0 { print(iteration, loss.data[0]) }
            solver.step()  // updates the weights and clears every diff
        }
        // docs: end
        #expect(solver.iteration == 150)
        #expect(solver.learningRate == 0.1 * pow(0.1, Double(150 / 100)))
        #expect(
            [ip1, ip2].allSatisfy { $0.weights.diff.allSatisfy { $0 == 0 } && $0.bias.diff.allSatisfy { $0 == 0 } })

        // The trained net, recomputed by hand in Double: y = max(x·W1ᵀ + b1, 0)·W2ᵀ + b2.
        func dense(_ x: [Double], _ layer: InnerProductLayer) -> [Double] {
            var y: [Double] = []
            for o in 0..<layer.outputs {
                var sum = Double(layer.bias.data[o])
                for i in 0..<layer.inputs { sum += Double(layer.weights.data[o * layer.inputs + i]) * x[i] }
                y.append(sum)
            }
            return y
        }
        var lossSum = 0.0
        for n in 0..<6 {
            let h = dense(rowOf(data.data, n, width: 4), ip1).map { max($0, 0) }
            let s = dense(h, ip2)
            let t = Int(label.data[n])
            lossSum += Reference.logSumExp(s) - s[t]
            #expect(s.indices.max { s[$0] < s[$1] } == t, "sample \(n) is misclassified")
        }
        try ip1.forward(bottom: [data], top: [hidden])
        try relu.forward(bottom: [hidden], top: [hidden])
        try ip2.forward(bottom: [hidden], top: [scores])
        try lossLayer.forward(bottom: [scores, label], top: [loss])
        #expect(Tolerance(rtol: 1e-4, atol: 1e-5).accepts(Double(loss.data[0]), lossSum / 6))
        #expect(lossSum / 6 < 0.1 * log(3.0), "the loss should fall well below log 3 (chance)")

        // One more step from a fresh solver (no momentum history yet) is Caffe's update:
        // data −= rate · lr_mult · (diff + weight_decay · decay_mult · data).
        try lossLayer.backward(top: [loss], bottom: [scores, label])
        try ip2.backward(top: [scores], bottom: [hidden])
        let parameters = [ip2.weights, ip2.bias]
        let before = parameters.map { zip($0.data, $0.diff).map { (Double($0), Double($1)) } }
        let fresh = try SGDSolver(
            parameters: [
                SGDSolver.Parameter(ip2.weights), SGDSolver.Parameter(ip2.bias, rateMultiplier: 2, decayMultiplier: 0),
            ],
            learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
        fresh.step()
        let multipliers: [(rate: Double, decay: Double)] = [(1, 1), (2, 0)]
        for (index, blob) in parameters.enumerated() {
            let (rate, decay) = multipliers[index]
            let want = before[index].map { data, diff in data - 0.1 * rate * (diff + 5e-4 * decay * data) }
            #expect(mismatches(blob.data, want, .of(Float.self)).isEmpty)
            #expect(blob.diff.allSatisfy { $0 == 0 })
        }
    }
}

/// Row `n` of a row-major array `width` wide, in Double.
private func rowOf(_ values: [Float], _ n: Int, width: Int) -> [Double] {
    values[(n * width)..<((n + 1) * width)].map(Double.init)
}

/// `(p − onehot) / normalizer` for the article's batch, 0 in the ignored sample's row.
private func unitGradient(normalizer: Double) -> [Double] {
    (0..<4).flatMap { n -> [Double] in
        let label = PortingFromCaffeArticleTests.labelValues[n]
        guard label != 255 else { return [0, 0, 0] }
        let p = Reference.softmax(rowOf(PortingFromCaffeArticleTests.scoreValues, n, width: 3), [3], 0)
        return (0..<3).map { c in (p[c] - (c == Int(label) ? 1 : 0)) / normalizer }
    }
}
