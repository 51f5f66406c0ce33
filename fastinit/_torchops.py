"""The torch-ops backend: the stream contract evaluated with torch tensor operations, on the
tensor's own device (CUDA, MPS, XPU, ... and the CPU, where tests/test_torchops.py proves it
bit-identical to the C extension), so that fastinit.torch fills a device tensor on the device.

It mirrors ``fastinit._numpy`` (the NumPy backend) function by function: the same chunks,
word layout, per-element transforms and math (``_npmath``'s evaluation order, ``_mathspec``'s
coefficients, ``_params.trunc_normal_params`` / ``trunc_normal_params32``), with two differences forced by torch:

- torch has no unsigned 32/64-bit arithmetic (``uint32``/``uint64`` tensors lack shifts,
  additions and comparisons), so a 32-bit word is an ``int64`` tensor holding 0 .. 2^32 - 1,
  Philox's 32 x 32 -> 64-bit product is built from 16-bit limbs (no intermediate reaches
  2^63), and a 64-bit word is only ever used shifted right by 11 or 12 bits (53 or 52 bits).
- bfloat16 and float16 outputs are the float32 values converted by torch (``Tensor.to``),
  which rounds to nearest even exactly as ``_npmath.f32_to_bf16_bits`` / ``f32_to_f16_bits``
  do for every non-NaN value (the fills produce no NaN).

IEEE +, -, *, / and sqrt of float32 and float64 are correctly rounded by torch on the CPU and
on CUDA (no fast-math; every operation is its own kernel, so nothing fuses into an FMA).
MPS compiles its kernels with fast math, so bit identity there is not promised until measured
(docs/distributed.md, "Device tensors").

Entry points take the output as a 1-D contiguous torch tensor of the final dtype and the
already validated arguments, with the signatures of ``fastinit._numpy``'s.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import _mathspec as spec
from ._contract import CONSTANT, NORMAL, PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1, TRUNC_NORMAL, UNIFORM
from ._params import (
    BFLOAT16, FLOAT16, FLOAT64, TN_F32, TN_NORMAL, UINT32, UINT64, trunc_normal_params, trunc_normal_params32,
)

NAME = "torch"
CONTRACT_VERSION = 2  # the contract this file implements; tests check it is _mathspec's
CHUNK_CPU = 1 << 16
CHUNK_DEVICE = 1 << 22  # fewer, larger kernel launches on an accelerator

_M0, _M1, _W0, _W1 = PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1
_MASK32 = 0xFFFFFFFF
_I64 = torch.int64
_F32 = torch.float32
_F64 = torch.float64


def _f32(value: float) -> float:
    """``value`` rounded to float32 (as a Python float, exactly representable)."""
    return float(np.float32(value))


# ------------------------------------------------------------------------ Philox words


def _mulhilo(a: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(hi, lo) 32-bit halves of a * m for int64 tensors a in [0, 2^32) and a 32-bit m,
    from 16-bit limbs of m: every intermediate stays below 2^49."""
    t1 = a * (m & 0xFFFF)
    t2 = a * (m >> 16)
    s = t1 + ((t2 & 0xFFFF) << 16)
    return (s >> 32) + (t2 >> 16), s & _MASK32


def _philox_rounds(x, k0: int, k1: int):
    x0, x1, x2, x3 = x
    for rnd in range(10):
        if rnd:
            k0 = (k0 + _W0) & _MASK32
            k1 = (k1 + _W1) & _MASK32
        hi0, lo0 = _mulhilo(x0, _M0)
        hi1, lo1 = _mulhilo(x2, _M1)
        x0, x1, x2, x3 = hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0
    return x0, x1, x2, x3


def philox4x32(counter, key) -> tuple[int, int, int, int]:
    """One Philox4x32-10 block (Salmon et al., SC'11) for a counter of 4 and a key of 2 words."""
    x = [torch.tensor([int(c)], dtype=_I64) for c in counter]
    return tuple(int(w[0]) for w in _philox_rounds(x, int(key[0]), int(key[1])))  # type: ignore[return-value]


class _Stream:
    """Words of stream (seed, stream) in the layout of docs/stream-contract.md, on ``device``."""

    def __init__(self, seed: int, stream: int, device: torch.device):
        self.k0, self.k1 = seed & _MASK32, seed >> 32
        self.s0, self.s1 = stream & _MASK32, stream >> 32
        self.device = device

    def blocks(self, first_block: int, nblocks: int) -> torch.Tensor:
        """(nblocks, 4) int64 words of blocks first_block .. first_block + nblocks - 1."""
        b = torch.arange(nblocks, dtype=_I64, device=self.device) + first_block  # < 2^63
        x = (b & _MASK32, b >> 32, torch.full_like(b, self.s0), torch.full_like(b, self.s1))
        return torch.stack(_philox_rounds(x, self.k0, self.k1), dim=1)

    def words32(self, first: int, count: int) -> torch.Tensor:
        """32-bit words first .. first + count - 1 (int64 values in [0, 2^32))."""
        b0, b1 = first >> 2, (first + count - 1) >> 2
        flat = self.blocks(b0, b1 - b0 + 1).reshape(-1)
        lead = first & 3
        return flat[lead:lead + count]

    def words64_shifted(self, first: int, count: int, shift: int) -> torch.Tensor:
        """64-bit words first .. first + count - 1, each shifted right by ``shift`` >= 11 bits
        (word j = 32-bit words 2j low, 2j+1 high), as int64."""
        b0, b1 = first >> 1, (first + count - 1) >> 1
        blk = self.blocks(b0, b1 - b0 + 1)
        lo, hi = blk[:, 0::2].reshape(-1), blk[:, 1::2].reshape(-1)
        lead = first & 1
        lo, hi = lo[lead:lead + count], hi[lead:lead + count]
        return (hi << (32 - shift)) | (lo >> shift)

    def words64_bits(self, first: int, count: int) -> torch.Tensor:
        """64-bit words as int64 with the same bits (two's complement), for uint64 outputs."""
        b0, b1 = first >> 1, (first + count - 1) >> 1
        blk = self.blocks(b0, b1 - b0 + 1)
        lo, hi = blk[:, 0::2].reshape(-1), blk[:, 1::2].reshape(-1)
        lead = first & 1
        lo, hi = lo[lead:lead + count], hi[lead:lead + count]
        signed_hi = torch.where(hi >= 1 << 31, hi - (1 << 32), hi)
        return signed_hi * (1 << 32) + lo


# ------------------------------------------------------------ math (as _npmath, in torch)

_LN_F32 = tuple(_f32(c) for c in spec.floats("LN_F32"))
_LN_F64 = spec.floats("LN_F64")
_SIN_F32 = tuple(_f32(c) for c in spec.floats("SIN_F32"))
_COS_F32 = tuple(_f32(c) for c in spec.floats("COS_F32"))
_SIN_F64 = spec.floats("SIN_F64")
_COS_F64 = spec.floats("COS_F64")
_LN2_HI_F32 = _f32(spec.scalar("LN2_HI_F32"))
_LN2_LO_F32 = _f32(spec.scalar("LN2_LO_F32"))
_LN2_HI_F64 = spec.scalar("LN2_HI_F64")
_LN2_LO_F64 = spec.scalar("LN2_LO_F64")
_PPF = {k: tuple(spec.floats(f"PPF_{k}")) for k in "ABCDEF"}
_PPF32 = {k: tuple(_f32(c) for c in spec.floats(f"PPF32_{k}")) for k in ("C", "T1", "T2")}
_PPF32_AT = {k: _f32(spec.scalar(f"PPF32_{k}")) for k in ("SPLIT", "C_CENTER", "TAIL_SPLIT", "T1_CENTER", "T2_CENTER")}


def _horner(coeffs, x: torch.Tensor) -> torch.Tensor:
    """coeffs lowest degree first; (((c[n]*x + c[n-1])*x + ...)*x + c[0]) (as _npmath)."""
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * x + c
    return acc


def log_f32(x: torch.Tensor) -> torch.Tensor:
    """ln of positive normal float32 values (spec: _mathspec LN_F32)."""
    bits = x.contiguous().view(torch.int32)
    e = (bits >> 23) - 127
    mbits = (bits & 0x7FFFFF) | 0x3F800000
    big = mbits > 0x3FB504F3  # m > sqrt(2): halve m, bump e
    mbits = torch.where(big, mbits - 0x00800000, mbits)
    e = e + big.to(torch.int32)
    m = mbits.view(_F32)
    f = m - 1.0
    s = f / (f + 2.0)
    z = s * s
    r = z * _horner(_LN_F32, z)
    ef = e.to(_F32)
    return ef * _LN2_HI_F32 + (f - (s * (f - r) - ef * _LN2_LO_F32))


def log_f64(x: torch.Tensor) -> torch.Tensor:
    """ln of positive normal float64 values (spec: _mathspec LN_F64)."""
    bits = x.contiguous().view(_I64)
    e = (bits >> 52) - 1023
    mbits = (bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000
    big = mbits > 0x3FF6A09E667F3BCD
    mbits = torch.where(big, mbits - 0x0010000000000000, mbits)
    e = e + big.to(_I64)
    m = mbits.view(_F64)
    f = m - 1.0
    s = f / (f + 2.0)
    z = s * s
    r = z * _horner(_LN_F64, z)
    ef = e.to(_F64)
    return ef * _LN2_HI_F64 + (f - (s * (f - r) - ef * _LN2_LO_F64))


def _two_sum(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """s + err == a + b exactly (Knuth's TwoSum; +, - only)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _sign_of_sum(terms: list[torch.Tensor]) -> torch.Tensor:
    """The exact sign (-1, 0, 1) of a sum of float64 tensors: Shewchuk's Grow-Expansion makes a
    nonoverlapping expansion, whose largest nonzero component carries the sign ("Adaptive
    Precision Floating-Point Arithmetic and Fast Robust Geometric Predicates" - Shewchuk (1997))."""
    expansion: list[torch.Tensor] = []
    for term in terms:
        q, grown = term, []
        for component in expansion:
            q, low = _two_sum(q, component)
            grown.append(low)
        expansion = grown + [q]
    sign = torch.zeros_like(terms[0])
    for component in expansion:
        sign = torch.where(component != 0, torch.sign(component), sign)
    return sign


def _square_exact(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """p + e == y * y exactly (Dekker's product with Veltkamp's split, no FMA)."""
    c = y * 134217729.0  # 2^27 + 1
    hi = c - (c - y)
    lo = y - hi
    p = y * y
    return p, ((hi * hi - p) + hi * lo + lo * hi) + lo * lo


def sqrt_f64(x: torch.Tensor) -> torch.Tensor:
    """Correctly rounded sqrt of float64 x >= 0 (finite, not tiny).

    torch's own ``sqrt`` is not correctly rounded on every device (on this CPU build it
    differs from IEEE sqrt in 1.3% of float64 and 19% of float32 inputs), so its result is
    only the first guess: it moves by one ulp, twice, toward the value whose rounding interval
    holds sqrt(x), decided by the exact sign of x - (y +- ulp/2)^2 (from +, -, *)."""
    y = torch.sqrt(x)
    for _ in range(2):
        up = torch.nextafter(y, torch.full_like(y, math.inf))
        down = torch.nextafter(y, torch.zeros_like(y))
        p, e = _square_exact(y)
        half_up, half_down = (up - y) * 0.5, (y - down) * 0.5  # exact: powers of two
        above = _sign_of_sum([x, -p, -e, -(y * (up - y)), -(half_up * half_up)]) > 0
        below = _sign_of_sum([x, -p, -e, y * (y - down), -(half_down * half_down)]) < 0
        y = torch.where(above, up, torch.where(below, down, y))
    return y


def sqrt_f32(x: torch.Tensor) -> torch.Tensor:
    """Correctly rounded sqrt of float32 x: the correctly rounded float64 sqrt, rounded to
    float32 (sqrt rounds once, not twice, through a format of 2 * 24 + 2 bits or more)."""
    return sqrt_f64(x.to(_F64)).to(_F32)


def _quadrant_fold(k: torch.Tensor, frac_bits: int):
    """Split a fixed-point turn k (frac_bits + 2 bits) into quadrant q and signed r."""
    q = k >> frac_bits
    r = k & ((1 << frac_bits) - 1)
    upper = r >= (1 << (frac_bits - 1))
    r = torch.where(upper, r - (1 << frac_bits), r)
    q = (q + upper.to(_I64)) & 3
    return q, r


def _place_quadrant(q, c, s):
    """cos and sin of (q quarter turns + angle) from cos c and sin s of the angle."""
    cos_out = torch.where(q == 0, c, torch.where(q == 1, -s, torch.where(q == 2, -c, s)))
    sin_out = torch.where(q == 0, s, torch.where(q == 1, c, torch.where(q == 2, -s, -c)))
    return cos_out, sin_out


def _sincos_turn(k: torch.Tensor, fraction_bits: int, dtype: torch.dtype, sin_c, cos_c):
    """(cos, sin) of 2*pi*k/2^(fraction_bits + 2): the quadrant fold, then the sine and cosine
    polynomials of the signed fraction in ``dtype``."""
    q, r = _quadrant_fold(k, fraction_bits)
    f = r.to(dtype) * 2.0**-fraction_bits
    t = f * f
    s = f * _horner(sin_c, t)
    c = t * _horner(cos_c, t) + 1.0
    return _place_quadrant(q, c, s)


def sincos_turn_f32(k24: torch.Tensor):
    """(cos, sin) of 2*pi*k/2^24 for integers 0 <= k < 2^24, in float32."""
    return _sincos_turn(k24, 22, _F32, _SIN_F32, _COS_F32)


def sincos_turn_f64(k53: torch.Tensor):
    """(cos, sin) of 2*pi*k/2^53 for integers 0 <= k < 2^53, in float64."""
    return _sincos_turn(k53, 51, _F64, _SIN_F64, _COS_F64)


def norm_ppf(p: torch.Tensor) -> torch.Tensor:
    """Standard normal quantile of float64 p in (0, 1) (AS241 PPND16, own ln)."""
    out = torch.empty_like(p)
    q = p - 0.5
    central = q.abs() <= spec.scalar("PPF_SPLIT1")
    qc = q[central]
    if qc.numel():
        r = spec.scalar("PPF_CONST1") - qc * qc
        out[central] = qc * _horner(_PPF["A"], r) / _horner(_PPF["B"], r)
    tail = ~central
    pt = p[tail]
    if pt.numel():
        lower = q[tail] < 0.0
        t = torch.where(lower, pt, 1.0 - pt)
        t = torch.clamp_min(t, spec.scalar("PPF_QMIN"))
        r = sqrt_f64(-log_f64(t))
        near = r <= spec.scalar("PPF_SPLIT2")
        z = torch.empty_like(r)
        rn = r[near] - spec.scalar("PPF_CONST2")
        z[near] = _horner(_PPF["C"], rn) / _horner(_PPF["D"], rn)
        rf = r[~near] - spec.scalar("PPF_SPLIT2")
        z[~near] = _horner(_PPF["E"], rf) / _horner(_PPF["F"], rf)
        out[tail] = torch.where(lower, -z, z)
    return out


def _estrin9(c, x: torch.Tensor) -> torch.Tensor:
    """c[0] + c[1] x + ... + c[8] x^8 by Estrin's scheme, in _npmath._estrin9's order."""
    x2 = x * x
    x4 = x2 * x2
    a0, a1, a2, a3 = (x * c[2 * j + 1] + c[2 * j] for j in range(4))
    b0 = a1 * x2 + a0
    b1 = a3 * x2 + a2
    return (b1 * x4 + b0) + (x4 * x4) * c[8]


def norm_ppf_f32(p2: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Phi^-1(p) in float32 from p2 = 2p and q2 = 2(1 - p), both with full relative precision
    (spec: _mathspec PPF32_*; as _npmath.norm_ppf_f32): d = p2 - q2, w = -ln(p2 q2), z = d * poly."""
    d = p2 - q2
    w = -log_f32(p2 * q2)
    z = d * _estrin9(_PPF32["C"], w - _PPF32_AT["C_CENTER"])
    tail = w >= _PPF32_AT["SPLIT"]
    if bool(tail.any()):
        s = sqrt_f32(w[tail])
        near = s < _PPF32_AT["TAIL_SPLIT"]
        t1 = _horner(_PPF32["T1"], s - _PPF32_AT["T1_CENTER"])
        t2 = _horner(_PPF32["T2"], s - _PPF32_AT["T2_CENTER"])
        z[tail] = d[tail] * torch.where(near, t1, t2)
    return z


# ------------------------------------------------------------- per-element transforms


def _uniform_f32(w: torch.Tensor, low: float, high: float) -> torch.Tensor:
    low32, high32 = np.float32(low), np.float32(high)
    rng32 = high32 - low32
    u = (w >> 8).to(_F32) * 2.0**-24
    x = u * float(rng32) + float(low32)
    if rng32 > 0:
        x = torch.where(x >= float(high32), float(np.nextafter(high32, np.float32(-np.inf))), x)
    return x


def _uniform_f64(w53: torch.Tensor, low: float, high: float) -> torch.Tensor:
    rng = float(np.float64(high) - np.float64(low))
    u = w53.to(_F64) * 2.0**-53
    x = u * rng + low
    if rng > 0:
        x = torch.where(x >= high, float(np.nextafter(np.float64(high), -np.inf)), x)
    return x


NORMAL_GROUP = 32  # float32 Box-Muller (v2): element 32g + j pairs with 32g + 16 + j (j < 16)


def _normal_groups_f32(w: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Box-Muller on whole groups of 32 words: in each, words 0..15 give the radii and words
    16..31 the angles of 16 pairs; elements 0..15 are r cos, elements 16..31 r sin."""
    g = w.reshape(-1, 2, NORMAL_GROUP // 2)
    w0, w1 = g[:, 0, :], g[:, 1, :]
    u1 = ((w0 >> 8) + 1).to(_F32) * 2.0**-24
    r = sqrt_f32(log_f32(u1) * -2.0)
    cs, sn = sincos_turn_f32(w1 >> 8)
    mean32, std32 = _f32(mean), _f32(std)
    out = torch.empty(g.shape, dtype=_F32, device=w.device)
    out[:, 0, :] = (r * cs) * std32 + mean32
    out[:, 1, :] = (r * sn) * std32 + mean32
    return out.reshape(-1)


def _normal_pairs_f64(w0_53: torch.Tensor, w1_53: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    u1 = (w0_53 + 1).to(_F64) * 2.0**-53
    r = sqrt_f64(log_f64(u1) * -2.0)
    cs, sn = sincos_turn_f64(w1_53)
    out = torch.empty(2 * w0_53.shape[0], dtype=_F64, device=w0_53.device)
    out[0::2] = (r * cs) * std + mean
    out[1::2] = (r * sn) * std + mean
    return out


def _clamp_f32(x: torch.Tensor, a32, b32) -> torch.Tensor:
    """x < a32 ? a32 : x, then x > b32 ? b32 : x (as the C kernels and _numpy._clamp_f32)."""
    x = torch.where(x < float(a32), float(a32), x)
    return torch.where(x > float(b32), float(b32), x)


def _trunc_normal_f32(w: torch.Tensor, p2a, m2, q2b, std_signed, mean, a32, b32) -> torch.Tensor:
    """The float32 inverse CDF of contract v2 (spec: _mathspec, "the float32 evaluation")."""
    u = ((w >> 9).to(_F32) + 0.5) * 2.0**-23
    p2 = u * float(m2) + float(p2a)
    q2 = (1.0 - u) * float(m2) + float(q2b)
    return _clamp_f32(norm_ppf_f32(p2, q2) * float(std_signed) + _f32(mean), a32, b32)


def _trunc_normal_from_u(u: torch.Tensor, mean, std, a, b) -> torch.Tensor:
    pa, mass, sign = trunc_normal_params(mean, std, a, b)
    p = u * mass + pa
    z = norm_ppf(p) * sign
    x = z * float(std) + float(mean)
    x = torch.where(x < a, a, x)
    return torch.where(x > b, b, x)


# ------------------------------------------------------------------ chunk generators
# Each returns the values of stream elements first .. first + count - 1 in the compute
# precision (float32 for float32/bfloat16/float16, float64 for float64, int64 words for bits).


def _gen_bits(dtype, s: _Stream, first, count, params):
    return s.words32(first, count) if dtype == UINT32 else s.words64_bits(first, count)


def _gen_uniform(dtype, s: _Stream, first, count, params):
    low, high = params
    if dtype == FLOAT64:
        return _uniform_f64(s.words64_shifted(first, count, 11), low, high)
    return _uniform_f32(s.words32(first, count), low, high)


def _gen_normal(dtype, s: _Stream, first, count, params):
    mean, std = params
    if dtype == FLOAT64:
        lo, hi = first & ~1, (first + count + 1) & ~1  # whole pairs around the range
        w = s.words64_shifted(lo, hi - lo, 11)
        z = _normal_pairs_f64(w[0::2], w[1::2], mean, std)
    else:
        group = NORMAL_GROUP
        lo, hi = first // group * group, -(-(first + count) // group) * group  # whole groups
        z = _normal_groups_f32(s.words32(lo, hi - lo), mean, std)
    return z[first - lo:first - lo + count]


def _gen_trunc_normal(dtype, s: _Stream, first, count, params):
    if dtype == FLOAT64:
        u = (s.words64_shifted(first, count, 12).to(_F64) + 0.5) * 2.0**-52
        return _trunc_normal_from_u(u, *params)
    mode, p2a, m2, q2b, std_signed, a32, b32 = trunc_normal_params32(*params)
    if mode == TN_NORMAL:  # the bounds lie beyond the normal generator's reach
        return _clamp_f32(_gen_normal(dtype, s, first, count, params[:2]), a32, b32)
    if mode == TN_F32:
        return _trunc_normal_f32(s.words32(first, count), p2a, m2, q2b, std_signed, params[0], a32, b32)
    u = ((s.words32(first, count) >> 8).to(_F64) + 0.5) * 2.0**-24
    return _trunc_normal_from_u(u, *params).to(_F32)


def _gen_constant(dtype, s, first, count, params):
    (value,) = params
    if dtype != FLOAT64:
        with np.errstate(over="ignore"):  # beyond float32: inf, as the NumPy backend's cast
            value = _f32(value)
    return torch.full((count,), value, dtype=_F64 if dtype == FLOAT64 else _F32, device=s.device)


_OUT_TYPES = {UINT32: torch.int64, UINT64: torch.int64}


def _fill(gen, out: torch.Tensor, dtype: int, seed: int, stream: int, offset: int, params) -> None:
    if out.dim() != 1 or not out.is_contiguous():
        raise ValueError("internal: the torch-ops backend fills 1-D contiguous tensors")
    s = _Stream(seed, stream, out.device)
    if dtype == UINT32:
        target = out.view(torch.int32)  # low 32 bits of the int64 words: the same bits
    elif dtype == UINT64:
        target = out.view(torch.int64)
    else:
        target = out
    n = out.shape[0]
    chunk = CHUNK_CPU if out.device.type == "cpu" else CHUNK_DEVICE
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        values = gen(dtype, s, offset + start, count, params)
        if dtype == UINT32:
            values = torch.where(values >= 1 << 31, values - (1 << 32), values)
        target[start:start + count].copy_(values)  # float32 -> bfloat16/float16: nearest even


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


def fill(out, resolved, seed, stream, offset):
    """Run a resolved call of ``fastinit._call`` (dist, dtype, p0..p3) on ``out``."""
    dist, dtype = resolved[0], resolved[1]
    if dist == UNIFORM:
        fill_uniform(out, dtype, seed, stream, offset, resolved[2], resolved[3])
    elif dist == NORMAL:
        fill_normal(out, dtype, seed, stream, offset, resolved[2], resolved[3])
    elif dist == TRUNC_NORMAL:
        fill_trunc_normal(out, dtype, seed, stream, offset, *resolved[2:6])
    elif dist == CONSTANT:
        fill_constant(out, dtype, resolved[2])
    else:
        fill_bits(out, dtype, seed, stream, offset)


def isa() -> str:
    return "torch"

