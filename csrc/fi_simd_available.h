/* Which SIMD kernels this compiler can build: the vector extensions with
 * __builtin_shufflevector and __builtin_convertvector, i.e. GCC >= 12 or clang (including
 * clang-cl, which defines _MSC_VER and __clang__ but not __GNUC__; plain MSVC has neither).
 *   FI_HAVE_X86_SIMD   AVX2 and AVX-512 kernels, on x86-64 (__x86_64__, or _M_X64 for MSVC-style
 *                      compilers)
 *   FI_HAVE_NEON_SIMD  NEON kernels, on AArch64 (NEON is part of its baseline)
 * -DFI_NO_SIMD builds the portable scalar path only (what other compilers and
 * architectures get); tests/test_build.py builds and checks it that way too. */
#ifndef FI_SIMD_AVAILABLE_H
#define FI_SIMD_AVAILABLE_H

#if !defined(FI_NO_SIMD) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#define FI_HAVE_VECTOR_EXTENSIONS 1
#else
#define FI_HAVE_VECTOR_EXTENSIONS 0

/* 2: AVX-512 F+BW+DQ+VL and AVX2+F16C, 1: AVX2+F16C, 0: neither, or the OS does not save their
 * registers, or no x86 kernels in this build (cpuid_x86.c) */
int fi_x86_level(void);

#endif

#if FI_HAVE_VECTOR_EXTENSIONS && (defined(__x86_64__) || defined(_M_X64))
#define FI_HAVE_X86_SIMD 1
#else
#define FI_HAVE_X86_SIMD 0

/* 2: AVX-512 F+BW+DQ+VL and AVX2+F16C, 1: AVX2+F16C, 0: neither, or the OS does not save their
 * registers, or no x86 kernels in this build (cpuid_x86.c) */
int fi_x86_level(void);

#endif

#if FI_HAVE_VECTOR_EXTENSIONS && defined(__aarch64__)
#define FI_HAVE_NEON_SIMD 1
#else
#define FI_HAVE_NEON_SIMD 0

/* 2: AVX-512 F+BW+DQ+VL and AVX2+F16C, 1: AVX2+F16C, 0: neither, or the OS does not save their
 * registers, or no x86 kernels in this build (cpuid_x86.c) */
int fi_x86_level(void);

#endif


/* 2: AVX-512 F+BW+DQ+VL and AVX2+F16C, 1: AVX2+F16C, 0: neither, or the OS does not save their
 * registers, or no x86 kernels in this build (cpuid_x86.c) */
int fi_x86_level(void);

#endif
