/* TestU01 batteries on fastinit's raw Philox4x32-10 stream (not part of CI: Crush takes hours).
 *
 * The words come from fi_fill_bits (the library's public C API, csrc/), refilled in blocks and
 * handed out in stream order: word j of (seed, stream) for j = offset, offset + 1, ... -- the
 * very words fastinit.random_bits_ gives on a uint32 buffer. TestU01 sees them through
 * unif01_CreateExternGenBits, i.e. as 32-bit integers (it uses all 32 bits).
 *
 * Build (Debian: apt-get install libtestu01-0-dev, in the non-free component):
 *   cc -std=c99 -O2 -ffp-contract=off -Wall -Wextra -Icsrc -I/usr/include/testu01 \
 *      tools/testu01_philox.c csrc/[a-z]*.c -ltestu01 -ltestu01probdist -ltestu01mylib -lm -lpthread \
 *      -o testu01_philox
 *   ./testu01_philox small|crush|big SEED STREAM [OFFSET [K]]
 *   ./testu01_philox crush-test=65x3 SEED STREAM    (Crush's test 65, three times)
 * K > 1 takes the words of streams STREAM .. STREAM + K - 1 in turn (word j of each), as
 * tools/rng_quality.py --interleave K does: neighbouring streams must look independent.
 *
 * Built with -DFI_WORDS_ONLY it needs no TestU01 and prints the first COUNT words instead,
 * in hex (./testu01_philox words SEED STREAM OFFSET COUNT [K]): the test suite compares them with
 * fastinit.random_bits_, so this driver cannot silently feed the batteries something else. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastinit.h"

#ifndef FI_WORDS_ONLY
#include "bbattery.h"
#include "unif01.h"
#endif

/* 64 Ki words (256 KiB) per refill: large enough that the call overhead is negligible next to
 * TestU01's own work, small enough to stay in cache. */
#define BLOCK_WORDS 65536u
#define MAX_INTERLEAVE 64u

static uint32_t block[BLOCK_WORDS];
static uint32_t lane[BLOCK_WORDS];    /* one stream's words, when several are interleaved */
static uint32_t filled = BLOCK_WORDS; /* words of block in use */
static uint32_t pos = BLOCK_WORDS;    /* index of the next unread word of block */
static uint64_t next_offset;          /* stream index of each stream's next word */
static uint64_t g_seed, g_stream;
static uint32_t g_interleave = 1;     /* K: words taken in turn from streams g_stream .. + K - 1 */

static void refill(void)
{
    const uint32_t per = BLOCK_WORDS / g_interleave; /* words of each stream per refill */
    for (uint32_t k = 0; k < g_interleave; k++) {
        uint32_t *dst = g_interleave == 1 ? block : lane;
        int st = fi_fill_bits(dst, per, FI_UINT32, g_seed, g_stream + k, next_offset);
        if (st != FI_OK) {
            /* Only FI_E_RANGE is possible (offset + count past 2^64): stop rather than wrap. */
            fprintf(stderr, "fi_fill_bits failed: %s\n", fi_status_string(st));
            exit(2);
        }
        if (g_interleave > 1)
            for (uint32_t i = 0; i < per; i++)
                block[i * g_interleave + k] = lane[i];
    }
    next_offset += per;
    filled = per * g_interleave;
    pos = 0;
}

static unsigned int next_word(void)
{
    if (pos == filled)
        refill();
    return (unsigned int)block[pos++];
}

static int parse_u64(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (text[0] == '-')
        return 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno != 0 || *end != '\0' || end == text)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s small|crush|big|crush-test=NxTIMES|small-test=NxTIMES SEED STREAM [OFFSET [K]]\n"
            "       %s words SEED STREAM OFFSET COUNT [K]   (print words in hex)\n"
            "K in [1, %u]: interleave streams STREAM..STREAM+K-1 word by word (default 1)\n",
            prog, prog, MAX_INTERLEAVE);
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t offset = 0, count = 0, k = 1;
    const int words = argc >= 2 && strcmp(argv[1], "words") == 0;
    const int k_arg = words ? 6 : 5; /* index of the optional K */
    if (argc < 4 || argc > k_arg + 1 || !parse_u64(argv[2], &g_seed) || !parse_u64(argv[3], &g_stream))
        return usage(argv[0]);
    if (argc >= 5 && !parse_u64(argv[4], &offset))
        return usage(argv[0]);
    if (argc > k_arg && (!parse_u64(argv[k_arg], &k) || k < 1 || k > MAX_INTERLEAVE || k - 1 > UINT64_MAX - g_stream))
        return usage(argv[0]);
    g_interleave = (uint32_t)k;
    next_offset = offset;
    /* Line-buffered even into a file: a Crush run cut short still leaves the tests it finished. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    fi_isa_init(); /* the best level (or FASTINIT_ISA), so the report names the kernels used */
    /* One thread: the blocks are small, and this keeps the run a single, niceable process. */
    fi_set_num_threads(1);

    if (words) {
        if (argc < 6 || !parse_u64(argv[5], &count))
            return usage(argv[0]);
        for (uint64_t i = 0; i < count; i++)
            printf("%08" PRIx32 "\n", (uint32_t)next_word());
        return 0;
    }
#ifdef FI_WORDS_ONLY
    fprintf(stderr, "built with -DFI_WORDS_ONLY: only the 'words' command is available\n");
    return 2;
#else
    char name[256], streams[96];
    if (g_interleave > 1)
        snprintf(streams, sizeof streams, "streams %" PRIu64 "..+%" PRIu32 " interleaved", g_stream, g_interleave - 1);
    else
        snprintf(streams, sizeof streams, "stream=%" PRIu64, g_stream);
    snprintf(name, sizeof name, "fastinit Philox4x32-10 raw words, seed=%" PRIu64 " %s offset=%" PRIu64 " (isa %s)",
             g_seed, streams, offset, fi_isa_name());
    unif01_Gen *gen = unif01_CreateExternGenBits(name, next_word);
    if (strcmp(argv[1], "small") == 0)
        bbattery_SmallCrush(gen);
    else if (strcmp(argv[1], "crush") == 0)
        bbattery_Crush(gen);
    else if (strcmp(argv[1], "big") == 0)
        bbattery_BigCrush(gen);
    else if (strncmp(argv[1], "crush-test=", 11) == 0 || strncmp(argv[1], "small-test=", 11) == 0) {
        /* Replicate one test of a battery (its number in the battery's summary), e.g. to see
         * whether a suspicious p-value comes back: "crush-test=65x3" runs Crush's test 65 three
         * times on fresh words. */
        int rep[256] = {0};
        unsigned test = 0, times = 1;
        if (sscanf(argv[1] + 11, "%ux%u", &test, &times) < 1 || test < 1 || test > 200 || times < 1 || times > 100) {
            unif01_DeleteExternGenBits(gen);
            return usage(argv[0]);
        }
        rep[test] = (int)times;
        if (argv[1][0] == 'c')
            bbattery_RepeatCrush(gen, rep);
        else
            bbattery_RepeatSmallCrush(gen, rep);
    }
    else {
        unif01_DeleteExternGenBits(gen);
        return usage(argv[0]);
    }
    unif01_DeleteExternGenBits(gen);
    printf("# words consumed: %" PRIu64 "\n", (next_offset - offset) * g_interleave - (filled - pos));
    return 0;
#endif
}
