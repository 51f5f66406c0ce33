/* Runtime choice of the kernel table: the one place that knows which instruction sets exist.
 * Compiled for the baseline CPU only. At first use, the CPU is probed once (cpuid, plus
 * xgetbv to check that the OS saves the AVX / AVX-512 register state), the best table is
 * chosen, and FASTINIT_ISA=scalar|avx2|avx512 may force a level (an error if the CPU or this
 * build lacks it: fi_isa_init returns FI_E_ISA and the scalar table stays in use). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fi_internal.h"
#include "fi_simd_available.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#endif

#if FI_HAVE_X86_SIMD
#include <cpuid.h>

static uint64_t xgetbv0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

/* 1: AVX2 (+F16C), 2: AVX-512 F+BW+DQ+VL, 0: neither (or the OS does not enable their state) */
static int probe_x86_level(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    const int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, f16c = (ecx >> 29) & 1;
    if (!osxsave || !avx || !f16c) /* the AVX2 kernels also use F16C conversions */
        return 0;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) /* XMM and YMM state */
        return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return 0;
    const int avx2 = (ebx >> 5) & 1;
    const int avx512 = ((ebx >> 16) & 1) && ((ebx >> 17) & 1) && ((ebx >> 30) & 1) && ((ebx >> 31) & 1);
    const int zmm_state = (xcr0 & 0xE6) == 0xE6; /* opmask, upper ZMM0-15, ZMM16-31 */
    if (avx2 && avx512 && zmm_state)
        return 2;
    return avx2 ? 1 : 0;
}
#else
static int probe_x86_level(void) { return 0; }
#endif

const fi_isa_table *fi_isa_table_avx2(void);
const fi_isa_table *fi_isa_table_avx512(void);

/* Tables this CPU can run, best last. Filled once by init_once. */
static const fi_isa_table *usable[3];
static int n_usable;
static const fi_isa_table *active = &fi_table_scalar;
static int init_status = FI_OK;

static const fi_isa_table *find_usable(const char *name)
{
    for (int i = 0; i < n_usable; i++)
        if (strcmp(usable[i]->name, name) == 0)
            return usable[i];
    return NULL;
}

static void init_once(void)
{
    const int level = probe_x86_level();
    usable[n_usable++] = &fi_table_scalar;
    if (level >= 1 && fi_isa_table_avx2())
        usable[n_usable++] = fi_isa_table_avx2();
    if (level >= 2 && fi_isa_table_avx512())
        usable[n_usable++] = fi_isa_table_avx512();
    active = usable[n_usable - 1];
    const char *forced = getenv("FASTINIT_ISA");
    if (forced && forced[0]) {
        const fi_isa_table *table = find_usable(forced);
        if (table)
            active = table;
        else
            init_status = FI_E_ISA;
    }
}

#if defined(_WIN32)
static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
static BOOL CALLBACK init_once_win(PINIT_ONCE o, PVOID p, PVOID *c)
{
    (void)o; (void)p; (void)c;
    init_once();
    return TRUE;
}
static void ensure_init(void) { InitOnceExecuteOnce(&once, init_once_win, NULL, NULL); }
#else
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void ensure_init(void) { pthread_once(&once, init_once); }
#endif

int fi_isa_init(void)
{
    ensure_init();
    return init_status;
}

const fi_isa_table *fi_active_table(void)
{
    ensure_init();
    return active;
}

const char *fi_isa_name(void) { return fi_active_table()->name; }

int fi_isa_select(const char *name)
{
    ensure_init();
    if (name == NULL)
        return FI_E_ISA;
    const fi_isa_table *table = find_usable(name);
    if (table == NULL)
        return FI_E_ISA;
    active = table;
    return FI_OK;
}

int fi_isa_available(const char *name)
{
    ensure_init();
    return name != NULL && find_usable(name) != NULL;
}
