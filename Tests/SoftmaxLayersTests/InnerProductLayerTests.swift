import Foundation
import Softmax
import SoftmaxLayers
import SoftmaxTestSupport
import Testing

@Suite("InnerProduct and ReLU layers")
struct InnerProductLayerTests {
    /// `y = x·Wᵀ + b` in Double.
    func reference(_ x: [Float], _ w: [Float], _ b: [Float], samples: Int, inputs: Int, outputs: Int) -> [Double] {
        var y = [Double](repeating: 0, count: samples * outputs)
        for n in 0..<samples {
            for o in 0..<outputs {
                var s = Double(b[o])
                for i in 0..<inputs { s += Double(x[n * inputs + i]) * Double(w[o * inputs + i]) }
                y[n * outputs + o] = s
            }
        }
        return y
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 2), (4, 37, 10), (2, 64, 3)])
    func forwardMatchesFloat64(samples: Int, inputs: Int, outputs: Int) throws {
        var rng = SplitMix64(seed: UInt64(samples * 1000 + inputs * 10 + outputs))
        let layer = try InnerProductLayer(inputs: inputs, outputs: outputs, generator: &rng)
        layer.bias.data = (0..<outputs).map { _ in Float(rng.gaussian()) }
        let x = (0..<(samples * inputs)).map { _ in Float(rng.gaussian()) }
        let bottom = try Blob<Float>(shape: [samples, inputs], data: x)
        let top = try Blob<Float>(shape: [0])
        try layer.forward(bottom: [bottom], top: [top])
        #expect(top.shape == [samples, outputs])
        let want = reference(x, layer.weights.data, layer.bias.data, samples: samples, inputs: inputs, outputs: outputs)
        for (got, want) in zip(top.data, want) { #expect(abs(Double(got) - want) <= 1e-5 * max(1, abs(want))) }
    }

    @Test func xavierFillerBounds() throws {
        var rng = SplitMix64(seed: 1)
        let layer = try InnerProductLayer(inputs: 48, outputs: 20, generator: &rng)
        let limit = Float((3.0 / 48).squareRoot())
        #expect(layer.weights.data.allSatisfy { abs($0) <= limit })
        #expect(layer.weights.data.contains { abs($0) > limit / 2 })  // spread, not all near 0
        #expect(layer.bias.data.allSatisfy { $0 == 0 })
    }

    /// The objective `Σ r ⊙ top` has `top.diff = r`; its finite differences with respect to the
    /// weights, the bias and the bottom must match what `backward` writes (Caffe's checker:
    /// step 1e-2, threshold 1e-3 relative to max(|a|, |b|, 1)).
    @Test func gradientsMatchFiniteDifferences() throws {
        var rng = SplitMix64(seed: 7)
        let (samples, inputs, outputs) = (3, 6, 4)
        let layer = try InnerProductLayer(inputs: inputs, outputs: outputs, generator: &rng)
        layer.bias.data = (0..<outputs).map { _ in Float(rng.gaussian()) }
        let bottom = try Blob<Float>(
            shape: [samples, inputs], data: (0..<(samples * inputs)).map { _ in Float(rng.gaussian()) })
        let r = (0..<(samples * outputs)).map { _ in Double(rng.gaussian()) }
        let top = try Blob<Float>(shape: [0])
        func objective() throws -> Double {
            try layer.forward(bottom: [bottom], top: [top])
            return zip(top.data, r).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
        _ = try objective()
        top.diff = r.map { Float($0) }
        try layer.backward(top: [top], propagateDown: true, bottom: [bottom])
        let step: Float = 1e-2
        for blob in [layer.weights, layer.bias, bottom] {
            let computed = blob.diff
            for i in 0..<blob.count {
                let original = blob.data[i]
                blob.data[i] = original + step
                let plus = try objective()
                blob.data[i] = original - step
                let minus = try objective()
                blob.data[i] = original
                let estimate = (plus - minus) / Double(2 * step)
                let scale = max(abs(estimate), abs(Double(computed[i])), 1)
                #expect(abs(estimate - Double(computed[i])) <= 1e-3 * scale, "element \(i)")
            }
        }
    }

    @Test func backwardAccumulatesParameterDiffs() throws {
        var rng = SplitMix64(seed: 3)
        let layer = try InnerProductLayer(inputs: 3, outputs: 2, generator: &rng)
        let bottom = try Blob<Float>(shape: [2, 3], data: [1, 2, 3, -1, 0, 2])
        let top = try Blob<Float>(shape: [0])
        try layer.forward(bottom: [bottom], top: [top])
        top.diff = [1, 0, 0, 2]
        try layer.backward(top: [top], propagateDown: false, bottom: [bottom])
        // dW = dYᵀ·X: row 0 = 1·[1,2,3], row 1 = 2·[-1,0,2].
        #expect(layer.weights.diff == [1, 2, 3, -2, 0, 4])
        #expect(layer.bias.diff == [1, 2])
        try layer.backward(top: [top], propagateDown: false, bottom: [bottom])
        #expect(layer.weights.diff == [2, 4, 6, -4, 0, 8])  // added, as Caffe
    }

    @Test func wrongBottomSizeThrows() throws {
        var rng = SplitMix64(seed: 3)
        let layer = try InnerProductLayer(inputs: 3, outputs: 2, generator: &rng)
        let bottom = try Blob<Float>(shape: [2, 4])
        #expect(throws: SoftmaxError.self) { try layer.forward(bottom: [bottom], top: [try Blob<Float>(shape: [0])]) }
        #expect(throws: (any Error).self) { try InnerProductLayer(inputs: 0, outputs: 2, generator: &rng) }
        #expect(throws: (any Error).self) {
            try InnerProductLayer(inputs: 2, outputs: 2, weights: [1, 2, 3], bias: [0, 0])
        }
    }

    @Test func reluForwardAndBackward() throws {
        let relu = ReLULayer()
        let bottom = try Blob<Float>(shape: [5], data: [-2, -0.5, 0, 0.5, 3])
        let top = try Blob<Float>(shape: [0])
        try relu.forward(bottom: [bottom], top: [top])
        #expect(top.data == [0, 0, 0, 0.5, 3])
        top.diff = [1, 2, 3, 4, 5]
        try relu.backward(top: [top], bottom: [bottom])
        #expect(bottom.diff == [0, 0, 0, 4, 5])
        // In place (top === bottom): the mask comes from the output, which is > 0 exactly where the input was.
        let blob = try Blob<Float>(shape: [3], data: [-1, 2, 0])
        try relu.forward(bottom: [blob], top: [blob])
        #expect(blob.data == [0, 2, 0])
        blob.diff = [7, 8, 9]
        try relu.backward(top: [blob], bottom: [blob])
        #expect(blob.diff == [0, 8, 0])
    }
}

@Suite("SGD solver (Caffe semantics)")
struct SGDSolverTests {
    @Test func updatesFollowCaffesFormulas() throws {
        let weights = try Blob<Float>(shape: [3], data: [1, -2, 0.5])
        let bias = try Blob<Float>(shape: [1], data: [0.25])
        let (lr, momentum, decay) = (0.1, 0.9, 0.01)
        let solver = try SGDSolver(
            parameters: [.init(weights), .init(bias, decayMultiplier: 0)], learningRate: lr, momentum: momentum,
            weightDecay: decay)
        var w = weights.data.map(Double.init)
        var b = Double(bias.data[0])
        var hw = [Double](repeating: 0, count: 3)
        var hb = 0.0
        let gradients: [([Double], Double)] = [([0.5, -1, 2], 1), ([-0.25, 0.75, 0], -0.5), ([1, 1, 1], 0.125)]
        for (gw, gb) in gradients {
            weights.diff = gw.map { Float($0) }
            bias.diff = [Float(gb)]
            solver.step()
            for i in 0..<3 {
                hw[i] = momentum * hw[i] + lr * (gw[i] + decay * w[i])
                w[i] -= hw[i]
            }
            hb = momentum * hb + lr * gb  // no decay on the bias
            b -= hb
            for i in 0..<3 { #expect(abs(Double(weights.data[i]) - w[i]) < 1e-6) }
            #expect(abs(Double(bias.data[0]) - b) < 1e-6)
            #expect(weights.diff == [0, 0, 0] && bias.diff == [0])  // cleared for the next iteration
        }
        #expect(solver.iteration == 3)
    }

    @Test func learningRatePolicies() throws {
        let blob = try Blob<Float>(shape: [1])
        let step = try SGDSolver(parameters: [.init(blob)], learningRate: 0.1, policy: .step(stepSize: 2, gamma: 0.5))
        var rates: [Double] = []
        for _ in 0..<5 {
            rates.append(step.learningRate)
            step.step()
        }
        #expect(rates == [0.1, 0.1, 0.05, 0.05, 0.025])
        let inverse = try SGDSolver(
            parameters: [.init(blob)], learningRate: 0.01, policy: .inverse(gamma: 1e-4, power: 0.75))
        for _ in 0..<100 { inverse.step() }
        #expect(abs(inverse.learningRate - 0.01 * Foundation.pow(1 + 1e-4 * 100, -0.75)) < 1e-12)
    }

    @Test func badSettingsThrow() throws {
        let blob = try Blob<Float>(shape: [1])
        #expect(throws: LayerError.self) { try SGDSolver(parameters: [.init(blob)], learningRate: 0) }
        #expect(throws: LayerError.self) { try SGDSolver(parameters: [.init(blob)], learningRate: .nan) }
        #expect(throws: LayerError.self) { try SGDSolver(parameters: [.init(blob)], learningRate: 0.1, momentum: 1) }
        #expect(throws: LayerError.self) {
            try SGDSolver(parameters: [.init(blob)], learningRate: 0.1, weightDecay: -1)
        }
        #expect(throws: LayerError.self) {
            try SGDSolver(parameters: [.init(blob)], learningRate: 0.1, policy: .step(stepSize: 0, gamma: 0.1))
        }
    }
}
