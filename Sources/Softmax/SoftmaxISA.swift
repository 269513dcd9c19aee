import CPUFeatures
import SoftmaxKernels
import SoftmaxKernelsAVX2
import SoftmaxKernelsAVX512
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// The instruction sets the kernels are compiled for, lowest first.  One generic source is
/// instantiated once per set; the best one the CPU supports is used unless the environment
/// variable `SOFTMAX_ISA` (or `SoftmaxISA.active`) asks for a lower one.
public enum SoftmaxISA: String, CaseIterable, Comparable, Sendable {
    /// Baseline flags of the build (SSE2 on x86-64, NEON on arm64).
    case portable
    /// AVX2 + FMA (x86-64-v3).
    case avx2
    /// AVX-512 (x86-64-v4).
    case avx512

    /// Orders by capability.
    public static func < (a: SoftmaxISA, b: SoftmaxISA) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Every set this CPU can run.
    public static let supported: [SoftmaxISA] = Array(allCases.prefix(Int(softmax_cpu_level()) + 1))

    /// The value of `SOFTMAX_ISA`: `nil` when unset, `.failure` naming the text when it is not
    /// one of `portable`, `avx2`, `avx512`.
    public static var environmentRequest: Result<SoftmaxISA, SoftmaxError>? {
        guard let raw = getenv("SOFTMAX_ISA") else { return nil }
        let text = String(cString: raw)
        guard let isa = SoftmaxISA(rawValue: text.lowercased()) else {
            return .failure(
                .invalidOption(name: "SOFTMAX_ISA", value: "'\(text)'", reason: "use portable, avx2 or avx512"))
        }
        return .success(isa)
    }

    private static let selection = Atomic<Int>(initialSelection)

    private static var initialSelection: Int {
        let best = supported.count - 1
        guard case .success(let requested)? = environmentRequest else { return best }
        return Swift.min(best, allCases.firstIndex(of: requested)!)
    }

    @TaskLocal private static var override: SoftmaxISA?

    /// The set the kernels use now: the innermost `withActive` of the current task, else the
    /// process-wide choice.  Setting a set the CPU lacks selects the best it has.
    public static var active: SoftmaxISA {
        get { override ?? allCases[selection.load(ordering: .relaxed)] }
        set { selection.store(allCases.firstIndex(of: min(newValue, supported.last!))!, ordering: .relaxed) }
    }

    /// Runs `body` with `isa` (lowered to what the CPU supports) as the active set for calls
    /// made by the current task only, e.g. to compare the sets side by side.
    public static func withActive<R>(_ isa: SoftmaxISA, _ body: () throws -> R) rethrows -> R {
        try $override.withValue(min(isa, supported.last!), operation: body)
    }
}

// Each set instantiates the kernels with its own vector types (portable: 128-bit, AVX2: 256-bit,
// AVX-512: 512-bit).  Specialisations are named by their types, and the linker keeps one copy of
// equal names: were two sets to share a vector type, one set's code could run in the other's
// place — AVX2 instructions on a CPU without AVX2.
extension Float {
    static let portableKernels: TileKernelSet<Float> = {
        var kernels = TileKernelSet<Float>(name: "portable", vector: SIMD4<Float>.self)
        #if arch(x86_64)
            // Without F16C each `Float16` conversion is a runtime call: convert in integer
            // vector arithmetic instead (the same bits as `vcvtph2ps`/`vcvtps2ph`).
            kernels.widenHalf = { HalfBitConversion.widen($0, $1, count: $2) }
            kernels.narrowHalf = { HalfBitConversion.narrow($0, $1, count: $2) }
        #endif
        return kernels
    }()
}

extension Double {
    static let portableKernels = TileKernelSet<Double>(name: "portable", vector: SIMD2<Double>.self)
}
