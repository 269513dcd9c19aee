#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// A value guarded by a pthread mutex.
///
/// Used instead of the standard library's `Synchronization.Mutex` because ThreadSanitizer
/// cannot see `Mutex`'s contended path on Linux (a futex call inside the uninstrumented
/// Synchronization library): a 15-line program of four threads appending to a `Mutex<[Int]>`
/// got 2–3 false race reports per run, and the test suite 66, all in `StagingPool`.  A pthread
/// mutex is intercepted by TSan, so a TSan run reports only real races.
final class PthreadLocked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // Only read or written between `pthread_mutex_lock` and `pthread_mutex_unlock`.
    private var value: Value

    /// A lock holding `value`.
    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the value with the lock held.
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
