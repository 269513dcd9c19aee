/// libFuzzer's driver, in the runtime that `-sanitize=fuzzer` links.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Hands the process over to libFuzzer with `callback` as the per-input function, exactly what
/// libFuzzer's own `main` does.
///
/// Each target needs its own `<target>_main`: SwiftPM links an executable with `main` defined
/// as `<target>_main` (it renames executables' entry points so tests can link them), and with
/// `-parse-as-library` no Swift `main` exists.  (Where SwiftPM does not rename, libFuzzer's
/// `main` is linked instead and the target's `<target>_main` is unused.)
public func runLibFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, callback)
}

/// Runs an entry point on one input and stops the process when it throws (an invariant that
/// does not hold), the only way a libFuzzer run reports a bug besides a crash of its own.
public func crashOnViolation(_ body: () throws -> Void) {
    do { try body() } catch { fatalError("\(error)") }
}
