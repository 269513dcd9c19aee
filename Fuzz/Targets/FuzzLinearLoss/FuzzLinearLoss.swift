import FuzzDriver
import SoftmaxFuzzing

/// libFuzzer's per-input callback: runs `FuzzEntryPoints.linearLoss` on one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    crashOnViolation { try FuzzEntryPoints.linearLoss(UnsafeRawBufferPointer(start: data, count: size)) }
    return 0
}

/// The process entry point SwiftPM links (see `runLibFuzzer`).
@_cdecl("FuzzLinearLoss_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzOneInput)
}
