import Foundation
import Testing

@Suite("softmax bench")
struct BenchCommandTests {
    /// `--json` prints one object per line with SPEC's fields, for the op and its copy baseline,
    /// and the bytes/time arithmetic holds.
    @Test(arguments: ["softmax", "log-softmax", "cross-entropy"])
    func jsonLines(op: String) throws {
        let result = try runSoftmax([
            "bench", "--op", op, "--shape", "64x300", "--repeats", "3", "--threads", "1", "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        var ops: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            ops.append(try #require(object["op"] as? String))
            #expect(object["shape"] as? String == "64x300")
            #expect(object["dtype"] as? String == "float32")
            #expect(object["threads"] as? Int == 1)
            #expect(object["axis"] as? Int == (op == "cross-entropy" ? 1 : -1))
            let ms = try #require(object["median_ms"] as? Double)
            let gbps = try #require(object["gbps"] as? Double)
            #expect(ms > 0 && gbps > 0)
            // bytes = one read + one write of 64·300 float32 values.
            let expected = Double(2 * 64 * 300 * 4) / (ms / 1e3) / 1e9
            #expect(abs(gbps - expected) <= 1e-4 * expected, "\(gbps) vs \(expected)")
        }
        #expect(ops == [op, "copy"])
    }

    /// The distributed ops in one process (rank 0 of 1): per-rank JSON with the median time,
    /// the allreduce calls and bytes per call (3 of N, 2N + 1 and N values for the loss; plus
    /// the chunk agreement, the weight sum and N·D for the linear loss), the extra peak memory;
    /// `allreduce` times one collective; shapes of the wrong rank are refused.
    @Test func distributedOps() throws {
        let cases: [(String, String, Int, Int)] = [
            ("vocab-parallel-cross-entropy", "64x300", 3, 4 * (64 + 129 + 64)),
            ("vocab-parallel-linear-cross-entropy", "64x16x300", 6, 8 + 8 + 4 * (64 + 129 + 64 + 64 * 16)),
        ]
        for (op, shape, calls, bytes) in cases {
            let result = try runSoftmax(["bench", "--op", op, "--shape", shape, "--repeats", "2", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(object["op"] as? String == op && object["ranks"] as? Int == 1 && object["rank"] as? Int == 0)
            #expect(object["classes"] as? Int == 300)
            #expect((object["median_ms"] as? Double ?? 0) > 0)
            #expect(object["allreduce_calls"] as? Int == calls, "\(op): \(object)")
            #expect(object["allreduce_bytes"] as? Int == bytes, "\(op): \(object)")
            #expect(object["extra_peak_mib"] is Double)
        }
        let allReduce = try runSoftmax(["bench", "--op", "allreduce", "--shape", "1000", "--repeats", "3"])
        #expect(allReduce.status == 0 && allReduce.stdout.contains("allreduce 1000 float32 (4000 bytes) over 1 ranks"))
        for bad in [
            ["--op", "vocab-parallel-cross-entropy", "--shape", "64x16x300"],
            ["--op", "vocab-parallel-linear-cross-entropy", "--shape", "64x300"],
            ["--op", "allreduce", "--shape", "10x10"],
            ["--op", "vocab-parallel-cross-entropy", "--shape", "64x300", "--dtype", "float16"],
        ] {
            let run = try runSoftmax(["bench"] + bad)
            #expect(run.status != 0 && run.stderr.hasPrefix("error:"), "\(bad): \(run.stderr)")
        }
    }

    /// `--op linear-cross-entropy`: the fused call and the GEMM floor, each with GFLOP/s =
    /// 6·N·D·V / time, the BLAS named, and the extra peak memory of the fused call; a shape
    /// that is not NxDxV, or float16, is refused.
    @Test func linearCrossEntropy() throws {
        for environment in [[:], ["SOFTMAX_BLAS": "none"]] {
            let result = try runSoftmax(
                ["bench", "--op", "linear-cross-entropy", "--shape", "32x16x300", "--repeats", "2", "--json"],
                environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let objects = try result.stdout.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            #expect(objects.map { $0["op"] as? String } == ["linear-cross-entropy", "gemm-floor"])
            for object in objects {
                let ms = try #require(object["median_ms"] as? Double)
                let gflops = try #require(object["gflops"] as? Double)
                let expected = 6.0 * 32 * 16 * 300 / (ms / 1e3) / 1e9
                #expect(Swift.abs(gflops - expected) <= 1e-4 * expected, "\(gflops) vs \(expected)")
                let blas = try #require(object["blas"] as? String)
                #expect(environment.isEmpty ? !blas.isEmpty : blas == "built-in", "\(blas)")
            }
            #expect(objects[0]["extra_peak_mib"] is Double)
        }
        for bad in [["--shape", "32x16"], ["--shape", "32x16x300", "--dtype", "float16"]] {
            let run = try runSoftmax(["bench", "--op", "linear-cross-entropy"] + bad)
            #expect(run.status != 0 && run.stderr.hasPrefix("error:"), "\(bad): \(run.stderr)")
        }
    }

    /// `--label-smoothing` times the cross-entropy with it and says so (text and JSON).
    @Test func labelSmoothing() throws {
        let json = try runSoftmax([
            "bench", "--op", "cross-entropy", "--shape", "64x300", "--repeats", "2", "--label-smoothing", "0.1",
            "--json",
        ])
        #expect(json.status == 0, "\(json.stderr)")
        let first = try #require(json.stdout.split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(object["label_smoothing"] as? Double == 0.1)
        let text = try runSoftmax(["bench", "--op", "cross-entropy", "--shape", "64x300", "--label-smoothing", "0.1"])
        #expect(text.status == 0 && text.stdout.contains("smoothing 0.1"), "\(text.stderr)")
    }

    @Test(arguments: ["float64", "float16"])
    func otherTypes(dtype: String) throws {
        let result = try runSoftmax(["bench", "--shape", "2x21x8x8", "--axis", "1", "--dtype", dtype, "--repeats", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(dtype) && result.stdout.contains("GB/s"))
    }

    @Test(arguments: [
        (["bench", "--shape", "10xabc"], "invalid --shape"),
        (["bench", "--shape", "0x5"], "invalid --shape"),
        (["bench", "--shape", "4x5", "--axis", "2"], "axis 2 is out of range"),
        (["bench", "--shape", "10xx"], "invalid --shape '10xx'"),
        (["bench", "--shape", "x10"], "invalid --shape 'x10'"),
        (["bench", "--shape", "+10x5"], "invalid --shape '+10x5'"),
        (["bench", "--shape", "10x99999999999999999999"], "invalid --shape"),
        (["bench", "--shape", ""], "invalid --shape"),
        (["bench", "--repeats", "0"], "--repeats 0: must be 1...10000"),
        (["bench", "--repeats", "100000000000"], "--repeats 100000000000: must be 1...10000"),
        (["bench", "--threads", "-1"], "--threads -1: must be 0 (all cores) or 1...1024"),
        (["bench", "--repeats", "-5"], "--repeats -5: must be 1...10000"),
        (["bench", "--threads", "100000"], "--threads 100000: must be 0 (all cores) or 1...1024"),
        (["bench", "--op", "exp"], "exp"),
        (["bench", "--dtype", "int8"], "int8"),
        (["bench", "--op", "softmax", "--label-smoothing", "0.1"], "--label-smoothing"),
        (["bench", "--op", "cross-entropy", "--label-smoothing", "1"], "--label-smoothing"),
        (["bench", "--op", "cross-entropy", "--label-smoothing", "nan"], "--label-smoothing"),
    ])
    func badInput(arguments: [String], fragment: String) throws {
        let result = try runSoftmax(arguments)
        #expect(result.reason == .exit && result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "\(result.stderr)")
        #expect(lines.first?.contains(fragment) == true, "\(result.stderr)")
    }
}
