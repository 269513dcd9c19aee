/// The data sets compiled into the binary.
enum EmbeddedData {
    /// `digits.csv.gz`: 1797 8×8 handwritten digits (UCI, CC BY 4.0; see Resources/README.md).
    static var digitsCSVGzip: [UInt8] { PackageResources.digits_csv_gz }
}
