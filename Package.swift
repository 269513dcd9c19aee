// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "swift-softmax",
    products: [
        .library(name: "Softmax", targets: ["Softmax"]),
        .library(name: "SoftmaxLayers", targets: ["SoftmaxLayers"]),
        .executable(name: "softmax", targets: ["softmax"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // Generic `@inlinable` SIMD kernels over raw pointers; instantiated per
        // instruction set by the modules that import them.
        .target(name: "SoftmaxKernels"),
        // The public API: shapes, options, validation, dispatch, threads, `.npy` I/O.
        .target(name: "Softmax", dependencies: ["SoftmaxKernels"]),
        // Caffe-style layers over blobs (data + diff).
        .target(name: "SoftmaxLayers", dependencies: ["Softmax"]),
        // The command-line tool's commands, as a library so tests can run them in-process.
        .target(
            name: "SoftmaxCommandLine",
            dependencies: [
                "Softmax",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "softmax", dependencies: ["SoftmaxCommandLine"]),
        .testTarget(name: "SoftmaxTests", dependencies: ["Softmax", "SoftmaxKernels"]),
        .testTarget(name: "SoftmaxLayersTests", dependencies: ["SoftmaxLayers"]),
        .testTarget(
            name: "SoftmaxCommandLineTests",
            dependencies: ["SoftmaxCommandLine", "softmax"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
