#ifndef SOFTMAX_CPU_FEATURES_H
#define SOFTMAX_CPU_FEATURES_H

/// The best kernel level this CPU runs: 0 portable, 1 AVX2 + FMA (x86-64-v3),
/// 2 AVX-512 F/BW/DQ/VL (x86-64-v4).  Always 0 off x86-64.
int softmax_cpu_level(void);

#endif
