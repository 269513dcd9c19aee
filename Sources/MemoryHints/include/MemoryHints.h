#ifndef SOFTMAX_MEMORY_HINTS_H
#define SOFTMAX_MEMORY_HINTS_H

/// Hints the Swift code cannot spell (cache prefetches, the spin-wait pause): header-only, so
/// they inline into the callers.

/// Asks for the cache line holding `address` to be brought into cache for reading.
static inline __attribute__((always_inline)) void softmax_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Asks for the cache line holding `address` to be brought into cache for writing.
static inline __attribute__((always_inline)) void softmax_prefetch_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Tells the core this thread is spinning on a shared variable.
static inline __attribute__((always_inline)) void softmax_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
