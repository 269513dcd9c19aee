/// What the fused cross-entropy kernels need besides the scores and targets.
///
/// The per-position loss is `ℓ = −Σ_c coef_c · logp_c` and the gradient
/// `gradientScale · (p_c · Σ_k coef_k − coef_c)` (logits) or `−gradientScale · coef_c`
/// (log-probability input), with `coef = (1−ε)·w_t·onehot(t) + (ε/C)·w` for class indices and
/// `coef = w ⊙ ((1−ε)·q + ε/C)` for probability targets.
public struct CrossEntropyParameters<Scalar: KernelScalar>: @unchecked Sendable {
    /// Number of classes `C`.
    public var classes: Int
    /// Per-class weights (`classes` values), or `nil` for all ones.
    public var weights: UnsafePointer<Scalar>?
    /// `Σ_c w_c` (`classes` when unweighted).
    public var weightSum: Scalar
    /// Label smoothing `ε` in [0, 1].
    public var smoothing: Scalar
    /// True when the scores are already log-probabilities (NLL mode).
    public var inputIsLogProbability: Bool
    /// Loss weight over the reduction's denominator; 0 when the gradient must be zero.
    public var gradientScale: Scalar
    /// The class count `C` of `ε / C`: `classes`, unless the rows are shards of longer ones
    /// (then the whole row's count).
    public var smoothingClasses: Int
    /// The z-loss `λ` (0: off): each position not ignored adds `λ·lse²` (`lse` the
    /// log-sum-exp of its scores), reported apart from the loss (logits only).
    public var zLoss: Scalar
    /// `2λ` times the loss weight over the z term's denominator: the z term adds
    /// `zGradientScale · lse · p_c` to the gradient of each position not ignored.
    public var zGradientScale: Scalar

    /// Parameters of one cross-entropy call; see the properties.
    @inlinable @inline(__always)
    public init(
        classes: Int, weights: UnsafePointer<Scalar>?, weightSum: Scalar, smoothing: Scalar,
        inputIsLogProbability: Bool, gradientScale: Scalar
    ) {
        self.classes = classes
        self.weights = weights
        self.weightSum = weightSum
        self.smoothing = smoothing
        self.inputIsLogProbability = inputIsLogProbability
        self.gradientScale = gradientScale
        smoothingClasses = classes
        zLoss = 0
        zGradientScale = 0
    }

    /// The z term of a position whose scores have log-sum-exp `lse`: its value `λ·lse²` and
    /// the coefficient `zGradientScale·lse` of `p` in its gradient (0 for a fully masked
    /// position, whose probabilities are all 0).
    @inlinable @inline(__always)
    public func zTerm(logSumExp lse: Scalar) -> (value: Scalar, coefficient: Scalar) {
        (zLoss * lse * lse, lse == -.infinity ? 0 : zGradientScale * lse)
    }

    /// `ε / C`, the smoothing mass each class receives.
    @inlinable @inline(__always) public var smoothingPerClass: Scalar { smoothing / Scalar(smoothingClasses) }

    /// The weight of class `c`.
    @inlinable @inline(__always) public func weight(_ c: Int) -> Scalar { weights?[c] ?? 1 }
}

/// Optional per-element outputs of the fused cross-entropy kernels, laid out like the scores.
public struct CrossEntropyOutputPointers<Scalar: KernelScalar>: @unchecked Sendable {
    /// Gradient of the reduced loss with respect to the scores.
    public var gradient: UnsafeMutablePointer<Scalar>?
    /// Softmax probabilities (`exp` of the input in log-probability mode).
    public var probabilities: UnsafeMutablePointer<Scalar>?
    /// Log-probabilities (a copy of the input in log-probability mode).
    public var logProbabilities: UnsafeMutablePointer<Scalar>?
    /// Whether kernels that can should write with streaming (non-temporal) stores, which skip
    /// reading each line before writing it: for outputs too large to stay in cache.
    public var streaming: Bool

    /// Outputs to write; `nil` ones are skipped.
    @inlinable @inline(__always)
    public init(
        gradient: UnsafeMutablePointer<Scalar>? = nil,
        probabilities: UnsafeMutablePointer<Scalar>? = nil,
        logProbabilities: UnsafeMutablePointer<Scalar>? = nil,
        streaming: Bool = false
    ) {
        self.gradient = gradient
        self.probabilities = probabilities
        self.logProbabilities = logProbabilities
        self.streaming = streaming
    }

    /// The same outputs moved by `offset` elements.
    @inlinable @inline(__always)
    public func advanced(by offset: Int) -> Self {
        Self(
            gradient: gradient.map { $0 + offset },
            probabilities: probabilities.map { $0 + offset },
            logProbabilities: logProbabilities.map { $0 + offset }, streaming: streaming)
    }

    /// True when any per-element output is requested.
    @inlinable @inline(__always) public var writesElements: Bool {
        gradient != nil || probabilities != nil || logProbabilities != nil
    }
}

extension SIMD where Scalar: KernelScalar {
    /// `coefficient · logp` lane-wise, with 0 where the coefficient is 0 (so a `-infinity`
    /// log-probability of a class that carries no target mass adds nothing instead of NaN).
    @inlinable @inline(__always)
    public func weightedTerm(_ logp: Self) -> Self {
        selectEqual(to: Self(repeating: 0), then: Self(repeating: 0), else: self * logp)
    }
}
