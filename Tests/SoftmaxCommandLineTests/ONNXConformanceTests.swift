import Foundation
import Softmax
import SoftmaxCommandLine
import Testing

// The 66 ONNX backend node tests (Softmax, LogSoftmax, SoftmaxCrossEntropyLoss,
// NegativeLogLikelihoodLoss) run in-process through `SoftmaxCommand.main`, compared the way
// shared/conformance/check.py compares them, without Python.

/// The folder holding one sub-folder per case of the conformance set `set` (`onnx`, `llm`).
func conformanceDirectory(_ set: String) -> URL? {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)?.appendingPathComponent(set)
}

/// The names of the case folders of `set` (those holding a `case.json`), sorted.
func conformanceCaseNames(_ set: String) -> [String] {
    guard let dir = conformanceDirectory(set),
        let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
    else { return [] }
    return names.filter {
        FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).appendingPathComponent("case.json").path)
    }.sorted()
}

/// Runs case `name` of `set` in-process as check.py runs it: the command with its `@in:`/`@out:`
/// files, then each expected output compared with its tolerance (`tol` per output, else the
/// case's `rtol`/`atol`); a case that expects an error must exit non-zero.
func runConformanceCase(_ set: String, _ name: String) throws {
    let caseDir = try #require(conformanceDirectory(set)).appendingPathComponent(name)
    let json = try Data(contentsOf: caseDir.appendingPathComponent("case.json"))
    let spec = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    let command = try #require(spec["command"] as? String)
    let rawArgs = try #require(spec["args"] as? [String])
    let expect = try #require(spec["expect"] as? [String: String])
    let rtol = (spec["rtol"] as? NSNumber)?.doubleValue ?? 1e-5
    let atol = (spec["atol"] as? NSNumber)?.doubleValue ?? 1e-7
    let perOutput = spec["tol"] as? [String: [NSNumber]] ?? [:]
    let sameDType = (spec["same_dtype"] as? Bool) ?? true

    let tmp = try TempDir()
    defer { tmp.cleanUp() }
    let args = rawArgs.map { a -> String in
        if a.hasPrefix("@in:") { return caseDir.appendingPathComponent(String(a.dropFirst(4))).path }
        if a.hasPrefix("@out:") { return tmp.path(String(a.dropFirst(5))) }
        return a
    }
    let status = SoftmaxCommand.main(arguments: [command] + args)
    if spec["expect_error"] as? Bool == true {
        #expect(status == 1, "\(name): exit status \(status) for bad input (want 1)")
        return
    }
    try #require(status == 0, "\(name): exit status \(status) for \([command] + args)")

    #expect(!expect.isEmpty)
    for (outName, wantName) in expect.sorted(by: { $0.key < $1.key }) {
        let outPath = tmp.path(outName)
        try #require(FileManager.default.fileExists(atPath: outPath), "\(name): no output file \(outName)")
        let got = try NPYArray(contentsOf: outPath)
        let want = try NPYArray(contentsOf: caseDir.appendingPathComponent(wantName).path)
        if sameDType {
            #expect(got.dataType == want.dataType, "\(name) \(outName): dtype \(got.dataType) != \(want.dataType)")
        }
        let tolerance = perOutput[outName].map { ($0[0].doubleValue, $0[1].doubleValue) } ?? (rtol, atol)
        let mismatch = conformanceMismatch(got: got, want: want, rtol: tolerance.0, atol: tolerance.1)
        #expect(mismatch == nil, "\(name) \(outName): \(mismatch ?? "")")
    }
}

/// check.py's `compare`: shape, NaN positions, infinities (position and sign), then
/// `|got − want| ≤ atol + rtol·|want|` on the finite elements.  Returns nil when they agree.
func conformanceMismatch(got: NPYArray, want: NPYArray, rtol: Double, atol: Double) -> String? {
    if got.shape != want.shape { return "shape \(got.shape) != expected \(want.shape)" }
    let g = got.doubles()
    let w = want.doubles()
    for k in w.indices {
        if g[k].isNaN != w[k].isNaN { return "NaN mismatch at flat index \(k)" }
        if w[k].isNaN { continue }
        if g[k].isInfinite != w[k].isInfinite || (w[k].isInfinite && g[k] != w[k]) {
            return "infinity mismatch at flat index \(k)"
        }
        if w[k].isInfinite { continue }
        if abs(g[k] - w[k]) - (atol + rtol * abs(w[k])) > 0 {
            return "flat index \(k): got \(g[k]), want \(w[k])"
        }
    }
    return nil
}

@Suite("ONNX conformance (in-process)")
struct ONNXConformanceTests {
    @Test("all 66 ONNX cases are bundled")
    func caseCount() throws {
        let dir = try #require(conformanceDirectory("onnx"))
        #expect(FileManager.default.fileExists(atPath: dir.path))
        #expect(conformanceCaseNames("onnx").count == 66)
    }

    @Test("ONNX case", arguments: conformanceCaseNames("onnx"))
    func onnxCase(_ name: String) throws {
        try runConformanceCase("onnx", name)
    }

    /// The comparison itself must be able to fail, or the cases above prove nothing.
    @Test("the conformance comparison rejects wrong shapes, NaNs, infinities and values")
    func comparisonRejects() throws {
        let want = try NPYArray(shape: [3], scalars: [Float(1), .infinity, 0])
        #expect(conformanceMismatch(got: want, want: want, rtol: 1e-3, atol: 1e-7) == nil)
        let cases: [[Float]] = [
            [1.01, .infinity, 0],  // relative error 1e-2 > 1e-3
            [.nan, .infinity, 0],  // NaN where a number is expected
            [1, -.infinity, 0],  // infinity of the wrong sign
            [1, 5, 0],  // finite where infinity is expected
            [1, .infinity, .infinity],  // infinity where 0 is expected
        ]
        for got in cases {
            let array = try NPYArray(shape: [3], scalars: got)
            #expect(conformanceMismatch(got: array, want: want, rtol: 1e-3, atol: 1e-7) != nil, "\(got)")
        }
        let reshaped = try NPYArray(shape: [1, 3], scalars: [Float(1), .infinity, 0])
        #expect(conformanceMismatch(got: reshaped, want: want, rtol: 1e-3, atol: 1e-7) != nil)
    }
}
