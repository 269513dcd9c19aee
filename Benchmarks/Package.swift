// swift-tools-version: 6.2
// Benchmarks of swift-softmax with ordo-one's package-benchmark.
//
// A package of its own, so the library's package keeps no benchmark dependencies.  Run from
// this directory:
//
//     swift package --disable-sandbox benchmark
//
// See README.md.
import Foundation
import PackageDescription

/// The library's package is this one's parent directory.  SwiftPM names a path dependency after
/// its directory (lower-cased), which depends on where the repository was cloned, so it is
/// worked out here rather than written down.
let libraryPackage = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Benchmarks/
    .deletingLastPathComponent()  // the library's package
    .lastPathComponent
    .lowercased()

let package = Package(
    name: "swift-softmax-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        // `MallocInterposer` gives the malloc metrics on Swift 6.3+ without jemalloc.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SoftmaxBenchmarks",
            dependencies: [
                .product(name: "Softmax", package: libraryPackage),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SoftmaxBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
