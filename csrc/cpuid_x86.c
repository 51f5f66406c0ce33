/* The x86-64 CPU probe for dispatch.c: which of the x86 kernel levels this CPU and OS run.
 * Its own file, with no header but <stdint.h> and the compiler's intrinsics, so that it builds
 * alike with MSVC, clang-cl, GCC, clang and mingw-w64 (tests/test_build.py compiles it as
 * clang-cl does, in MSVC mode, and runs it under wine). Compiled for the baseline CPU. */
#include <stdint.h>

#include "fi_simd_available.h"

#if FI_HAVE_X86_SIMD
/* cpuid and xgetbv: MSVC's intrinsics (<intrin.h>: __cpuidex, _xgetbv) where the compiler is
 * MSVC or clang-cl (_MSC_VER; no <cpuid.h> there), GCC's <cpuid.h> and inline assembly
 * elsewhere (GCC, clang, mingw-w64). Both give the registers as the instruction leaves them. */
#if defined(_MSC_VER)
#include <intrin.h>
static void cpuid_count(unsigned leaf, unsigned subleaf, unsigned r[4])
{
    int regs[4];
    __cpuidex(regs, (int)leaf, (int)subleaf);
    for (int i = 0; i < 4; i++)
        r[i] = (unsigned)regs[i];
}
static uint64_t xgetbv0(void) { return (uint64_t)_xgetbv(0); }
#else
#include <cpuid.h>
static void cpuid_count(unsigned leaf, unsigned subleaf, unsigned r[4])
{
    __cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
}
static uint64_t xgetbv0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
#endif

int fi_x86_level(void)
{
    unsigned r[4]; /* eax, ebx, ecx, edx */
    cpuid_count(0, 0, r);
    if (r[0] < 7) /* no leaf 7: no AVX2 */
        return 0;
    cpuid_count(1, 0, r);
    const unsigned ecx = r[2];
    const int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, f16c = (ecx >> 29) & 1;
    if (!osxsave || !avx || !f16c) /* the AVX2 kernels also use F16C conversions */
        return 0;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) /* XMM and YMM state */
        return 0;
    cpuid_count(7, 0, r);
    const unsigned ebx = r[1];
    const int avx2 = (ebx >> 5) & 1;
    const int avx512 = ((ebx >> 16) & 1) && ((ebx >> 17) & 1) && ((ebx >> 30) & 1) && ((ebx >> 31) & 1);
    const int zmm_state = (xcr0 & 0xE6) == 0xE6; /* opmask, upper ZMM0-15, ZMM16-31 */
    if (avx2 && avx512 && zmm_state)
        return 2;
    return avx2 ? 1 : 0;
}
#else
int fi_x86_level(void) { return 0; } /* no x86 kernels in this build: nothing to probe */
#endif
