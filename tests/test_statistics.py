"""Statistics with fixed seeds and thresholds chosen in advance: Kolmogorov-Smirnov p > 1e-4
against scipy's distribution, moments within 6 standard errors, and the variance formula of
every initializer. Deterministic (fixed seeds), yet a wrong distribution fails."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fastinit as fi

from conftest import np_dtype

stats = pytest.importorskip("scipy.stats", reason="scipy is needed for the statistical tests")

N = 200_000
KS_P_MIN = 1e-4
SEED = 20260101


def _ks_p(sample: np.ndarray, cdf) -> float:
    return stats.kstest(sample.astype(np.float64), cdf).pvalue


CASES = {  # name: (fill, scipy distribution)
    "uniform": (lambda b, **k: fi.uniform_(b, -2.0, 3.0, **k), stats.uniform(-2.0, 5.0)),
    "normal": (lambda b, **k: fi.normal_(b, 1.0, 2.0, **k), stats.norm(1.0, 2.0)),
    "trunc_normal": (lambda b, **k: fi.trunc_normal_(b, 0.5, 1.5, -1.0, 3.0, **k),
                     stats.truncnorm((-1.0 - 0.5) / 1.5, (3.0 - 0.5) / 1.5, 0.5, 1.5)),
    "trunc_normal_upper_tail": (lambda b, **k: fi.trunc_normal_(b, 0.0, 1.0, 4.0, 5.0, **k),
                                stats.truncnorm(4.0, 5.0)),
    "trunc_normal_lower_tail": (lambda b, **k: fi.trunc_normal_(b, 0.0, 1.0, -5.0, -4.0, **k),
                                stats.truncnorm(-5.0, -4.0)),
    "trunc_normal_half": (lambda b, **k: fi.trunc_normal_(b, 0.0, 1.0, 0.0, math.inf, **k),
                          stats.halfnorm()),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ks_against_scipy(backend, case, dtype):
    fill, dist = CASES[case]
    sample = fill(np.empty(N, dtype), seed=SEED)
    assert _ks_p(sample, dist.cdf) > KS_P_MIN


def _next_up_16bit(values: np.ndarray) -> np.ndarray:
    """The next representable value above each bfloat16/float16 value, as float64."""
    b = values.view(np.uint16).astype(np.int32)
    negative = (b & 0x8000) != 0
    up = np.where(negative, b - 1, b + 1)
    up = np.where(b == 0x8000, 1, up)  # -0 -> smallest positive subnormal
    return up.astype(np.uint16).view(values.dtype).astype(np.float64)


def _ks_p_rounded(sample: np.ndarray, cdf) -> float:
    """Two-sided KS p-value of a 16-bit float sample against the law of the rounded variable:
    P(round(X) <= v) = F((v + next_up(v)) / 2). D is taken at the support points only (the
    exact discrete KS statistic); the continuous kstwo p-value is conservative for it."""
    # unique on float64 (exact for 16-bit floats): NumPy 2.4.6 sorts large negative float16
    # arrays wrongly on this AVX-512 machine (np.sort of 200k values near -4 is not monotonic)
    values64, counts = np.unique(sample.astype(np.float64), return_counts=True)
    values = values64.astype(sample.dtype)
    ecdf = np.cumsum(counts) / sample.size
    mid_up = (values64 + _next_up_16bit(values)) / 2
    model = np.where(np.isfinite(mid_up), cdf(mid_up), 1.0)
    model_below = np.concatenate([[0.0], model[:-1]])
    ecdf_below = np.concatenate([[0.0], ecdf[:-1]])
    d = max(np.abs(ecdf - model).max(), np.abs(ecdf_below - model_below).max())
    return float(stats.kstwo.sf(d, sample.size))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ks_of_16_bit_dtypes_against_the_rounded_law(backend, case, dtype):
    fill, dist = CASES[case]
    sample = fill(np.empty(N, np_dtype(dtype)), seed=SEED)
    assert _ks_p_rounded(sample, dist.cdf) > KS_P_MIN


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_mean_and_variance_within_6_standard_errors(backend, case, dtype):
    fill, dist = CASES[case]
    sample = fill(np.empty(N, np_dtype(dtype)), seed=SEED + 1).astype(np.float64)
    mean, var = dist.mean(), dist.var()
    assert abs(sample.mean() - mean) < 6 * math.sqrt(var / N)
    kurt = dist.stats(moments="k") + 3.0  # scipy gives excess kurtosis
    assert abs(sample.var() - var) < 6 * var * math.sqrt((kurt - 1) / N)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_narrow_dtypes_are_the_float32_values_rounded(backend, case, dtype):
    fill, _ = CASES[case]
    wide = fill(np.empty(N, np.float32), seed=SEED)
    narrow = fill(np.empty(N, np_dtype(dtype)), seed=SEED)
    with np.errstate(over="ignore"):
        expect = wide.astype(np_dtype(dtype))
    assert np.array_equal(narrow.view(np.uint16), expect.view(np.uint16))


def test_raw_bits_are_balanced(backend):
    words = fi.random_bits_(np.empty(N, np.uint32), seed=SEED)
    ones = np.unpackbits(words.view(np.uint8)).reshape(-1, 32).mean(axis=0)
    assert np.all(np.abs(ones - 0.5) < 6 * math.sqrt(0.25 / N))
    counts = np.bincount(words.view(np.uint8), minlength=256)
    assert stats.chisquare(counts).pvalue > KS_P_MIN


def test_streams_and_seeds_are_uncorrelated(backend):
    base = fi.normal_(np.empty(N), seed=SEED, stream=0)
    for other in (fi.normal_(np.empty(N), seed=SEED, stream=1),
                  fi.normal_(np.empty(N), seed=SEED + 1, stream=0),
                  fi.normal_(np.empty(N), seed=SEED, stream=0, offset=1)):
        assert abs(np.corrcoef(base, other)[0, 1]) < 6 / math.sqrt(N)


def test_box_muller_pairs_are_uncorrelated(backend):
    z = fi.normal_(np.empty(N), seed=SEED)
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 6 / math.sqrt(N / 2)
    assert abs(np.corrcoef(z[0::2] ** 2, z[1::2] ** 2)[0, 1]) < 6 / math.sqrt(N / 2)


# ---- initializers: variance = formula, distribution = the named one --------------------

SHAPE = (512, 384)  # torch layout: fan_out = 512, fan_in = 384
FAN_IN, FAN_OUT = 384, 512
INITIALIZERS = {  # name: (fill, expected variance, scipy distribution of w / sqrt(variance) or None)
    "glorot_uniform": (fi.glorot_uniform_, 2 / (FAN_IN + FAN_OUT), stats.uniform(-math.sqrt(3), 2 * math.sqrt(3))),
    "glorot_normal": (fi.glorot_normal_, 2 / (FAN_IN + FAN_OUT), stats.norm()),
    "xavier_uniform_gain": (lambda b, **k: fi.xavier_uniform_(b, gain=5 / 3, **k),
                            (5 / 3) ** 2 * 2 / (FAN_IN + FAN_OUT), None),
    "he_uniform": (fi.he_uniform_, 2 / FAN_IN, stats.uniform(-math.sqrt(3), 2 * math.sqrt(3))),
    "he_normal": (fi.he_normal_, 2 / FAN_IN, stats.norm()),
    "he_normal_fan_out": (lambda b, **k: fi.kaiming_normal_(b, mode="fan_out", nonlinearity="relu", **k),
                          2 / FAN_OUT, stats.norm()),
    "kaiming_uniform_linear_default": (lambda b, **k: fi.kaiming_uniform_(b, a=math.sqrt(5), **k),
                                       1 / (3 * FAN_IN), None),
    "lecun_uniform": (fi.lecun_uniform_, 1 / FAN_IN, None),
    "lecun_normal": (fi.lecun_normal_, 1 / FAN_IN, stats.norm()),
    "keras_glorot_normal": (lambda b, **k: fi.get("glorot_normal")(b, **k), 2 / (FAN_IN + FAN_OUT), None),
    "keras_he_normal": (lambda b, **k: fi.get("he_normal")(b, **k), 2 / FAN_OUT, None),
    "keras_lecun_normal": (lambda b, **k: fi.get("lecun_normal")(b, **k), 1 / FAN_OUT,
                           stats.truncnorm(-2, 2, scale=1 / 0.87962566103423978)),
    "geo_avg_uniform": (lambda b, **k: fi.variance_scaling_(b, 1.0, "fan_geo_avg", "uniform", **k),
                        1 / math.sqrt(FAN_IN * FAN_OUT), None),
}


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_variance_matches_its_formula(backend, name):
    fill, variance, _ = INITIALIZERS[name]
    w = fill(np.empty(SHAPE, np.float64), seed=SEED).ravel()
    n = w.size
    assert abs(w.mean()) < 6 * math.sqrt(variance / n)
    assert abs(w.var() / variance - 1) < 6 * math.sqrt(2 / n)


@pytest.mark.parametrize("name", sorted(k for k, v in INITIALIZERS.items() if v[2] is not None))
def test_initializer_distribution_ks(backend, name):
    fill, variance, standard = INITIALIZERS[name]
    w = fill(np.empty(SHAPE, np.float32), seed=SEED).ravel()
    assert _ks_p(w / math.sqrt(variance), standard.cdf) > KS_P_MIN
