import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// Settings of the threaded driver.
public enum SoftmaxThreads {
    private static let limit = Atomic<Int>(0)

    /// The most threads one call may use; 0 (the default) means one per core.
    ///
    /// Results are bitwise identical whatever the value: the work is cut into the same tiles
    /// and partial sums are added in the same order.
    public static var maximum: Int {
        get { limit.load(ordering: .relaxed) }
        set { limit.store(Swift.max(0, newValue), ordering: .relaxed) }
    }

    /// The cap set by `withMaximum` for the current task, if any.
    @TaskLocal static var override: Int?

    /// Runs `body` with at most `threads` threads per call (0: one per core) for calls made by
    /// the current task only; other tasks keep `maximum`.  Read on the calling thread, as every
    /// call does before it splits its work.
    public static func withMaximum<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        try $override.withValue(Swift.max(0, threads), operation: body)
    }

    /// The number of threads a call with enough work uses.
    public static var effective: Int {
        let m = override ?? maximum
        let cores = OnlineProcessors.count
        return m == 0 ? cores : Swift.min(m, cores)
    }
}

/// The number of online processors (`sysconf(_SC_NPROCESSORS_ONLN)`), read once: the thread
/// count a call uses by default.
enum OnlineProcessors {
    static let count: Int = {
        #if canImport(Glibc)
            return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return Swift.max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
        #endif
    }()
}
