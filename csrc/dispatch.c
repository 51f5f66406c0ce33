/* Runtime choice of the kernel table: the one place that knows which instruction sets exist.
 * This file is compiled for the baseline CPU only. The SIMD tables (issue: AVX2, AVX-512)
 * are added to fi_tables[] and probed here; until then the scalar table is the only row. */
#include <stddef.h>
#include <string.h>

#include "fi_internal.h"

static const fi_isa_table *const fi_tables[] = {&fi_table_scalar};

/* The table in use. It is a pointer to an immutable table, written only by fi_isa_select,
 * which callers run before fills start (the Python module does it once at import). */
static const fi_isa_table *fi_active = &fi_table_scalar;

const fi_isa_table *fi_active_table(void) { return fi_active; }

const char *fi_isa_name(void) { return fi_active->name; }

int fi_isa_select(const char *name)
{
    if (name == NULL)
        return FI_E_ISA;
    for (size_t i = 0; i < sizeof fi_tables / sizeof fi_tables[0]; i++) {
        if (strcmp(fi_tables[i]->name, name) == 0) {
            fi_active = fi_tables[i];
            return FI_OK;
        }
    }
    return FI_E_ISA;
}
