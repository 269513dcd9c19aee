#ifndef SOFTMAX_MEMORY_HINTS_H
#define SOFTMAX_MEMORY_HINTS_H

/// Hints the Swift code cannot spell (cache prefetches, the spin-wait pause): header-only, so
/// they inline into the callers.

/// Asks for the cache line holding `address` to be brought into cache for reading.
static inline __attribute__((always_inline)) void softmax_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Asks for the cache line holding `address` to be brought into L2 (not L1) for reading:
/// data needed after the current working set.
static inline __attribute__((always_inline)) void softmax_prefetch_read_l2(const void *address) {
    __builtin_prefetch(address, 0, 2);
}

/// Asks for the cache line holding `address` to be brought into cache for writing.
static inline __attribute__((always_inline)) void softmax_prefetch_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Vector types that Swift imports as `SIMD4<Float>` … `SIMD8<Double>`.
typedef float softmax_float4 __attribute__((ext_vector_type(4)));
typedef float softmax_float8 __attribute__((ext_vector_type(8)));
typedef float softmax_float16 __attribute__((ext_vector_type(16)));
typedef double softmax_double2 __attribute__((ext_vector_type(2)));
typedef double softmax_double4 __attribute__((ext_vector_type(4)));
typedef double softmax_double8 __attribute__((ext_vector_type(8)));

/// Non-temporal (streaming) vector stores `softmax_stream_float4(address, value)` …: the line
/// goes to memory without being read into the cache first.  `address` must be aligned to the
/// vector's size.  Follow a run of them with `softmax_store_fence` before another thread may
/// read the data.
#define SOFTMAX_STREAM_STORE(vector, scalar)                                                                  \
    static inline __attribute__((always_inline)) void softmax_stream_##vector(scalar *address,                \
                                                                              softmax_##vector value) {        \
        __builtin_nontemporal_store(value, (softmax_##vector *)address);                                      \
    }
SOFTMAX_STREAM_STORE(float4, float)
SOFTMAX_STREAM_STORE(float8, float)
SOFTMAX_STREAM_STORE(float16, float)
SOFTMAX_STREAM_STORE(double2, double)
SOFTMAX_STREAM_STORE(double4, double)
SOFTMAX_STREAM_STORE(double8, double)
#undef SOFTMAX_STREAM_STORE

/// Orders earlier streaming stores before later stores (`sfence` on x86).
static inline __attribute__((always_inline)) void softmax_store_fence(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_sfence();
#endif
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
