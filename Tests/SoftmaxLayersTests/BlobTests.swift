import Softmax
import SoftmaxLayers
import Testing

/// `Blob`: data and diff of one shape, Caffe's reshape semantics.
@Suite struct BlobTests {
    @Test func zeroFilled() throws {
        let blob = try Blob<Float>(shape: [2, 3, 4])
        #expect(blob.count == 24)
        #expect(blob.shape == [2, 3, 4])
        #expect(blob.data == [Float](repeating: 0, count: 24))
        #expect(blob.diff == [Float](repeating: 0, count: 24))
    }

    @Test func scalarAndEmptyShapes() throws {
        #expect(try Blob<Double>(shape: []).count == 1)
        #expect(try Blob<Double>(shape: [3, 0, 2]).count == 0)
    }

    @Test func withData() throws {
        let blob = try Blob<Double>(shape: [2, 2], data: [1, 2, 3, 4])
        #expect(blob.data == [1, 2, 3, 4])
        #expect(blob.diff == [0, 0, 0, 0])
        let error = #expect(throws: SoftmaxError.self) { try Blob<Double>(shape: [2, 2], data: [1, 2, 3]) }
        guard case .countMismatch(_, 4, 3) = error else {
            Issue.record("expected countMismatch(4, 3), got \(String(describing: error))")
            return
        }
    }

    @Test func negativeDimension() throws {
        let error = #expect(throws: SoftmaxError.self) { try Blob<Float>(shape: [2, -1]) }
        guard case .invalidShape([2, -1], _) = error else {
            Issue.record("expected invalidShape, got \(String(describing: error))")
            return
        }
        let blob = try Blob<Float>(shape: [2])
        #expect(throws: SoftmaxError.self) { try blob.reshape([-3]) }
        #expect(blob.shape == [2], "a refused reshape changes nothing")
    }

    @Test func reshapeKeepsContentsWhenTheCountIsUnchanged() throws {
        let blob = try Blob<Float>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        blob.diff = [6, 5, 4, 3, 2, 1]
        try blob.reshape([3, 1, 2])
        #expect(blob.shape == [3, 1, 2])
        #expect(blob.data == [1, 2, 3, 4, 5, 6])
        #expect(blob.diff == [6, 5, 4, 3, 2, 1])
        try blob.reshape([4])
        #expect(blob.shape == [4])
        #expect(blob.data == [0, 0, 0, 0])
        #expect(blob.diff == [0, 0, 0, 0])
    }
}
