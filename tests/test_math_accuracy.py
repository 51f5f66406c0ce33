"""Accuracy of fastinit's own math approximations against float64/high-precision references,
over the inputs the kernels use (exhaustively for float32), and of the float16/bfloat16
rounding. Thresholds are the contract's: 2 ulp of the correctly rounded result."""
from __future__ import annotations

import math

import numpy as np
import pytest

from fastinit import _npmath as M

from conftest import ml_dtypes


def _ulp_error_f32(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|got - correctly rounded ref| in float32 ulps of the correctly rounded value."""
    rounded = ref.astype(np.float32)
    ulp = np.spacing(np.abs(rounded)).astype(np.float64)
    return np.abs(got.astype(np.float64) - rounded.astype(np.float64)) / ulp


def test_log_f32_within_1_ulp_on_every_box_muller_input():
    # u1 = k 2^-24 for every k in [1, 2^24]: all 16.8M inputs the float32 kernels use
    k = np.arange(1, (1 << 24) + 1, dtype=np.float64)
    u1 = k * 2.0**-24
    err = _ulp_error_f32(M.log_f32(u1.astype(np.float32)), np.log(u1))
    nonzero = u1 != 1.0
    assert err[nonzero].max() <= 1.0
    assert M.log_f32(np.array([1.0], np.float32))[0] == 0.0


def test_log_f32_within_1_ulp_across_the_float32_range():
    rng = np.random.default_rng(0)
    x = np.exp(rng.uniform(-87, 88, 2_000_000)).astype(np.float32)
    x = x[(x != 1.0)]
    assert _ulp_error_f32(M.log_f32(x), np.log(x.astype(np.float64))).max() <= 1.0


def test_sincos_f32_within_2_ulp_on_every_angle():
    k = np.arange(1 << 24, dtype=np.uint32)
    cos, sin = M.sincos_turn_f32(k)
    angle = 2 * np.pi * (k.astype(np.float64) / 2**24)
    for got, ref in ((cos, np.cos(angle)), (sin, np.sin(angle))):
        # away from the zeros, where the float64 reference angle itself is inexact
        away = np.abs(ref) > 1e-6
        assert _ulp_error_f32(got[away], ref[away]).max() <= 2.0
        assert np.abs(got[~away].astype(np.float64) - ref[~away]).max() < 1e-12
    exact = {0: (1.0, 0.0), 1 << 22: (0.0, 1.0), 1 << 23: (-1.0, 0.0), 3 << 22: (0.0, -1.0)}
    for kk, (c, s) in exact.items():
        cc, ss = M.sincos_turn_f32(np.array([kk], np.uint32))
        assert (cc[0], ss[0]) == (c, s)


def _ulp_error_f64_mp(values, refs) -> float:
    worst = 0.0
    for got, ref in zip(values, refs):
        ref = float(ref)
        if ref == 0.0:
            assert got == 0.0
            continue
        worst = max(worst, abs(float(got) - ref) / math.ulp(abs(ref)))
    return worst


def test_log_f64_within_2_ulp():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.random(3000) + 2.0**-53, np.exp(rng.uniform(-700, 700, 2000)),
                        1 + rng.uniform(-1e-3, 1e-3, 1000)])
    got = M.log_f64(x)
    assert _ulp_error_f64_mp(got, (mp.log(mp.mpf(float(v))) for v in x)) <= 2.0


def test_sincos_f64_within_2_ulp():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    rng = np.random.default_rng(2)
    k = rng.integers(0, 2**53, 3000, dtype=np.uint64)
    cos, sin = M.sincos_turn_f64(k)
    angles = [2 * mp.pi * mp.mpf(int(v)) / 2**53 for v in k]
    refs_c = [mp.cos(a) for a in angles]
    refs_s = [mp.sin(a) for a in angles]
    keep = [i for i in range(len(k)) if abs(refs_c[i]) > 1e-12 and abs(refs_s[i]) > 1e-12]
    assert _ulp_error_f64_mp(cos[keep], [refs_c[i] for i in keep]) <= 2.0
    assert _ulp_error_f64_mp(sin[keep], [refs_s[i] for i in keep]) <= 2.0


def test_normal_cdf_relative_error_below_1e_12():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    worst = 0.0
    for x in np.linspace(-37.0, 8.0, 2251):
        ref = mp.ncdf(mp.mpf(float(x)))
        worst = max(worst, float(abs(mp.mpf(M.norm_cdf(float(x))) - ref) / ref))
    assert worst < 1e-12


def test_normal_quantile_relative_error_below_1e_14():
    scipy_special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.random(100_000), 10.0 ** -rng.uniform(0, 280, 20_000),
                        1 - 10.0 ** -rng.uniform(1, 15, 20_000)])
    p = p[(p > 0) & (p < 1)]
    got = M.norm_ppf(p)
    ref = scipy_special.ndtri(p)
    assert (np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)).max() < 1e-14


def _float32_patterns() -> np.ndarray:
    """Every float32 bit pattern with exponent near the float16/bfloat16 rounding thresholds
    (subnormal halves, the normal range edges, overflow), plus a random sample of the rest."""
    rng = np.random.default_rng(4)
    dense = []
    for exponent in list(range(100, 115)) + list(range(140, 145)) + [0, 1, 254, 255]:
        mantissa = np.arange(0, 1 << 23, 29, dtype=np.uint32)
        dense.append((np.uint32(exponent) << np.uint32(23)) | mantissa)
    sample = rng.integers(0, 1 << 32, 4_000_000, dtype=np.uint64).astype(np.uint32)
    both = np.concatenate(dense + [sample])
    return np.concatenate([both, both | np.uint32(0x80000000)])


def test_float16_rounding_matches_numpy():
    x = _float32_patterns().view(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = x.astype(np.float16).view(np.uint16)
    got = M.f32_to_f16_bits(x)
    nan = np.isnan(x)
    assert np.array_equal(got[~nan], ref[~nan])
    assert np.all((got[nan] & 0x7C00) == 0x7C00) and np.all(got[nan] & 0x3FF)


@pytest.mark.skipif(ml_dtypes is None, reason="ml_dtypes is not installed: no bfloat16 reference")
def test_bfloat16_rounding_matches_ml_dtypes():
    x = _float32_patterns().view(np.float32)
    with np.errstate(invalid="ignore"):
        ref = x.astype(ml_dtypes.bfloat16).view(np.uint16)
    got = M.f32_to_bf16_bits(x)
    nan = np.isnan(x)
    assert np.array_equal(got[~nan], ref[~nan])
    assert np.all(np.isnan(got[nan].view(ml_dtypes.bfloat16).astype(np.float32)))
