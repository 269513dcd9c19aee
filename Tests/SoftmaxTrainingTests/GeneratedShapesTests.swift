import Testing

@testable import SoftmaxTraining

@Suite("Generated shapes")
struct GeneratedShapesTests {
    /// Mean value of channel `c` over the pixels with label `label`.
    func channelMean(_ set: Dataset, channel c: Int, label: Int32) -> Double {
        var sum = 0.0
        var count = 0
        let positions = set.positionsPerSample
        for n in 0..<set.samples {
            for p in 0..<positions where set.labels[n * positions + p] == label {
                sum += Double(set.values[(n * 3 + c) * positions + p])
                count += 1
            }
        }
        return sum / Double(count)
    }

    @Test func classesHaveTheirColours() {
        let set = GeneratedShapes.make(count: 40, side: 32, seed: 3)
        #expect(set.samples == 40 && set.inputCount == 3 && set.height == 32 && set.width == 32)
        #expect(set.values.count == 40 * 3 * 32 * 32 && set.labels.count == 40 * 32 * 32)
        #expect(Set(set.labels).isSubset(of: [0, 1, 2, 255]))
        // Disks are warm (red above blue), squares cool, the background gray.
        let disk = (0..<3).map { channelMean(set, channel: $0, label: 1) }
        let square = (0..<3).map { channelMean(set, channel: $0, label: 2) }
        let background = (0..<3).map { channelMean(set, channel: $0, label: 0) }
        print("disk", disk, "square", square, "background", background)
        #expect(disk[0] > disk[2] + 0.4)
        #expect(square[2] > square[0] + 0.4)
        #expect(abs(background[0] - background[2]) < 0.05)
    }

    @Test func sameSeedSameImages() {
        let a = GeneratedShapes.make(count: 3, side: 16, seed: 9)
        let b = GeneratedShapes.make(count: 3, side: 16, seed: 9)
        let c = GeneratedShapes.make(count: 3, side: 16, seed: 10)
        #expect(a.values == b.values && a.labels == b.labels)
        #expect(a.values != c.values)
    }
}
