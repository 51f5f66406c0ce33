/* <immintrin.h> for the x86 kernel files, with every header they use also under clang-cl.
 *
 * The kernels are compiled for their ISA by a target pragma, not by -mavx2 / /arch, so the
 * compiler's ISA macros (__AVX2__, ...) are not defined in them. GCC's and clang's immintrin.h
 * declare every intrinsic anyway, but clang's skips, when _MSC_VER is defined (clang-cl, or
 * clang targeting *-windows-msvc), the headers of each ISA not enabled on the command line
 * (llvm/llvm-project issue 53520). Those headers may be included after immintrin.h itself
 * (they require it first); their include guards make this a no-op where it already did. */
#ifndef FI_X86_INTRIN_H
#define FI_X86_INTRIN_H

#include <immintrin.h>

#if defined(_MSC_VER) && defined(__clang__)
#include <smmintrin.h> /* SSE4.1: the _MM_FROUND_ constants avx512fintrin.h uses */
#include <avxintrin.h>
#include <avx2intrin.h>
#include <f16cintrin.h>
#include <avx512fintrin.h>
#include <avx512bwintrin.h>
#include <avx512dqintrin.h>
#include <avx512vlintrin.h>
#include <avx512vlbwintrin.h>
#include <avx512vldqintrin.h>
#endif

#endif
