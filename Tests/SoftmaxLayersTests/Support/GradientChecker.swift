import Softmax
import SoftmaxLayers
import SoftmaxTestSupport

/// Caffe's `GradientChecker` (`include/caffe/test/test_gradient_check_util.hpp`), reimplemented:
/// central differences with `stepsize`, and a computed and an estimated derivative agree when
/// `|computed − estimated| ≤ threshold · max(|computed|, |estimated|, 1)`.
///
/// The layer is seen through closures over plain arrays, so one checker serves separate and
/// in-place blobs, one or two tops.
struct GradientChecker {
    var stepsize: Double
    var threshold: Double

    /// One disagreement.
    struct Failure: CustomStringConvertible {
        var top: Int?
        var bottom: Int
        var computed: Double
        var estimated: Double
        var description: String {
            let wrt = top.map { "∂top[\($0)]/∂bottom[\(bottom)]" } ?? "∂objective/∂bottom[\(bottom)]"
            return "\(wrt): computed \(computed), estimated \(estimated)"
        }
    }

    struct Report {
        var failures: [Failure] = []
        /// How many derivatives were compared (so a test can tell a vacuous check).
        var checked = 0
        /// The largest `|computed − estimated| / max(|computed|, |estimated|, 1)` seen.
        var worst = 0.0

        var summary: String {
            "\(failures.count) of \(checked) derivatives disagree (worst scaled error \(worst)); first: "
                + failures.prefix(5).map(\.description).joined(separator: "; ")
        }
    }

    func agree(computed: Double, estimated: Double) -> (Bool, Double) {
        let scale = max(abs(computed), abs(estimated), 1)
        let error = abs(computed - estimated)
        return (error <= threshold * scale, error / scale)
    }

    private func record(_ report: inout Report, top: Int?, bottom: Int, computed: Double, estimated: Double) {
        let (ok, scaled) = agree(computed: computed, estimated: estimated)
        report.checked += 1
        report.worst = max(report.worst, scaled.isNaN ? .infinity : scaled)
        if !ok { report.failures.append(Failure(top: top, bottom: bottom, computed: computed, estimated: estimated)) }
    }

    /// The finite-difference estimate of `∂f/∂x[i]` for every `i`, where `f` returns any
    /// number of outputs: `estimates[i][j] ≈ ∂f_j/∂x_i`.  The perturbation is applied in `T`,
    /// as Caffe does, and `x[i]` is restored exactly afterwards.
    func estimate<T: SoftmaxScalar>(_ x: [T], _ f: ([T]) throws -> [Double]) rethrows -> [[Double]] {
        var x = x
        var estimates: [[Double]] = []
        for i in x.indices {
            let original = x[i]
            x[i] = original + T(stepsize)
            let plus = try f(x)
            x[i] = original - T(stepsize)
            let minus = try f(x)
            x[i] = original
            estimates.append(zip(plus, minus).map { ($0 - $1) / stepsize / 2 })
        }
        return estimates
    }

    /// Caffe's `CheckGradientExhaustive` for a layer that is not a loss: for every top element
    /// `j`, the top diff is set to one-hot(j), backward runs, and the bottom diff must match
    /// the finite difference of `top[j]` with respect to every bottom element.
    ///
    /// - Parameters:
    ///   - forward: the top data for bottom data `x`.
    ///   - backward: the bottom diff for bottom data `x` (forward run first) and top diff `dy`.
    func checkExhaustive<T: SoftmaxScalar>(
        _ x: [T], forward: ([T]) throws -> [T], backward: ([T], [T]) throws -> [T]
    ) throws -> Report {
        let estimates = try estimate(x) { try forward($0).doubles }
        let topCount = try forward(x).count
        var report = Report()
        for j in 0..<topCount {
            var oneHot = [T](repeating: 0, count: topCount)
            oneHot[j] = 1
            let computed = try backward(x, oneHot)
            precondition(computed.count == x.count, "test bug: bottom diff count")
            for i in x.indices {
                record(&report, top: j, bottom: i, computed: Double(computed[i]), estimated: estimates[i][j])
            }
        }
        return report
    }

    /// The check for a loss layer: the objective is the scalar `objective(x)`, and
    /// `gradient(x)` is the bottom diff after forward and backward.
    func checkScalar<T: SoftmaxScalar>(
        _ x: [T], objective: ([T]) throws -> Double, gradient: ([T]) throws -> [T]
    ) throws -> Report {
        let estimates = try estimate(x) { [try objective($0)] }
        let computed = try gradient(x)
        precondition(computed.count == x.count, "test bug: bottom diff count")
        var report = Report()
        for i in x.indices {
            record(&report, top: nil, bottom: i, computed: Double(computed[i]), estimated: estimates[i][0])
        }
        return report
    }
}

extension GradientChecker {
    /// `GradientChecker<Dtype> checker(1e-2, 1e-3)` in `test_softmax_layer.cpp`.
    static let softmax = GradientChecker(stepsize: 1e-2, threshold: 1e-3)
    /// `GradientChecker<Dtype> checker(1e-2, 1e-2, 1701)` in `test_softmax_with_loss_layer.cpp`.
    static let softmaxWithLoss = GradientChecker(stepsize: 1e-2, threshold: 1e-2)

    /// Checks a loss layer's gradient with respect to the fixture's scores, the objective being
    /// the (weighted) loss `forward` returns, as Caffe's loss-layer tests do.
    ///
    /// - Parameter alter: applied to the computed gradient (to prove the checker catches errors).
    func checkLossLayer<T: SoftmaxScalar>(
        _ layer: SoftmaxWithLossLayer<T>, _ f: LossFixture<T>, alter: ([T]) -> [T] = { $0 }
    ) throws -> Report {
        try checkScalar(
            f.scores.data,
            objective: { x in
                f.scores.data = x
                return try layer.forward(bottom: f.bottom, top: f.top)
            },
            gradient: { x in
                f.scores.data = x
                try layer.forward(bottom: f.bottom, top: f.top)
                try layer.backward(top: f.top, propagateDown: [true, false], bottom: f.bottom)
                return alter(f.scores.diff)
            })
    }
}
