import SoftmaxFuzzing

/// libFuzzer's per-input callback: runs `FuzzEntryPoints.idx` on one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzEntryPoints.idx(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's driver, in the runtime that `-sanitize=fuzzer` links.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The process entry point.  SwiftPM links an executable with `main` defined as
/// `<target>_main` (it renames executables' entry points so tests can link them); with
/// `-parse-as-library` no Swift `main` exists, so this one hands over to libFuzzer's driver,
/// exactly what libFuzzer's own `main` does.  (Where SwiftPM does not rename, libFuzzer's
/// `main` is linked instead and this function is unused.)
@_cdecl("FuzzIDX_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, fuzzOneInput)
}
