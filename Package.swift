// swift-tools-version: 6.2
import PackageDescription

/// Compiler flags of an instruction-set module: its `-march` on x86-64, nothing elsewhere (the
/// module's sources are then empty).
func isaFlags(_ march: String, extra: [String] = []) -> [SwiftSetting] {
    #if arch(x86_64)
    return [.unsafeFlags(["-Xcc", "-march=\(march)"] + extra)]
    #else
    return []
    #endif
}

let package = Package(
    name: "swift-softmax",
    products: [
        .library(name: "Softmax", targets: ["Softmax"]),
        .library(name: "SoftmaxLayers", targets: ["SoftmaxLayers"]),
        .library(name: "SoftmaxTraining", targets: ["SoftmaxTraining"]),
        .library(name: "SoftmaxDistributed", targets: ["SoftmaxDistributed"]),
        .library(name: "SoftmaxFuzzing", targets: ["SoftmaxFuzzing"]),
        .executable(name: "softmax", targets: ["softmax"]),
    ],
    traits: [
        // Open MPI for the distributed schemes (`swift build --traits MPI`): links the library
        // pkg-config's `ompi-c` names.  Off by default: the default build needs no MPI.
        .trait(name: "MPI", description: "Link Open MPI and run the distributed schemes under mpirun.")
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation` (a command plugin: nothing it has is built by
        // `swift build` or `swift test`).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Generic `@inlinable` SIMD kernels over raw pointers; instantiated per
        // instruction set by the modules that import them.
        .target(name: "SoftmaxKernels", dependencies: ["MemoryHints"]),
        // Prefetch and spin-wait hints as header-only C, inlined into the callers.
        .target(name: "MemoryHints"),
        // The same kernels compiled for AVX2 + FMA and for AVX-512 (x86-64 only; empty elsewhere).
        .target(name: "SoftmaxKernelsAVX2", dependencies: ["SoftmaxKernels"], swiftSettings: isaFlags("x86-64-v3")),
        .target(
            name: "SoftmaxKernelsAVX512", dependencies: ["SoftmaxKernels"],
            swiftSettings: isaFlags("x86-64-v4", extra: ["-Xcc", "-mprefer-vector-width=512"])),
        // Which instruction sets this CPU has (`__builtin_cpu_supports`).
        .target(name: "CPUFeatures"),
        // The public API: shapes, options, validation, dispatch, threads, `.npy` I/O.
        .target(
            name: "Softmax",
            dependencies: ["SoftmaxKernels", "SoftmaxKernelsAVX2", "SoftmaxKernelsAVX512", "CPUFeatures", "MemoryHints"]),
        // Caffe-style layers over blobs (data + diff).
        .target(name: "SoftmaxLayers", dependencies: ["Softmax"]),
        // zlib (gzip input files, PNG output): Debian's zlib1g-dev, part of macOS.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Training and evaluating softmax classifiers and per-pixel segmenters: data sets
        // (CSV, .npy, MNIST IDX, the embedded digits), the training loop, metrics, model
        // files, SVG and PNG reports.
        .target(
            name: "SoftmaxTraining",
            dependencies: ["Softmax", "SoftmaxLayers", "CZlib"],
            exclude: ["Resources/README.md"],
            resources: [.embedInCode("Resources/digits.csv.gz")]),
        // Open MPI's C API and a shim returning its handles (macros Swift cannot import).
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
        // Collectives behind `Communicator`, the vocabulary-parallel losses and the
        // data-parallel gradient reducer; MPI itself only with the `MPI` trait.
        .target(
            name: "SoftmaxDistributed",
            dependencies: [
                "Softmax", "SoftmaxKernels", "SoftmaxTraining",
                .target(name: "CMPI", condition: .when(traits: ["MPI"])),
            ]),
        // The command-line tool's commands, as a library so tests can run them in-process.
        .target(
            name: "SoftmaxCommandLine",
            dependencies: [
                "Softmax",
                "SoftmaxLayers",
                "SoftmaxTraining",
                "SoftmaxDistributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "softmax", dependencies: ["SoftmaxCommandLine"]),
        // The vocabulary-parallel losses against the single-process calls under `mpirun` (CI).
        .executableTarget(name: "softmax-distributed-check", dependencies: ["Softmax", "SoftmaxDistributed"]),
        // What the libFuzzer targets (the separate package in Fuzz/) run on each input; the
        // tests replay the kept corpus and crash reproducers through the same functions.
        .target(name: "SoftmaxFuzzing", dependencies: ["Softmax", "SoftmaxTraining"]),
        // The float64 references, tolerances and seeded inputs every test target checks against
        // (a plain target: SwiftPM lets test targets depend on it, not on one another).
        .target(name: "SoftmaxTestSupport", dependencies: ["Softmax"], path: "Tests/SoftmaxTestSupport"),
        .testTarget(name: "SoftmaxTests", dependencies: ["Softmax", "SoftmaxKernels", "SoftmaxTestSupport"]),
        .testTarget(name: "SoftmaxLayersTests", dependencies: ["SoftmaxLayers", "SoftmaxTestSupport"]),
        .testTarget(name: "SoftmaxTrainingTests", dependencies: ["SoftmaxTraining", "SoftmaxTestSupport"]),
        .testTarget(
            name: "SoftmaxDistributedTests",
            dependencies: ["SoftmaxDistributed", "SoftmaxTraining", "SoftmaxTestSupport"]),
        .testTarget(name: "SoftmaxFuzzingTests", dependencies: ["SoftmaxFuzzing"], resources: [.copy("Corpus")]),
        .testTarget(
            name: "SoftmaxCommandLineTests",
            dependencies: ["SoftmaxCommandLine", "SoftmaxTraining", "SoftmaxTestSupport", "softmax"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
