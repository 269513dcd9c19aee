import Softmax
import SoftmaxLayers
import Testing

/// The `Layer` protocol over the two Float layers a network is made of, and the solver's
/// setting rules.  References are computed here in Double, independently of the layers.
@Suite("Layer protocol and solver settings")
struct LayerProtocolTests {
    /// A stack driven only through `any Layer`: inner product → ReLU (in place) → inner
    /// product, forward then backward with `propagateDown` per layer.
    @Test func aStackOfLayersRunsThroughTheProtocol() throws {
        var rng = SplitMix64(seed: 31)
        let (samples, inputs, hidden, outputs) = (3, 4, 5, 2)
        let first = try InnerProductLayer(inputs: inputs, outputs: hidden, generator: &rng)
        let second = try InnerProductLayer(inputs: hidden, outputs: outputs, generator: &rng)
        first.bias.data = (0..<hidden).map { _ in Float(rng.gaussian()) }
        let layers: [any Layer] = [first, ReLULayer(), second]
        #expect(layers.map(\.parameters.count) == [2, 0, 2])
        #expect(layers[0].parameters[0] === first.weights && layers[0].parameters[1] === first.bias)

        let x = (0..<(samples * inputs)).map { _ in Float(rng.gaussian()) }
        let input = try Blob<Float>(shape: [samples, inputs], data: x)
        let activations = try Blob<Float>(shape: [0])
        let scores = try Blob<Float>(shape: [0])
        let blobs = [(input, activations), (activations, activations), (activations, scores)]
        for (layer, (bottom, top)) in zip(layers, blobs) { try layer.forward(bottom: [bottom], top: [top]) }

        // Reference: h = max(x·W1ᵀ + b1, 0), y = h·W2ᵀ + b2, in Double.
        func affine(_ v: [Double], _ layer: InnerProductLayer) -> [Double] {
            (0..<samples).flatMap { n in
                (0..<layer.outputs).map { o in
                    (0..<layer.inputs).reduce(Double(layer.bias.data[o])) {
                        $0 + v[n * layer.inputs + $1] * Double(layer.weights.data[o * layer.inputs + $1])
                    }
                }
            }
        }
        let h = affine(x.map(Double.init), first).map { max($0, 0) }
        let y = affine(h, second)
        #expect(scores.shape == [samples, outputs])
        for (got, want) in zip(scores.data, y) { #expect(abs(Double(got) - want) <= 1e-5 * max(1, abs(want))) }
        #expect(h.contains(0) && h.contains { $0 > 0 })  // the ReLU mask matters below

        // Backward with dy = 1: dW2[o][j] = Σn h[n][j]; dh = Σo W2[o]; dW1 through the mask.
        scores.diff = [Float](repeating: 1, count: scores.count)
        input.diff = [Float](repeating: 7, count: input.count)
        for (index, (layer, (bottom, top))) in zip(layers, blobs).enumerated().reversed() {
            try layer.backward(top: [top], propagateDown: [index > 0], bottom: [bottom])
        }
        for j in 0..<hidden {
            let want = (0..<samples).reduce(0.0) { $0 + h[$1 * hidden + j] }
            for o in 0..<outputs {
                #expect(abs(Double(second.weights.diff[o * hidden + j]) - want) <= 1e-5 * max(1, want))
            }
        }
        for i in 0..<inputs {
            for j in 0..<hidden {
                let dh = (0..<outputs).reduce(0.0) { $0 + Double(second.weights.data[$1 * hidden + j]) }
                let want = (0..<samples).reduce(0.0) {
                    $0 + (h[$1 * hidden + j] > 0 ? dh * Double(x[$1 * inputs + i]) : 0)
                }
                #expect(abs(Double(first.weights.diff[j * inputs + i]) - want) <= 1e-5 * max(1, abs(want)))
            }
        }
        #expect(input.diff.allSatisfy { $0 == 7 }, "propagateDown [false] must leave the data's gradient alone")
    }

    @Test func reluSkipsItsGradientWhenNotPropagating() throws {
        let bottom = try Blob<Float>(shape: [3], data: [-1, 2, 3])
        let top = try Blob<Float>(shape: [0])
        let relu: any Layer = ReLULayer()
        try relu.forward(bottom: [bottom], top: [top])
        top.diff = [5, 6, 7]
        bottom.diff = [9, 9, 9]
        try relu.backward(top: [top], propagateDown: [false], bottom: [bottom])
        #expect(bottom.diff == [9, 9, 9])
        try relu.backward(top: [top], propagateDown: [true], bottom: [bottom])
        #expect(bottom.diff == [0, 6, 7])
    }

    /// Each rule's boundary: the last value allowed and the first refused, plus NaN and ±∞.
    @Test func solverSettingRulesAndTheSolverAgree() throws {
        let cases: [(SGDSolver.Setting, allowed: [Double], refused: [Double], requirement: String)] = [
            (.learningRate, [1e-30, 0.05, 1e6], [0, -1e-30, .nan, .infinity], "must be positive"),
            (.momentum, [0, 0.5, 0.9999], [1, -1e-9, .nan, .infinity], "must be in [0, 1)"),
            (.weightDecay, [0, 1e-3, 10], [-1e-12, .nan, .infinity], "must be 0 or more"),
            (.stepGamma, [1e-9, 0.1, 2], [0, -0.1, .nan, .infinity], "must be positive"),
        ]
        for (setting, allowed, refused, requirement) in cases {
            for value in allowed { #expect(setting.requirement(violatedBy: value) == nil, "\(setting) \(value)") }
            for value in refused {
                #expect(setting.requirement(violatedBy: value) == requirement, "\(setting) \(value)")
                // The solver applies the same rule.
                var (rate, momentum, decay, gamma) = (0.1, 0.9, 0.0, 0.5)
                switch setting {
                case .learningRate: rate = value
                case .momentum: momentum = value
                case .weightDecay: decay = value
                case .stepGamma: gamma = value
                }
                #expect(throws: LayerError.self, "\(setting) \(value)") {
                    try SGDSolver(
                        parameters: [], learningRate: rate, momentum: momentum, weightDecay: decay,
                        policy: .step(stepSize: 1, gamma: gamma))
                }
            }
        }
        #expect(
            throws: LayerError.invalidSolverSetting(name: "learning rate", value: -1, reason: "it must be positive")
        ) { try SGDSolver(parameters: [], learningRate: -1) }
        _ = try SGDSolver(parameters: [], learningRate: 1e-30, momentum: 0, weightDecay: 0)
    }
}
