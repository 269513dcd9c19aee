/// The small dense linear algebra the inner-product layer needs, on raw `Float` pointers.
///
/// Two loop shapes only, both with a contiguous innermost loop: a dot product (8-lane vectors,
/// two accumulators) and `y += a·x` (which the compiler vectorises).  Every product the layer
/// takes is written as one of them, so no matrix is ever transposed.
enum DenseMath {
    /// `Σ a[i]·b[i]` for `i < count`.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        var s0 = SIMD8<Float>()
        var s1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            s0 +=
                ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            s1 +=
                ra.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            i += 16
        }
        var sum = (s0 + s1).sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// `y[i] += alpha·x[i]` for `i < count`.
    @inline(__always)
    static func addScaled(_ alpha: Float, _ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
        if alpha == 0 { return }
        for i in 0..<count { y[i] += alpha * x[i] }
    }
}
