/* Whether this compiler can build the x86 SIMD kernels: GCC >= 12 or clang (vector
 * extensions with __builtin_shufflevector and __builtin_convertvector) on x86-64.
 * -DFI_NO_SIMD builds the portable scalar path only (what other compilers and
 * architectures get); tests/test_build.py builds and checks it that way too. */
#ifndef FI_SIMD_AVAILABLE_H
#define FI_SIMD_AVAILABLE_H

#if !defined(FI_NO_SIMD) && defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#define FI_HAVE_X86_SIMD 1
#else
#define FI_HAVE_X86_SIMD 0
#endif

#endif
