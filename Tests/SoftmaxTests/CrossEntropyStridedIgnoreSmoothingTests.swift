import Foundation
import SoftmaxTestSupport
import Testing

@testable import Softmax

/// An ignore index together with label smoothing (and class weights) in the strided kernels at
/// the default streaming threshold: an NCHW output of 4 MiB or more, which takes the two-pass
/// kernels with streaming stores for the gradient alone and the general kernel for every
/// output.  With smoothing, an ignored position that the kernel took for an active one would
/// get the smoothing term's loss and gradient; neither option alone shows that.  Against the
/// float64 reference, on every instruction set.
@Suite("Cross-entropy strided: ignore index with label smoothing, streamed")
struct CrossEntropyStridedIgnoreSmoothingTests {
    /// 2 × 8 classes × 250 × 280: 1.12 M elements, 4.5 MB as Float (9 MB as Double).
    static let shape = [2, 8, 250, 280]

    static let cases: [CrossEntropyOptions] = [
        CrossEntropyOptions(axis: 1, reduction: .sum, ignoreIndex: 255, labelSmoothing: 0.1),
        CrossEntropyOptions(
            axis: 1, ignoreIndex: -100, classWeights: [1, 2, 0.5, 1, 3, 0.25, 1.5, 1], labelSmoothing: 0.2,
            lossWeight: 2),
    ]

    func check<T: SoftmaxScalar>(_: T.Type, _ options: CrossEntropyOptions) throws {
        let shape = Self.shape
        let count = shape.reduce(1, *)
        #expect(SoftmaxMemory.streams(byteCount: count * MemoryLayout<T>.size), "test bug: not streamed")
        let positions = count / shape[1]
        var rng = SeededGenerator(seed: 1501)
        let x = rng.gaussians(count, std: 3).map { T($0) }
        let ignore = Int32(options.ignoreIndex!)
        // About one position in six ignored, in runs and alone.
        let labels = (0..<positions).map { p in
            p % 6 == 1 || (p / 512) % 9 == 4 ? ignore : Int32.random(in: 0..<8, using: &rng)
        }
        let want = Reference.crossEntropy(x.doubles, shape, .indices(labels.map(Int.init)), options)
        #expect(want.losses.contains(0) && labels.contains(ignore), "test bug: nothing ignored")
        let tol = tolerance(T.self)
        // The gradient's tolerance in units of its largest element (tiny under the mean).
        let gradientAbs = tol.abs * (want.gradient.map(abs).max() ?? 1)
        let lossesAbs = tol.abs * (want.losses.max() ?? 1)
        let targetShape = [shape[0]] + shape[2...]
        let scores = try NDArray<T>(shape: shape, scalars: x)
        let targets = try NDArray<Int32>(shape: targetShape, scalars: labels)
        for isa in SoftmaxISA.supported {
            try SoftmaxISA.withActive(isa) {
                for outputs in [CrossEntropyOutputSet.gradient, [.gradient, .losses, .probabilities]] {
                    let label = "\(T.self) \(isa) outputs \(outputs.rawValue)"
                    let got = try crossEntropy(scores, classIndices: targets, options: options, outputs: outputs)
                    #expect(close(got.loss, want.loss, rel: tol.rel, abs: tol.abs), "\(label): loss \(got.loss)")
                    let gradient = got.gradient!.scalars.doubles
                    let bad = firstMismatch(gradient, want.gradient, rel: tol.rel, abs: gradientAbs)
                    #expect(bad == nil, "\(label): gradient \(String(describing: bad))")
                    if let losses = got.losses {
                        let bad = firstMismatch(losses.scalars.doubles, want.losses, rel: tol.rel, abs: lossesAbs)
                        #expect(bad == nil, "\(label): losses \(String(describing: bad))")
                    }
                }
            }
        }
    }

    @Test(arguments: cases)
    func float(options: CrossEntropyOptions) throws { try check(Float.self, options) }

    @Test(arguments: cases)
    func double(options: CrossEntropyOptions) throws { try check(Double.self, options) }
}
