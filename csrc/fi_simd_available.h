/* Whether this compiler can build the x86 SIMD kernels: GCC >= 12 or clang (vector
 * extensions with __builtin_shufflevector and __builtin_convertvector) on x86-64. */
#ifndef FI_SIMD_AVAILABLE_H
#define FI_SIMD_AVAILABLE_H

#if defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#define FI_HAVE_X86_SIMD 1
#else
#define FI_HAVE_X86_SIMD 0
#endif

#endif
