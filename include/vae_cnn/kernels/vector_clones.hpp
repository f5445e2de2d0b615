// Hand-written loops are compiled for the baseline x86-64 and, beside it, for AVX2 and AVX-512;
// the loader picks the widest the CPU has (GCC's target_clones), so one binary runs everywhere.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VAE_CNN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VAE_CNN_VECTOR_CLONES
#endif
