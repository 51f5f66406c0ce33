/* Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11 (Random123).
 *
 * One call maps a 128-bit counter and a 64-bit key to 128 random bits. Ten rounds of two
 * 32x32->64 multiplications; the key is bumped by the Weyl constants between rounds.
 * Known-answer vectors (from the paper's distribution, checked in tests/vectors.txt):
 *   ctr 0,0,0,0                              key 0,0                 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8
 *   ctr ffffffff x4                          key ffffffff x2         -> 408f276d 41c83b0e a20bc7c6 6d5451fd
 *   ctr 243f6a88 85a308d3 13198a2e 03707344  key a4093822 299f31d0   -> d16cfe09 94fdcceb 5001e420 24126ea1
 */
#ifndef FI_PHILOX_H
#define FI_PHILOX_H

#include <stdint.h>

#include "fi_contract.h" /* FI_PHILOX_M0, M1 (multipliers), W0, W1 (Weyl), ROUNDS */

static inline void fi_philox_round(uint32_t x[4], uint32_t k0, uint32_t k1)
{
    const uint64_t p0 = (uint64_t)FI_PHILOX_M0 * x[0];
    const uint64_t p1 = (uint64_t)FI_PHILOX_M1 * x[2];
    const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    const uint32_t y0 = hi1 ^ x[1] ^ k0;
    const uint32_t y2 = hi0 ^ x[3] ^ k1;
    x[0] = y0;
    x[1] = lo1;
    x[2] = y2;
    x[3] = lo0;
}

/* out = Philox4x32-10(ctr, key). out may alias ctr. */
static inline void fi_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t x[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < FI_PHILOX_ROUNDS; round++) {
        if (round > 0) {
            k0 += FI_PHILOX_W0;
            k1 += FI_PHILOX_W1;
        }
        fi_philox_round(x, k0, k1);
    }
    out[0] = x[0];
    out[1] = x[1];
    out[2] = x[2];
    out[3] = x[3];
}

#endif /* FI_PHILOX_H */
