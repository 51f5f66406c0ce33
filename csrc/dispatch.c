/* Runtime choice of the kernel table: the one place that knows which instruction sets exist.
 *
 * One list of ISA descriptors (isa_list below: name, probe, kernel table), lowest level
 * first, walked by everything here; Python reads the names from it through fi_isa_at (no
 * second list anywhere). Compiled for the baseline CPU only, like xxHash's x86 dispatcher:
 * at first use each descriptor whose kernels are in this build is probed once (x86: cpuid,
 * plus xgetbv to check that the OS saves the AVX / AVX-512 register state, in cpuid_x86.c;
 * AArch64: NEON is part of the baseline), the best one is chosen, and FASTINIT_ISA=scalar|avx2|avx512|neon
 * may force a level (fi_isa_init returns FI_E_ISA if this build or CPU lacks it, and the
 * best level stays in use; the Python layer turns that into an error naming the cause). */
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

/* CPU probes ------------------------------------------------------------------------------ */

static int probe_baseline(void) { return 1; } /* scalar, and NEON on AArch64 (part of ARMv8-A) */
static int probe_avx2(void) { return fi_x86_level() >= 1; }   /* cpuid_x86.c */
static int probe_avx512(void) { return fi_x86_level() >= 2; }

/* The descriptor list ------------------------------------------------------------------------ */

static const fi_isa_table *table_scalar(void) { return &fi_table_scalar; }
/* Each returns NULL when this build has no kernels for its ISA (other architecture, a
 * compiler without the vector extensions, or -DFI_NO_SIMD: see fi_simd_available.h). */
const fi_isa_table *fi_isa_table_avx2(void);
const fi_isa_table *fi_isa_table_avx512(void);
const fi_isa_table *fi_isa_table_neon(void);

typedef struct fi_isa_desc {
    const char *name;                 /* what FASTINIT_ISA and fi_isa_select take */
    int (*probe)(void);               /* 1 if this CPU and OS can run the kernels */
    const fi_isa_table *(*table)(void); /* the kernels, or NULL if not in this build */
} fi_isa_desc;

/* Every level fastinit knows, lowest first; among those that run here, the last is the default. */
static const fi_isa_desc isa_list[] = {
    {"scalar", probe_baseline, table_scalar},
    {"neon", probe_baseline, fi_isa_table_neon},
    {"avx2", probe_avx2, fi_isa_table_avx2},
    {"avx512", probe_avx512, fi_isa_table_avx512},
};
enum { N_ISA = sizeof isa_list / sizeof isa_list[0] };

/* Filled once by init_once: which descriptors run here, and the active one. */
static int runs[N_ISA];
static const fi_isa_desc *active_desc = &isa_list[0];
static const fi_isa_table *active = &fi_table_scalar;
static int init_status = FI_OK;

static const fi_isa_desc *find_desc(const char *name)
{
    for (int i = 0; name != NULL && i < N_ISA; i++)
        if (strcmp(isa_list[i].name, name) == 0)
            return &isa_list[i];
    return NULL;
}

static void activate(const fi_isa_desc *d)
{
    active_desc = d;
    active = d->table();
}

static void init_once(void)
{
    for (int i = 0; i < N_ISA; i++) {
        runs[i] = isa_list[i].table() != NULL && isa_list[i].probe();
        if (runs[i])
            activate(&isa_list[i]);
    }
    const char *forced = getenv("FASTINIT_ISA");
    if (forced && forced[0]) {
        const fi_isa_desc *d = find_desc(forced);
        if (d && runs[d - isa_list])
            activate(d);
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

/* Public API (fastinit.h) -------------------------------------------------------------------- */

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

const char *fi_isa_name(void)
{
    ensure_init();
    return active_desc->name;
}

const char *fi_isa_at(int index) { return index >= 0 && index < N_ISA ? isa_list[index].name : NULL; }

int fi_isa_compiled(const char *name)
{
    const fi_isa_desc *d = find_desc(name);
    return d != NULL && d->table() != NULL;
}

int fi_isa_available(const char *name)
{
    ensure_init();
    const fi_isa_desc *d = find_desc(name);
    return d != NULL && runs[d - isa_list];
}

int fi_isa_select(const char *name)
{
    ensure_init();
    const fi_isa_desc *d = find_desc(name);
    if (d == NULL || !runs[d - isa_list])
        return FI_E_ISA;
    activate(d);
    return FI_OK;
}
