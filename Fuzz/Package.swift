// swift-tools-version: 6.2
// libFuzzer targets for swift-softmax.
//
// A package of its own: the targets need `-sanitize=fuzzer` (libFuzzer supplies `main`), which
// the library's package does not build with.  Build and run them with `scripts/fuzz.sh` from
// the repository root; see README.md.
import Foundation
import PackageDescription

/// The library's package is this one's parent directory.  SwiftPM names a path dependency after
/// its directory (lower-cased), which depends on where the repository was cloned, so it is
/// worked out here rather than written down.
let libraryPackage = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Fuzz/
    .deletingLastPathComponent()  // the library's package
    .lastPathComponent
    .lowercased()

/// One executable per fuzz target, in `Targets/<name>/`; `-parse-as-library` so that no Swift
/// `main` is generated (libFuzzer's is linked in by `-sanitize=fuzzer`).
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzDriver", .product(name: "SoftmaxFuzzing", package: libraryPackage)],
        path: "Targets/\(name)",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    )
}

let targetNames = ["FuzzNPY", "FuzzLoss", "FuzzCSV", "FuzzIDX", "FuzzModel", "FuzzLinearLoss"]

let package = Package(
    name: "swift-softmax-fuzz",
    platforms: [.macOS(.v13)],
    products: targetNames.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(path: "..")],
    targets: targetNames.map(fuzzTarget) + [
        // What every target's entry point calls: libFuzzer's driver.
        .target(name: "FuzzDriver", path: "Targets/FuzzDriver")
    ],
    swiftLanguageModes: [.v6]
)
