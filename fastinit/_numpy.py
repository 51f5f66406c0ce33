"""The pure-NumPy backend: the stream contract evaluated with NumPy arrays, bit-identical
to the C extension (tests/test_backends.py proves it element by element).

It works in chunks of ``CHUNK`` elements, so its extra memory stays bounded whatever the
buffer size, and Ctrl-C interrupts a large fill between two NumPy operations (Python checks
for signals itself there; tests/test_interrupt.py measures it). Arguments arrive validated
by ``fastinit._api``; ``out`` is a writable, C-contiguous NumPy array whose element type
matches ``dtype`` (uint16 for bfloat16/float16).
"""
from __future__ import annotations

import numpy as np

from . import _npmath as M
from ._contract import PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1
from ._params import (
    FLOAT16, BFLOAT16, FLOAT64, TN_F32, TN_NORMAL, UINT32, trunc_normal_params, trunc_normal_params32,
)

NAME = "numpy"
CHUNK = 1 << 16

_M0 = np.uint64(PHILOX_M0)
_M1 = np.uint64(PHILOX_M1)
_W0 = PHILOX_W0
_W1 = PHILOX_W1
_MASK32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint32
_U64 = np.uint64


def philox4x32(counter, key) -> tuple[int, int, int, int]:
    """One Philox4x32-10 block (Salmon et al., SC'11) for a counter of 4 and a key of 2 words."""
    x = [np.array([c], dtype=np.uint32) for c in counter]
    o0, o1, o2, o3 = _philox_rounds(x, int(key[0]), int(key[1]))
    return int(o0[0]), int(o1[0]), int(o2[0]), int(o3[0])


def _philox_rounds(x, k0: int, k1: int):
    x0, x1, x2, x3 = x
    for rnd in range(PHILOX_ROUNDS):
        if rnd:
            k0 = (k0 + _W0) & 0xFFFFFFFF
            k1 = (k1 + _W1) & 0xFFFFFFFF
        p0 = x0.astype(np.uint64) * _M0
        p1 = x2.astype(np.uint64) * _M1
        hi0 = (p0 >> _U64(32)).astype(np.uint32)
        hi1 = (p1 >> _U64(32)).astype(np.uint32)
        x0, x1, x2, x3 = (
            hi1 ^ x1 ^ _U32(k0),
            (p1 & _MASK32).astype(np.uint32),
            hi0 ^ x3 ^ _U32(k1),
            (p0 & _MASK32).astype(np.uint32),
        )
    return x0, x1, x2, x3


class _Stream:
    """Words of stream (seed, stream) in the layout of docs/stream-contract.md."""

    def __init__(self, seed: int, stream: int):
        self.k0, self.k1 = seed & 0xFFFFFFFF, seed >> 32
        self.s0, self.s1 = stream & 0xFFFFFFFF, stream >> 32

    def blocks(self, first_block: int, nblocks: int) -> np.ndarray:
        """(nblocks, 4) uint32: the four words of blocks first_block .. first_block + nblocks - 1."""
        b = np.arange(nblocks, dtype=np.uint64) + _U64(first_block)
        x = (
            (b & _MASK32).astype(np.uint32),
            (b >> _U64(32)).astype(np.uint32),
            np.full(nblocks, self.s0, dtype=np.uint32),
            np.full(nblocks, self.s1, dtype=np.uint32),
        )
        return np.stack(_philox_rounds(x, self.k0, self.k1), axis=1)

    def words32(self, first: int, count: int) -> np.ndarray:
        """32-bit words first .. first + count - 1."""
        b0, b1 = first >> 2, (first + count - 1) >> 2
        flat = self.blocks(b0, b1 - b0 + 1).reshape(-1)
        lead = first & 3
        return flat[lead:lead + count]

    def words64(self, first: int, count: int) -> np.ndarray:
        """64-bit words first .. first + count - 1 (word j = 32-bit words 2j low, 2j+1 high)."""
        b0, b1 = first >> 1, (first + count - 1) >> 1
        blk = self.blocks(b0, b1 - b0 + 1).astype(np.uint64)
        flat = (blk[:, 0::2] | (blk[:, 1::2] << _U64(32))).reshape(-1)
        lead = first & 1
        return flat[lead:lead + count]


# ------------------------------------------------------------ per-element transforms


def _uniform_f32(w: np.ndarray, low: float, high: float) -> np.ndarray:
    low32, high32 = np.float32(low), np.float32(high)
    rng32 = high32 - low32
    u = (w >> _U32(8)).astype(np.float32) * np.float32(2.0**-24)
    x = low32 + rng32 * u
    if rng32 > 0:
        x = np.where(x >= high32, np.nextafter(high32, np.float32(-np.inf)), x)
    return x


def _uniform_f64(w: np.ndarray, low: float, high: float) -> np.ndarray:
    rng = np.float64(high) - np.float64(low)
    u = (w >> _U64(11)).astype(np.float64) * 2.0**-53
    x = np.float64(low) + rng * u
    if rng > 0:
        x = np.where(x >= high, np.nextafter(np.float64(high), -np.inf), x)
    return x


NORMAL_GROUP = 32  # float32 Box-Muller (v2): element 32g + j pairs with 32g + 16 + j (j < 16)


def _normal_groups_f32(w: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Box-Muller on whole groups of 32 words: in each, words 0..15 give the radii and words
    16..31 the angles of 16 pairs; elements 0..15 are r cos, elements 16..31 r sin."""
    g = w.reshape(-1, 2, NORMAL_GROUP // 2)
    w0, w1 = g[:, 0, :], g[:, 1, :]
    u1 = ((w0 >> _U32(8)) + _U32(1)).astype(np.float32) * np.float32(2.0**-24)
    r = np.sqrt(np.float32(-2.0) * M.log_f32(u1))
    cs, sn = M.sincos_turn_f32(w1 >> _U32(8))
    mean32, std32 = np.float32(mean), np.float32(std)
    out = np.empty(g.shape, dtype=np.float32)
    out[:, 0, :] = mean32 + std32 * (r * cs)
    out[:, 1, :] = mean32 + std32 * (r * sn)
    return out.reshape(-1)


def _normal_pairs_f64(w: np.ndarray, mean: float, std: float) -> np.ndarray:
    w0, w1 = w[0::2], w[1::2]
    u1 = ((w0 >> _U64(11)) + _U64(1)).astype(np.float64) * 2.0**-53
    r = np.sqrt(-2.0 * M.log_f64(u1))
    cs, sn = M.sincos_turn_f64(w1 >> _U64(11))
    out = np.empty(w.shape[0], dtype=np.float64)
    out[0::2] = np.float64(mean) + np.float64(std) * (r * cs)
    out[1::2] = np.float64(mean) + np.float64(std) * (r * sn)
    return out


def _trunc_normal_f32(w: np.ndarray, p2a, m2, q2b, std_signed, mean, a32, b32) -> np.ndarray:
    """The float32 inverse CDF of contract v2 (spec: _mathspec, "the float32 evaluation")."""
    u = ((w >> _U32(9)).astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-23)
    p2 = p2a + u * m2
    q2 = q2b + (np.float32(1.0) - u) * m2
    return _clamp_f32(np.float32(mean) + std_signed * M.norm_ppf_f32(p2, q2), a32, b32)


def _clamp_f32(x: np.ndarray, a32, b32) -> np.ndarray:
    """x < a32 ? a32 : x, then x > b32 ? b32 : x (as the C kernels; np.maximum may differ on -0.0)."""
    x = np.where(x < a32, a32, x)
    return np.where(x > b32, b32, x)


def _trunc_normal_from_u(u: np.ndarray, mean, std, a, b) -> np.ndarray:
    pa, mass, sign = trunc_normal_params(mean, std, a, b)
    p = pa + u * mass
    z = sign * M.norm_ppf(p)
    x = np.float64(mean) + np.float64(std) * z
    x = np.where(x < a, a, x)
    return np.where(x > b, b, x)


# --------------------------------------------------------------- chunk generators
# Each returns the values of stream elements first .. first + count - 1 in the compute
# precision (float32 for float32/bfloat16/float16, float64 for float64, raw words for uints).


def _gen_bits(dtype, s: _Stream, first, count, params):
    return s.words32(first, count) if dtype == UINT32 else s.words64(first, count)


def _gen_uniform(dtype, s: _Stream, first, count, params):
    low, high = params
    if dtype == FLOAT64:
        return _uniform_f64(s.words64(first, count), low, high)
    return _uniform_f32(s.words32(first, count), low, high)


def _gen_normal(dtype, s: _Stream, first, count, params):
    mean, std = params
    if dtype == FLOAT64:
        lo, hi = first & ~1, (first + count + 1) & ~1  # whole pairs around the range
        z = _normal_pairs_f64(s.words64(lo, hi - lo), mean, std)
    else:
        group = NORMAL_GROUP
        lo, hi = first // group * group, -(-(first + count) // group) * group  # whole groups
        z = _normal_groups_f32(s.words32(lo, hi - lo), mean, std)
    return z[first - lo:first - lo + count]


def _gen_trunc_normal(dtype, s: _Stream, first, count, params):
    if dtype == FLOAT64:
        u = ((s.words64(first, count) >> _U64(12)).astype(np.float64) + 0.5) * 2.0**-52
        return _trunc_normal_from_u(u, *params)
    mode, p2a, m2, q2b, std_signed, a32, b32 = trunc_normal_params32(*params)
    if mode == TN_NORMAL:  # the bounds lie beyond the normal generator's reach
        return _clamp_f32(_gen_normal(dtype, s, first, count, params[:2]), a32, b32)
    if mode == TN_F32:
        return _trunc_normal_f32(s.words32(first, count), p2a, m2, q2b, std_signed, params[0], a32, b32)
    u = ((s.words32(first, count) >> _U32(8)).astype(np.float64) + 0.5) * 2.0**-24
    return _trunc_normal_from_u(u, *params).astype(np.float32)


def _gen_constant(dtype, s, first, count, params):
    (value,) = params
    ctype = np.float64 if dtype == FLOAT64 else np.float32
    return np.full(count, value, dtype=ctype)


_NARROW = {BFLOAT16: M.f32_to_bf16_bits, FLOAT16: M.f32_to_f16_bits}


def _fill(gen, out: np.ndarray, dtype: int, seed: int, stream: int, offset: int, params) -> None:
    out = out.reshape(-1)  # a view: the buffer is C-contiguous
    s = _Stream(seed, stream)
    narrow = _NARROW.get(dtype)
    n = out.shape[0]
    for start in range(0, n, CHUNK):
        count = min(CHUNK, n - start)
        values = gen(dtype, s, offset + start, count, params)
        out[start:start + count] = narrow(values) if narrow else values


def fill_bits(out, dtype, seed, stream, offset):
    _fill(_gen_bits, out, dtype, seed, stream, offset, ())


def fill_uniform(out, dtype, seed, stream, offset, low, high):
    _fill(_gen_uniform, out, dtype, seed, stream, offset, (low, high))


def fill_normal(out, dtype, seed, stream, offset, mean, std):
    _fill(_gen_normal, out, dtype, seed, stream, offset, (mean, std))


def fill_trunc_normal(out, dtype, seed, stream, offset, mean, std, a, b):
    _fill(_gen_trunc_normal, out, dtype, seed, stream, offset, (mean, std, a, b))


def fill_constant(out, dtype, value):
    _fill(_gen_constant, out, dtype, 0, 0, 0, (value,))


def normal_cdf(x: float) -> float:
    return M.norm_cdf(x)


def normal_ppf(p: float) -> float:
    return float(M.norm_ppf(np.array([p], dtype=np.float64))[0])


def isa() -> str:
    return "numpy"
