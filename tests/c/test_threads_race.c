/* Fills from two threads while a third changes the thread count, through the public API:
 * built with -fsanitize=thread by tests/test_threads.py, which requires that ThreadSanitizer
 * reports no data race, and that every fill gives the single-threaded bits.
 * Prints "ok" or "mismatch" and exits non-zero on a mismatch. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastinit.h"

enum { N = 1 << 18 }; /* 1 MiB of float32: above the size at which fills use the pool */

static float expected[N];
static int mismatches;
static pthread_mutex_t mismatch_lock = PTHREAD_MUTEX_INITIALIZER;

static void *toggle(void *arg)
{
    (void)arg;
    for (int k = 0; k < 3000; k++)
        fi_set_num_threads(1 + k % 3);
    return NULL;
}

static void *fill(void *arg)
{
    (void)arg;
    float *buf = malloc(sizeof(float) * N);
    if (buf == NULL)
        return NULL;
    for (int k = 0; k < 20; k++) {
        fi_fill_normal(buf, N, FI_FLOAT32, 1, 2, 3, 0.5, 2.0);
        if (memcmp(buf, expected, sizeof expected) != 0) {
            pthread_mutex_lock(&mismatch_lock);
            mismatches++;
            pthread_mutex_unlock(&mismatch_lock);
        }
    }
    free(buf);
    return NULL;
}

int main(void)
{
    fi_set_num_threads(1);
    fi_fill_normal(expected, N, FI_FLOAT32, 1, 2, 3, 0.5, 2.0);
    pthread_t threads[3];
    pthread_create(&threads[0], NULL, fill, NULL);
    pthread_create(&threads[1], NULL, toggle, NULL);
    pthread_create(&threads[2], NULL, fill, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    puts(mismatches ? "mismatch" : "ok");
    return mismatches ? 1 : 0;
}
