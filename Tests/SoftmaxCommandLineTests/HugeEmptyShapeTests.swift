import Foundation
import Softmax
import Testing

// Tiny files whose headers name empty arrays beside huge dimensions (the fuzzer's
// `(0, 6600000000000000000)` float16 trapped; by hand, others hung for minutes or aborted on
// an exabyte allocation), and headers NumPy refuses.  Every case ends with the right result or
// one error line.

/// A `.npy` file of no elements with `shape` written into its header.
private func emptyNPY(_ descr: String, _ shape: String) -> [UInt8] {
    handBuiltNPY(header: "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }", data: [])
}

@Suite("Empty arrays beside huge dimensions, through the command line", .timeLimit(.minutes(3)))
struct HugeEmptyShapeTests {
    static let descrs = ["<f2", "<f4", "<f8"]

    @Test(
        "(0, 6.6e17): softmax and log-softmax give the empty array, logsumexp over axis 0 is refused", arguments: descrs
    )
    func hugeEmptyApply(descr: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = try tmp.writeBytes(emptyNPY(descr, "(0, 660000000000000000)"), "x.npy")
        for axis in ["0", "1", "-1"] {
            for op in ["softmax", "log-softmax", "logsumexp"] {
                let out = tmp.path("y-\(op)-\(axis).npy")
                let result = try runSoftmax(["apply", op, input, "--output", out, "--axis", axis])
                #expect(result.reason == .exit)
                if op == "logsumexp" && axis == "0" {
                    // 6.6e17 values of -inf from a 128-byte file.
                    #expect(result.status == 1)
                    #expect(result.stderr.contains("would write"), "\(result.stderr)")
                    #expect(result.stderr.contains("an output may exceed its inputs by at most"))
                    #expect(!FileManager.default.fileExists(atPath: out))
                    continue
                }
                try #require(result.status == 0, "\(descr) \(op) axis \(axis): \(result.stderr)")
                let y = try NPYArray(contentsOf: out)
                #expect(y.shape == (op == "logsumexp" ? [0] : [0, 660_000_000_000_000_000]))
                #expect(
                    y.bytes.isEmpty
                        && y.dataType.rawValue == ["<f2": "float16", "<f4": "float32", "<f8": "float64"][descr])
            }
        }
    }

    @Test("(0, 6.6e18): the byte count overflows Int, refused as NumPy refuses it", arguments: descrs)
    func byteCountOverflows(descr: String) throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let input = try tmp.writeBytes(emptyNPY(descr, "(0, 6600000000000000000)"), "x.npy")
        for op in ["softmax", "log-softmax", "logsumexp"] {
            for axis in ["0", "1"] {
                let result = try runSoftmax(["apply", op, input, "--output", tmp.path("y.npy"), "--axis", axis])
                #expect(result.status == 1 && result.reason == .exit)
                #expect(result.stderr.contains("is too big"), "\(result.stderr)")
            }
        }
        let loss = try runSoftmax(["loss", input, input])
        #expect(loss.status == 1 && loss.stderr.contains("is too big"))
    }

    @Test("loss of (3e9, 0) scores and probability targets: 0 at once, per-position losses refused")
    func hugeEmptyLoss() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let scores = try tmp.writeBytes(emptyNPY("<f4", "(3000000000, 0)"), "x.npy")
        let targets = try tmp.writeBytes(emptyNPY("<f4", "(3000000000, 0)"), "q.npy")
        for reduction in ["mean", "sum", "full", "batch-size"] {
            let grad = tmp.path("g-\(reduction).npy")
            let result = try runSoftmax(["loss", scores, targets, "--reduction", reduction, "--grad-output", grad])
            try #require(result.status == 0, "\(reduction): \(result.stderr)")
            #expect(Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == 0)
            #expect(try NPYArray(contentsOf: grad).shape == [3_000_000_000, 0])
        }
        let none = try runSoftmax(["loss", scores, targets, "--reduction", "none"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("per-position losses of shape (3000000000, 0)"), "\(none.stderr)")
        // A modest number of positions is an ordinary result: a zero per position.
        let small = try tmp.writeBytes(emptyNPY("<f8", "(5, 0)"), "s.npy")
        let lossOut = tmp.path("l.npy")
        let result = try runSoftmax(["loss", small, small, "--reduction", "none", "--loss-output", lossOut])
        #expect(result.status == 0 && result.stdout == String(repeating: "0.0\n", count: 5))
        #expect(try readDoubles(lossOut).values == [0, 0, 0, 0, 0])
        // Class indices of no classes: only the ignore index is a valid label.
        let labels = try tmp.write(try NPYArray(shape: [5], scalars: [Int8](repeating: -1, count: 5)), "t.npy")
        let ignored = try runSoftmax(["loss", small, labels, "--ignore-index", "-1"])
        #expect(ignored.status == 0 && Double(ignored.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == 0)
        let refused = try runSoftmax(["loss", small, labels])
        #expect(refused.status == 1 && refused.stderr.contains("outside 0..<0"))
    }

    @Test("headers np.load refuses are refused; what it accepts is read")
    func headersAsNumPyReadsThem() throws {
        func header(_ text: String) -> [UInt8] { handBuiltNPY(header: text, data: [UInt8](repeating: 0, count: 40)) }
        let refused: [(String, String)] = [
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unknown key 'extra'"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", "after the dictionary"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\u{0}", "after the dictionary"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "'shape' is not a tuple"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}", "leading zeros"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1__0,)}", "misplaced '_'"),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (\(Array(repeating: "1", count: 65).joined(separator: ", ")))}",
                "at most 64"
            ),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2305843009213693952)}", "is too big"),
            ("{'descr': '<f2', 'fortran_order': False, 'shape': (9223372036854775807,)}", "is too big"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "does not fit in Int"),
            ("[{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}]", "not a dictionary"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2l,)}", "expected ',' or ')'"),
            // Found by the fuzzer: a `u` that starts no string, at the end of the header.
            ("{'descr': u", "expected ',' or '}'"),
            ("{'descr': u|'<f4', 'fortran_order': False, 'shape': (2,)}", "expected ',' or '}'"),
        ]
        for (text, fragment) in refused {
            do {
                let array = try NPYArray(npyBytes: header(text))
                Issue.record("read \(text.debugDescription) as \(array.shape)")
            } catch let error as NPYError {
                #expect(error.description.contains(fragment), "\(text.debugDescription): \(error)")
            }
        }
        let accepted: [(String, [Int])] = [
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (0x2,)}", [2]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1_0,)}", [10]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (+2, 0o3, 0b1)}", [2, 3, 1]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-0, 00)}", [0, 0]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (3,)}", [3]),
            ("  \t{'descr': '<f4', 'fortran_order': False, 'shape': (2,),}", [2]),
            ("\n {'descr': u'<f4', 'fortran_order': False, 'shape': (2,),}", [2]),
            ("{'descr': '<' 'f4', 'fortran_order': False, 'shape': (2,),}", [2]),
            ("{'descr': '<f4',\u{0C} 'fortran_order': False, 'shape': (2,),}", [2]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } # comment", [2]),
            ("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L, 5)}", [2, 5]),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2305843009213693951)}",
                [0, 2_305_843_009_213_693_951]
            ),
        ]
        for (text, shape) in accepted {
            #expect(try NPYArray(npyBytes: header(text)).shape == shape, "\(text.debugDescription)")
        }
    }

    @Test("a header of half a million nested parentheses is refused, not a stack overflow")
    func deeplyNestedHeader() throws {
        let text = "{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 500_000) + "}"
        #expect(throws: NPYError.malformedHeader(reason: "shape entries must be integers at offset 51")) {
            try NPYArray(npyBytes: handBuiltNPY(major: 2, header: text, data: []))
        }
    }

    @Test("training that diverges stops with one line and writes no model and no plot")
    func divergedTraining() throws {
        let tmp = try TempDir()
        defer { tmp.cleanUp() }
        let model = tmp.path("m.json")
        let plot = tmp.path("p.svg")
        let result = try runSoftmax([
            "train", "--lr", "1e30", "--epochs", "5", "--no-progress", "-o", model, "--plot", plot,
        ])
        #expect(result.status == 1)
        #expect(
            result.stderr == "error: training diverged at epoch 1 (loss nan): lower --lr (now 1e+30)\n",
            "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model) && !FileManager.default.fileExists(atPath: plot))
    }
}
