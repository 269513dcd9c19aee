import Foundation
import Softmax
import SoftmaxCommandLine
import Testing

// The 31 LLM cases of shared/conformance/llm (logit transforms on `softmax loss`, the fused
// `softmax linear-loss`), PyTorch's float64 results, run in-process as check.py runs them.
// Every case must pass.

@Suite("LLM conformance (in-process)")
struct LLMConformanceTests {
    @Test("all 31 LLM cases are bundled")
    func caseCount() throws {
        #expect(conformanceCaseNames("llm").count == 31)
    }

    @Test("LLM case", arguments: conformanceCaseNames("llm"))
    func llmCase(_ name: String) throws {
        try runConformanceCase("llm", name)
    }
}

/// `softmax linear-loss` on what the conformance cases do not cover.
@Suite("linear-loss command")
struct LinearLossCommandTests {
    /// A bias gradient without a bias, and a bias of another float type, are `error:` lines;
    /// `--memory-budget` of one row gives the unchunked loss.
    @Test func biasRulesAndChunking() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let hidden = try tmp.write(
            try NPYArray(shape: [3, 2], scalars: [Float(0.5), -1, 2, 0.25, -0.75, 1]), "h.npy")
        let weight = try tmp.write(
            try NPYArray(shape: [4, 2], scalars: [Float(0.1), 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8]), "w.npy")
        let labels = try tmp.write(try NPYArray(shape: [3], scalars: [Int64(0), 3, 1]), "t.npy")
        let doubleBias = try tmp.write(try NPYArray(shape: [4], scalars: [0.1, 0.2, 0.3, 0.4]), "b64.npy")

        let noBias = try runSoftmax(
            ["linear-loss", hidden, weight, labels, "--grad-bias-output", tmp.path("gb.npy")])
        #expect(noBias.status == 1 && noBias.stderr.hasPrefix("error:") && noBias.stderr.contains("--bias"))
        let mixed = try runSoftmax(["linear-loss", hidden, weight, labels, "--bias", doubleBias])
        #expect(mixed.status == 1 && mixed.stderr.contains("bias holds float64"), "\(mixed.stderr)")

        // The loss in float64 from the definition: logits = h·Wᵀ, mean of −log softmax.
        let h: [[Double]] = [[0.5, -1], [2, 0.25], [-0.75, 1]]
        let w: [[Double]] = [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6], [0.7, 0.8]]
        let t = [0, 3, 1]
        var want = 0.0
        for r in 0..<3 {
            let logits = w.map { Double(Float($0[0] * h[r][0] + $0[1] * h[r][1])) }
            let top = logits.max()!
            want += (log(logits.map { exp($0 - top) }.reduce(0, +)) + top - logits[t[r]]) / 3
        }
        for budget in ["16", "64", "1000000"] {
            let run = try runSoftmax(["linear-loss", hidden, weight, labels, "--memory-budget", budget])
            let got = Double(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
            #expect(run.status == 0 && Swift.abs(got - want) < 1e-6, "budget \(budget): \(run.stdout) vs \(want)")
        }
    }
}
