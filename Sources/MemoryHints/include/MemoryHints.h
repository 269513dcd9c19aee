#ifndef SOFTMAX_MEMORY_HINTS_H
#define SOFTMAX_MEMORY_HINTS_H

/// Cache hints the Swift kernels cannot spell: header-only, so they inline into the kernels.

/// Asks for the cache line holding `address` to be brought into cache for reading.
static inline __attribute__((always_inline)) void softmax_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Asks for the cache line holding `address` to be brought into cache for writing.
static inline __attribute__((always_inline)) void softmax_prefetch_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
