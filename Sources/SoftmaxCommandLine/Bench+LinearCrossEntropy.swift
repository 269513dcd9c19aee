import Dispatch
import Foundation
import Softmax

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Bench {
    /// Times the fused linear cross-entropy on `n × d` hidden states and a `v × d` weight
    /// (dHidden and dWeight, mean loss, random labels), then the same BLAS's three bare
    /// products with the logits in full; returns the two report lines.
    func benchLinearCrossEntropy(n: Int, d: Int, v: Int) throws -> String {
        switch dtype {
        case .float64: return try benchLinearCrossEntropy(Double.self, n: n, d: d, v: v)
        default: return try benchLinearCrossEntropy(Float.self, n: n, d: d, v: v)
        }
    }

    private func benchLinearCrossEntropy<T: LinearCrossEntropyScalar & GEMMScalar>(
        _: T.Type, n: Int, d: Int, v: Int
    ) throws -> String {
        let size = MemoryLayout<T>.stride
        // Inputs and gradients: hidden and dHidden (n·d each), weight and dWeight (v·d each).
        let arrays = ResourceLimits.bytes(
            adding: ResourceLimits.bytes(count: ResourceLimits.bytes(count: n, size: d), size: 2 * size),
            ResourceLimits.bytes(count: ResourceLimits.bytes(count: v, size: d), size: 2 * size))
        try ResourceLimits.check(arrays, for: "benchmarking linear cross-entropy \(n)x\(d)x\(v)")
        let peakBefore = Self.peakResidentBytes()
        var generator = SplitMix64(seed: 0x5EED)
        func filled(_ count: Int, _ scale: Float) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count { buffer[i] = T(Float.random(in: -scale...scale, using: &generator)) }
                initialized = count
            }
        }
        var hidden = filled(n * d, 1)
        let weight = filled(v * d, 0.05)
        let labels = (0..<n).map { _ in Int32.random(in: 0..<Int32(v), using: &generator) }
        if peaked {
            // A confident model, right nine times in ten: each hidden state points along one
            // class's weight row (a logit gap of about 25), its label's except for every tenth
            // position, with a little noise.
            for r in 0..<n {
                let dominant = r % 10 == 9 ? (Int(labels[r]) + 1 + r % (v - 1)) % v : Int(labels[r])
                let row = dominant * d
                for c in 0..<d { hidden[r * d + c] = 30 * weight[row + c] + hidden[r * d + c] * T(0.01) }
            }
        }
        var dHidden = [T](repeating: 0, count: n * d)
        var dWeight = [T](repeating: 0, count: v * d)
        let blas = SoftmaxBLAS.active
        let flops = 6 * Double(n) * Double(d) * Double(v)

        let fused = try hidden.withUnsafeBufferPointer { h in
            try weight.withUnsafeBufferPointer { w in
                try labels.withUnsafeBufferPointer { t in
                    try dHidden.withUnsafeMutableBufferPointer { dh in
                        try dWeight.withUnsafeMutableBufferPointer { dw in
                            try medianSeconds {
                                _ = try linearCrossEntropy(
                                    hidden: h, hiddenShape: [n, d], weight: w, weightShape: [v, d], classIndices: t,
                                    options: lossOptions(axis: -1),
                                    outputs: LinearCrossEntropyOutputs(hiddenGradient: dh, weightGradient: dw),
                                    memoryBudget: memoryBudget, gradientFilter: gradientFilter)
                            }
                        }
                    }
                }
            }
        }
        let extraMiB = Double(Swift.max(0, Self.peakResidentBytes() - peakBefore - arrays)) / 1048576
        // The filter's error: the largest difference from the exact gradients, relative to
        // their largest entry (after the peak memory is read: the exact run has arrays of its own).
        var filterErrors = (hidden: 0.0, weight: 0.0)
        if gradientFilter > 0 {
            let exact = try linearCrossEntropy(
                hidden: NDArray(shape: [n, d], scalars: hidden), weight: NDArray(shape: [v, d], scalars: weight),
                classIndices: NDArray(shape: [n], scalars: labels), options: lossOptions(axis: -1),
                outputs: .gradients, memoryBudget: memoryBudget)
            func relative(_ a: [T], _ b: [T]?) -> Double {
                guard let b else { return .nan }
                let largest = b.reduce(0.0) { Swift.max($0, abs(Double($1))) }
                let difference = zip(a, b).reduce(0.0) { Swift.max($0, abs(Double($1.0) - Double($1.1))) }
                return largest == 0 ? difference : difference / largest
            }
            filterErrors = (
                relative(dHidden, exact.hiddenGradient?.scalars), relative(dWeight, exact.weightGradient?.scalars)
            )
        }
        let floor = try gemmFloor(hidden, weight, &dHidden, &dWeight, n: n, d: d, v: v)
        let shapeText = "\(n)x\(d)x\(v)"
        let threadCount = SoftmaxThreads.effective
        if json {
            func line(_ op: String, _ seconds: Double, _ extra: String) -> String {
                "{\"op\": \"\(op)\", \"shape\": \"\(shapeText)\", \"dtype\": \"\(dtype.rawValue)\", "
                    + "\"threads\": \(threadCount), \"blas\": \"\(blas)\"\(lossOptionsJSON), "
                    + "\"median_ms\": \(String(format: "%.6g", seconds * 1e3)), "
                    + "\"gflops\": \(String(format: "%.6g", flops / seconds / 1e9))\(extra)}"
            }
            let filterJSON =
                gradientFilter > 0
                ? ", \"gradient_filter\": \(gradientFilter), \"error_dhidden\": \(filterErrors.hidden), "
                    + "\"error_dweight\": \(filterErrors.weight)" : ""
            return line(
                "linear-cross-entropy", fused,
                ", \"extra_peak_mib\": \(String(format: "%.1f", extraMiB)), \"memory_budget_mib\": "
                    + String(format: "%.1f", Double(memoryBudget) / 1048576) + filterJSON
                    + (peaked ? ", \"peaked\": true" : ""))
                + "\n" + line("gemm-floor", floor, "")
        }
        let filterText =
            gradientFilter > 0
            ? String(
                format: "\ngradient filter %g%@: error dHidden %.3g, dWeight %.3g (of the largest entry)",
                gradientFilter, peaked ? " (peaked logits)" : "", filterErrors.hidden, filterErrors.weight) : ""
        return String(
            format: "linear-cross-entropy %@ %@ threads %d%@: median %.1f ms, %.1f GFLOP/s, extra peak %.1f MiB "
                + "(budget %.0f MiB); blas %@\ngemm-floor           %@ %@ threads %d: median %.1f ms, %.1f GFLOP/s "
                + "(the three products, logits in full)",
            shapeText, dtype.rawValue, threadCount, lossOptionsText, fused * 1e3, flops / fused / 1e9, extraMiB,
            Double(memoryBudget) / 1048576, blas, shapeText, dtype.rawValue, threadCount, floor * 1e3,
            flops / floor / 1e9) + filterText
    }

    /// Median seconds of the three bare products of the same sizes on the same BLAS: logits
    /// `H·Wᵀ` in full, then `dH = G·W` and `dW = Gᵀ·H` with the logits standing for `G`.
    private func gemmFloor<T: GEMMScalar>(
        _ hidden: [T], _ weight: [T], _ dHidden: inout [T], _ dWeight: inout [T], n: Int, d: Int, v: Int
    ) throws -> Double {
        try ResourceLimits.check(
            ResourceLimits.bytes(count: ResourceLimits.bytes(count: n, size: v), size: MemoryLayout<T>.stride),
            for: "the gemm floor's \(n)x\(v) logits")
        var logits = [T](repeating: 0, count: n * v)
        return try medianSeconds(runs: Swift.min(repeats, 5)) {
            hidden.withUnsafeBufferPointer { h in
                weight.withUnsafeBufferPointer { w in
                    logits.withUnsafeMutableBufferPointer { z in
                        let (hOperand, gOperand) = (
                            MatrixOperand(h.address, rowStride: d),
                            MatrixOperand(UnsafePointer(z.address), rowStride: v)
                        )
                        GEMM.multiply(
                            m: n, n: v, k: d, hOperand, MatrixOperand(w.address, rowStride: d, transpose: .transposed),
                            into: z.address)
                        dHidden.withUnsafeMutableBufferPointer { dh in
                            GEMM.multiply(
                                m: n, n: d, k: v, gOperand, MatrixOperand(w.address, rowStride: d), into: dh.address)
                        }
                        dWeight.withUnsafeMutableBufferPointer { dw in
                            GEMM.multiply(
                                m: v, n: d, k: n,
                                MatrixOperand(UnsafePointer(z.address), rowStride: v, transpose: .transposed),
                                hOperand, into: dw.address)
                        }
                    }
                }
            }
        }
    }

    /// The process's peak resident memory so far, in bytes (`getrusage`).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if canImport(Darwin)
            getrusage(RUSAGE_SELF, &usage)
            return Int(usage.ru_maxrss)  // bytes on Darwin
        #else
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return Int(usage.ru_maxrss) * 1024  // KiB on Linux
        #endif
    }
}
