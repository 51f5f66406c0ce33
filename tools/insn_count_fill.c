/* One fill of n elements on one thread with a chosen instruction set, for counting the
 * instructions it executes under qemu (tools/insn_per_element.py): the program does nothing
 * else, so the difference between two sizes is the kernel's cost of the extra elements.
 *   insn_count_fill ISA DIST DTYPE N     DIST: bits uniform normal trunc_normal; DTYPE: fi_dtype code */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastinit.h"

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    const char *dist = argv[2];
    const int dtype = atoi(argv[3]);
    const unsigned long long n = strtoull(argv[4], NULL, 10);
    if (fi_isa_select(argv[1]) != FI_OK) {
        fprintf(stderr, "%s: not available\n", argv[1]);
        return 3;
    }
    fi_set_num_threads(1);
    void *out = malloc(n * 8 + 64);
    if (!out)
        return 4;
    int status;
    if (strcmp(dist, "bits") == 0)
        status = fi_fill_bits(out, n, dtype, 1, 2, 0);
    else if (strcmp(dist, "uniform") == 0)
        status = fi_fill_uniform(out, n, dtype, 1, 2, 0, -1.0, 1.0);
    else if (strcmp(dist, "normal") == 0)
        status = fi_fill_normal(out, n, dtype, 1, 2, 0, 0.0, 0.02);
    else /* torch's default bounds with std 0.02 (100 std), and +-2 std */
        status = fi_fill_trunc_normal(out, n, dtype, 1, 2, 0, 0.0, 0.02, strcmp(dist, "trunc_normal") == 0 ? -2.0 : -0.04,
                                      strcmp(dist, "trunc_normal") == 0 ? 2.0 : 0.04);
    printf("%s %d %s\n", fi_isa_name(), status, dist);
    free(out);
    return status != FI_OK;
}
