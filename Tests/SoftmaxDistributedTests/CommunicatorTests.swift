import Testing

@testable import SoftmaxDistributed

/// The collectives of the local group against their definitions: sums and maxima in rank
/// order, the same bits on every rank, broadcasts from any root, and an error on every rank
/// when one rank fails instead of a hang.
@Suite("Communicators")
struct CommunicatorTests {
    @Test(arguments: [1, 2, 3, 4])
    func localGroupCombinesInRankOrder(size: Int) throws {
        let results = try LocalCommunicatorGroup.run(size: size) { communicator -> ([Double], [Float], [UInt8]) in
            let r = Double(communicator.rank)
            var sums = [0.1 * r, 1e16 * (r == 0 ? 1 : 0), 1 + r, -r]
            try communicator.allReduce(&sums, .sum)
            var maxima: [Float] = [Float(r), -Float(r), r == 1 ? .infinity : 0]
            try communicator.allReduce(&maxima, .maximum)
            var bytes = [UInt8](repeating: UInt8(communicator.rank), count: 5)
            try bytes.withUnsafeMutableBytes { try communicator.broadcast($0, from: size - 1) }
            try communicator.barrier()
            return (sums, maxima, bytes)
        }
        var want = [0.0, 0, 0, 0]
        for r in 0..<size {
            let d = Double(r)
            want = zip(want, [0.1 * d, 1e16 * (r == 0 ? 1 : 0), 1 + d, -d]).map { $0 + $1 }
        }
        for (rank, result) in results.enumerated() {
            #expect(result.0 == want, "rank \(rank): \(result.0) vs \(want)")
            #expect(result.1 == [Float(size - 1), 0, size > 1 ? .infinity : 0], "rank \(rank)")
            #expect(result.2 == [UInt8](repeating: UInt8(size - 1), count: 5), "rank \(rank)")
        }
    }

    struct Failure: Error {}

    @Test func aFailingRankReleasesTheOthers() {
        #expect(throws: Failure.self) {
            _ = try LocalCommunicatorGroup.run(size: 3) { communicator -> Int in
                if communicator.rank == 1 { throw Failure() }
                var values: [Float] = [1]
                try communicator.allReduce(&values, .sum)
                try communicator.barrier()
                return 0
            }
        }
    }

    @Test func singleProcessLeavesValues() throws {
        let communicator = SingleProcessCommunicator()
        var values: [Double] = [1, 2, .nan]
        try communicator.allReduce(&values, .sum)
        #expect(values[0] == 1 && values[1] == 2 && values[2].isNaN)
        #expect(communicator.rank == 0 && communicator.size == 1 && communicator.isRoot)
    }

    @Test func evenShardsTileTheVocabulary() throws {
        for total in [0, 1, 7, 32000] {
            for size in 1...5 {
                let shards = (0..<size).map { ClassShard.even(totalClasses: total, rank: $0, size: size) }
                #expect(shards.first?.start == 0 && shards.last.map { $0.start + $0.count } == total)
                for (a, b) in zip(shards, shards.dropFirst()) { #expect(a.start + a.count == b.start) }
                #expect(shards.map(\.count).max()! - shards.map(\.count).min()! <= 1)
            }
        }
        #expect(throws: (any Error).self) { try ClassShard(start: 5, count: 3, totalClasses: 7) }
        #expect(throws: (any Error).self) { try ClassShard(start: -1, count: 3, totalClasses: 7) }
    }
}
