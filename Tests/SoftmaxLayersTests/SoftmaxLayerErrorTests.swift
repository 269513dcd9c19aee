import Softmax
import SoftmaxLayers
import Testing

/// `SoftmaxLayer` refuses bad calls with errors (Caffe `CHECK`s and aborts).
@Suite struct SoftmaxLayerErrorTests {
    @Test(arguments: [0, 2]) func wrongBottomCount(count: Int) throws {
        let blobs = try (0..<count).map { _ in try Blob<Float>(shape: [2, 3]) }
        let top = try Blob<Float>(shape: [2, 3])
        for call in ["forward", "backward"] {
            let error = #expect(throws: LayerError.self) {
                if call == "forward" {
                    try SoftmaxLayer().forward(bottom: blobs, top: [top])
                } else {
                    try SoftmaxLayer().backward(top: [top], bottom: blobs)
                }
            }
            guard case .blobCount(let name, let role, _, let actual) = error else {
                Issue.record("\(call): expected blobCount, got \(String(describing: error))")
                continue
            }
            #expect(name == "Softmax" && role == "bottom" && actual == count, "\(call)")
        }
    }

    @Test(arguments: [0, 2]) func wrongTopCount(count: Int) throws {
        let bottom = try Blob<Double>(shape: [2, 3])
        let blobs = try (0..<count).map { _ in try Blob<Double>(shape: [2, 3]) }
        for call in ["forward", "backward"] {
            let error = #expect(throws: LayerError.self) {
                if call == "forward" {
                    try SoftmaxLayer().forward(bottom: [bottom], top: blobs)
                } else {
                    try SoftmaxLayer().backward(top: blobs, bottom: [bottom])
                }
            }
            guard case .blobCount(let name, let role, _, let actual) = error else {
                Issue.record("\(call): expected blobCount, got \(String(describing: error))")
                continue
            }
            #expect(name == "Softmax" && role == "top" && actual == count, "\(call)")
        }
    }

    @Test(arguments: [4, -5]) func axisOutOfRange(axis: Int) throws {
        let bottom = try Blob<Float>(shape: softmaxShape)
        let top = try Blob<Float>(shape: [1])
        #expect(throws: SoftmaxError.axisOutOfRange(axis: axis, rank: 4)) {
            try SoftmaxLayer(axis: axis).forward(bottom: [bottom], top: [top])
        }
        #expect(top.shape == [1], "a refused forward leaves the top alone")
    }

    @Test func scalarBlobHasNoAxis() throws {
        let blob = try Blob<Float>(shape: [])
        #expect(throws: SoftmaxError.axisOutOfRange(axis: 1, rank: 0)) {
            try SoftmaxLayer().forward(bottom: [blob], top: [try Blob<Float>(shape: [])])
        }
    }

    @Test func backwardShapeMismatch() throws {
        let bottom = try Blob<Float>(shape: [2, 3])
        let top = try Blob<Float>(shape: [3, 2])
        let error = #expect(throws: SoftmaxError.self) { try SoftmaxLayer().backward(top: [top], bottom: [bottom]) }
        guard case .shapeMismatch(_, [2, 3], [3, 2]) = error else {
            Issue.record("expected shapeMismatch((2, 3), (3, 2)), got \(String(describing: error))")
            return
        }
    }
}
