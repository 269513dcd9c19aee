/// Transposes each of `count` consecutive `rows × columns` matrices of `source` into
/// `columns × rows` in `destination`: `[images, positions, classes]` (a row of scores per pixel)
/// to `[images, classes, positions]` (NCHW) with `rows: positions, columns: classes`, and back
/// with the two swapped.
///
/// - Complexity: O(count · rows · columns).
func transposeMatrices(_ source: [Float], into destination: inout [Float], count: Int, rows: Int, columns: Int) {
    source.withUnsafeBufferPointer { src in
        destination.withUnsafeMutableBufferPointer { dst in
            for n in 0..<count {
                let base = n * rows * columns
                for r in 0..<rows { for c in 0..<columns { dst[base + c * rows + r] = src[base + r * columns + c] } }
            }
        }
    }
}
