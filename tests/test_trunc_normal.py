"""Truncated normal where implementations usually break (thresholds fixed in advance)."""
from __future__ import annotations

import numpy as np
import pytest

import fastinit as fi

from conftest import np_dtype

stats = pytest.importorskip("scipy.stats", reason="scipy is needed for the statistical tests")

TEN_MILLION = 10_000_000


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_tiny_std_with_wide_bounds_is_a_plain_normal(dtype):
    # torch's erfinv(2u - 1) recipe in float32 sends u near 0 or 1 to +-inf, clamped to the
    # bounds: values 1000 std away, piled at -2 and 2. None of that may happen here.
    std = 0.002
    w = fi.trunc_normal_(np.empty(TEN_MILLION, np_dtype(dtype)), 0.0, std, -2.0, 2.0, seed=7)
    x = w.astype(np.float64)
    assert np.abs(x).max() < 6 * std                      # nothing beyond 6 std
    assert np.count_nonzero(np.abs(x) >= 2.0) == 0        # nothing at the bounds
    assert abs(x.std() / std - 1) < 0.01
    assert abs(stats.kurtosis(x, fisher=False) - 3.0) < 0.05


def test_one_sided_tail_interval_4_to_5_std_passes_ks():
    w = fi.trunc_normal_(np.empty(200_000, np.float32), 0.0, 1.0, 4.0, 5.0, seed=8)
    assert w.min() >= 4.0 and w.max() <= 5.0
    assert stats.kstest(w.astype(np.float64), stats.truncnorm(4.0, 5.0).cdf).pvalue > 1e-4


def test_far_tail_interval_8_to_9_std_passes_ks():
    w = fi.trunc_normal_(np.empty(200_000, np.float64), 0.0, 1.0, 8.0, 9.0, seed=9)
    assert w.min() >= 8.0 and w.max() <= 9.0
    assert stats.kstest(w, stats.truncnorm(8.0, 9.0).cdf).pvalue > 1e-4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_no_value_piles_up_at_a_bound(dtype):
    # [-0.5, 3] std: the expected count exactly at a bound is zero for a continuous law;
    # allow the rounding of one 2^-24 step at most
    w = fi.trunc_normal_(np.empty(1_000_000, dtype), 0.0, 1.0, -0.5, 3.0, seed=10)
    assert np.count_nonzero(w == np.asarray(-0.5, dtype)) <= 1
    assert np.count_nonzero(w == np.asarray(3.0, dtype)) <= 1
    assert w.min() >= -0.5 and w.max() <= 3.0


def test_narrow_interval_stays_inside_and_is_nearly_uniform():
    a, b = 0.25, 0.25 + 1e-3
    w = fi.trunc_normal_(np.empty(200_000, np.float64), 0.0, 1.0, a, b, seed=11)
    assert w.min() >= a and w.max() <= b
    assert stats.kstest(w, stats.truncnorm(a, b).cdf).pvalue > 1e-4


def test_zero_std_gives_the_mean():
    w = fi.trunc_normal_(np.empty(10, np.float32), 0.3, 0.0, -1.0, 1.0, seed=1)
    assert np.all(w == np.float32(0.3))
