import Testing

@testable import SoftmaxTraining

@Suite("Embedded data")
struct EmbeddedDataTests {
    @Test func digitsAreAGzipFile() {
        let bytes = EmbeddedData.digitsCSVGzip
        #expect(bytes.count > 50_000)
        #expect(Array(bytes.prefix(2)) == [0x1f, 0x8b])
    }
}
