import Foundation
import Softmax
import Testing

// Reading hand-built .npy files: format versions, byte orders, Fortran order, 0-d, 1-d and
// empty shapes, and the header spellings other writers produce.

private func float64Data(_ values: [Double]) -> [UInt8] { values.flatMap { littleEndianBytes($0.bitPattern) } }
private func float32Data(_ values: [Float]) -> [UInt8] { values.flatMap { littleEndianBytes($0.bitPattern) } }

@Suite("NPY reader on hand-built files")
struct NPYReadTests {
    static let values: [Double] = [1.5, -2, 0.25, 1e300, -0.0, 3]

    @Test("format versions 1.0, 2.0 and 3.0", arguments: [UInt8(1), 2, 3])
    func versions(_ major: UInt8) throws {
        let file = handBuiltNPY(
            major: major, header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
            data: float64Data(Self.values))
        // The length field is 2 bytes in 1.0 and 4 bytes in 2.0 and 3.0.
        #expect(file[8 + (major == 1 ? 2 : 4)] == UInt8(ascii: "{"))
        let array = try NPYArray(npyBytes: file)
        #expect(array.dataType == .float64)
        #expect(array.shape == [2, 3])
        #expect(array.doubles().map(\.bitPattern) == Self.values.map(\.bitPattern))
    }

    @Test("version 2.0 with a header length above 65535")
    func version2LongHeader() throws {
        // Only possible with a 4-byte length: 70,000 bytes of header padding.
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" + String(repeating: " ", count: 70_000)
        let file = handBuiltNPY(major: 2, header: header, data: float32Data([7, -8]))
        let array = try NPYArray(npyBytes: file)
        #expect(array.shape == [2])
        #expect(array.doubles() == [7, -8])
    }

    @Test("version 3.0 header in UTF-8")
    func version3UTF8() throws {
        // Version 3.0 differs from 2.0 only in the header's encoding (UTF-8 instead of Latin-1);
        // an ASCII header is valid UTF-8.
        let file = handBuiltNPY(
            major: 3, header: "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }",
            data: [Int16(-5), 300, 7].flatMap { littleEndianBytes($0) })
        let array = try NPYArray(npyBytes: file)
        #expect(array.dataType == .int16)
        #expect(try array.scalars(as: Int16.self) == [-5, 300, 7])
    }

    @Test("a header without the 64-byte padding is still read")
    func unpaddedHeader() throws {
        let file = handBuiltNPY(
            header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: float32Data([1, 2]), pad: false)
        #expect((file.count - 8) % 64 != 0)
        #expect(try NPYArray(npyBytes: file).doubles() == [1, 2])
    }

    // MARK: Byte order

    @Test("big-endian float32 '>f4'")
    func bigEndianFloat32() throws {
        let v: [Float] = [1.5, -2.25, 3e38, .leastNonzeroMagnitude, -.infinity]
        let file = handBuiltNPY(
            header: "{'descr': '>f4', 'fortran_order': False, 'shape': (5,), }",
            data: v.flatMap { bigEndianBytes($0.bitPattern) })
        let array = try NPYArray(npyBytes: file)
        #expect(array.dataType == .float32)
        #expect(try array.scalars(as: Float.self) == v)
        // Re-written in native (little-endian) order.
        #expect(array.bytes == v.flatMap { littleEndianBytes($0.bitPattern) })
    }

    @Test("big-endian float64 '>f8'")
    func bigEndianFloat64() throws {
        let v: [Double] = [.pi, -0.0, 1e-300, 12345.678]
        let file = handBuiltNPY(
            header: "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }",
            data: v.flatMap { bigEndianBytes($0.bitPattern) })
        let array = try NPYArray(npyBytes: file)
        #expect(array.shape == [2, 2])
        #expect(try array.scalars(as: Double.self).map(\.bitPattern) == v.map(\.bitPattern))
    }

    @Test("big-endian int64 '>i8'")
    func bigEndianInt64() throws {
        let v: [Int64] = [-1, (1 << 40) + 3, .min, .max, 258]
        let file = handBuiltNPY(
            header: "{'descr': '>i8', 'fortran_order': False, 'shape': (5,), }", data: v.flatMap { bigEndianBytes($0) })
        let array = try NPYArray(npyBytes: file)
        #expect(array.dataType == .int64)
        #expect(try array.scalars(as: Int64.self) == v)
    }

    @Test("big-endian float16 '>f2'")
    func bigEndianFloat16() throws {
        let v: [Double] = [1.5, -0.5, 65504, 0.000061035156250, -3.25]  // the 4th is 2^-14
        let file = handBuiltNPY(
            header: "{'descr': '>f2', 'fortran_order': False, 'shape': (5,), }",
            data: v.flatMap { bigEndianBytes(halfBits($0)) })
        let array = try NPYArray(npyBytes: file)
        #expect(array.dataType == .float16)
        #expect(array.doubles() == v)
    }

    @Test("big-endian small integers '>i2', '>u4' and byte types with '|'")
    func bigEndianIntegers() throws {
        let a = try NPYArray(
            npyBytes: handBuiltNPY(
                header: "{'descr': '>i2', 'fortran_order': False, 'shape': (3,), }",
                data: [Int16(-2), 513, .min].flatMap { bigEndianBytes($0) }))
        #expect(try a.scalars(as: Int16.self) == [-2, 513, .min])
        let b = try NPYArray(
            npyBytes: handBuiltNPY(
                header: "{'descr': '>u4', 'fortran_order': False, 'shape': (2,), }",
                data: [UInt32(0xDEAD_BEEF), 1].flatMap { bigEndianBytes($0) }))
        #expect(try b.scalars(as: UInt32.self) == [0xDEAD_BEEF, 1])
        let c = try NPYArray(
            npyBytes: handBuiltNPY(
                header: "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", data: [0xFF, 0x7F]))
        #expect(try c.scalars(as: Int8.self) == [-1, 127])
    }

    @Test("explicit little-endian '<' and native '=' byte order")
    func littleAndNativeOrder() throws {
        for order in ["<", "="] {
            let array = try NPYArray(
                npyBytes: handBuiltNPY(
                    header: "{'descr': '\(order)f4', 'fortran_order': False, 'shape': (2,), }",
                    data: float32Data([0.5, -9])))
            #expect(array.doubles() == [0.5, -9], "\(order)")
        }
    }

    // MARK: Fortran order

    @Test("Fortran-order 2×3 is read into C order")
    func fortran2x3() throws {
        // value(i, j) = 10·i + j; Fortran order stores the first index fastest.
        var fortran: [Double] = []
        for j in 0..<3 { for i in 0..<2 { fortran.append(Double(10 * i + j)) } }
        let file = handBuiltNPY(
            header: "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", data: float64Data(fortran))
        let array = try NPYArray(npyBytes: file)
        #expect(array.shape == [2, 3])
        #expect(array.doubles() == [0, 1, 2, 10, 11, 12])
    }

    @Test("Fortran-order 2×3×4 is read into C order")
    func fortran2x3x4() throws {
        // value(i, j, k) = 100·i + 10·j + k.
        var fortran: [Int32] = []
        for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { fortran.append(Int32(100 * i + 10 * j + k)) } } }
        var cOrder: [Int32] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { cOrder.append(Int32(100 * i + 10 * j + k)) } } }
        let file = handBuiltNPY(
            header: "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }",
            data: fortran.flatMap { littleEndianBytes($0) })
        let array = try NPYArray(npyBytes: file)
        #expect(array.shape == [2, 3, 4])
        #expect(try array.scalars(as: Int32.self) == cOrder)
    }

    @Test("big-endian Fortran-order float32")
    func bigEndianFortran() throws {
        var fortran: [Float] = []
        for j in 0..<3 { for i in 0..<2 { fortran.append(Float(i) + Float(j) / 4) } }
        let file = handBuiltNPY(
            header: "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }",
            data: fortran.flatMap { bigEndianBytes($0.bitPattern) })
        #expect(try NPYArray(npyBytes: file).doubles() == [0, 0.25, 0.5, 1, 1.25, 1.5])
    }

    @Test("Fortran order is a no-op for 0-d, 1-d and empty arrays")
    func fortranTrivialShapes() throws {
        let oneD = handBuiltNPY(
            header: "{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }", data: float64Data([1, 2, 3]))
        #expect(try NPYArray(npyBytes: oneD).doubles() == [1, 2, 3])
        let zeroD = handBuiltNPY(
            header: "{'descr': '<f8', 'fortran_order': True, 'shape': (), }", data: float64Data([4]))
        #expect(try NPYArray(npyBytes: zeroD).doubles() == [4])
        let empty = handBuiltNPY(header: "{'descr': '<f8', 'fortran_order': True, 'shape': (0, 3), }", data: [])
        let e = try NPYArray(npyBytes: empty)
        #expect(e.shape == [0, 3] && e.count == 0)
    }

    // MARK: Shapes

    @Test("a 0-d array (shape ())")
    func zeroD() throws {
        let array = try NPYArray(
            npyBytes: handBuiltNPY(
                header: "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", data: float64Data([2.5])))
        #expect(array.shape == [])
        #expect(array.count == 1)
        #expect(array.doubles() == [2.5])
    }

    @Test("a 1-d array (shape (5,))")
    func oneD() throws {
        let array = try NPYArray(
            npyBytes: handBuiltNPY(
                header: "{'descr': '<u2', 'fortran_order': False, 'shape': (5,), }",
                data: [UInt16(0), 1, 2, 65535, 9].flatMap { littleEndianBytes($0) }))
        #expect(array.shape == [5])
        #expect(try array.scalars(as: UInt16.self) == [0, 1, 2, 65535, 9])
    }

    @Test("an empty array (shape (0, 3))")
    func empty() throws {
        let array = try NPYArray(
            npyBytes: handBuiltNPY(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", data: []))
        #expect(array.shape == [0, 3])
        #expect(array.count == 0)
        #expect(array.doubles().isEmpty)
    }

    @Test("bytes after the data are ignored")
    func trailingBytes() throws {
        let array = try NPYArray(
            npyBytes: handBuiltNPY(
                header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                data: float32Data([1, 2]) + [9, 9, 9]))
        #expect(array.doubles() == [1, 2])
    }

    // MARK: Header spellings

    @Test(
        "header variants",
        arguments: [
            #"{"descr": "<f4", "fortran_order": False, "shape": (2, 2), }"#,  // double quotes
            "{'shape': (2, 2), 'fortran_order': False, 'descr': '<f4', }",  // other key order
            "{'fortran_order': False, 'descr': '<f4', 'shape': (2, 2)}",  // no trailing comma
            "{ 'descr' :  '<f4' ,\t'fortran_order' : False ,  'shape' : ( 2 ,  2 , ) , }",  // extra spaces
            "{'descr':'<f4','fortran_order':False,'shape':(2,2)}",  // no spaces
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 2L), }",  // Python 2 longs
        ])
    func headerVariants(_ header: String) throws {
        let array = try NPYArray(npyBytes: handBuiltNPY(header: header, data: float32Data([1, -2, 3.5, 4])))
        #expect(array.dataType == .float32)
        #expect(array.shape == [2, 2])
        #expect(array.doubles() == [1, -2, 3.5, 4])
    }
}
