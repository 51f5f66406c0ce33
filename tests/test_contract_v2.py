"""The code paths stream contract v2 added (docs/stream-contract.md, "Changes in v2"): the
float32 Box-Muller pairing of words j and 16 + j, and the three evaluations of a 32- or 16-bit
truncated normal (bounds beyond the normal's reach, the float32 inverse CDF, v1's float64),
each on every backend and instruction-set level this machine runs."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend, _npmath, _params

from conftest import BACKENDS, bits, np_dtype

N = 40_003  # not a multiple of a step; odd offsets below start inside a Box-Muller group
SIXTEEN_BIT = ("bfloat16", "float16")


def _levels() -> list[str]:
    levels = ["numpy"]
    if "c" in BACKENDS:
        from fastinit import _core

        levels += [f"c-{isa}" for isa in _core.available_isas()]
    return levels


def _on(level: str, fill, n: int, dtype: str, **kwargs) -> np.ndarray:
    buf = np.full(n, 7, np_dtype(dtype))
    if level == "numpy":
        with _backend.using("numpy"):
            fill(buf, **kwargs)
        return buf
    from fastinit import _core

    before = _core.isa()
    _core.select_isa(level[2:])
    try:
        with _backend.using("c"):
            fill(buf, **kwargs)
    finally:
        _core.select_isa(before)
    return buf


def _all_levels_agree(fill, n: int, dtype: str, **kwargs) -> np.ndarray:
    results = {level: _on(level, fill, n, dtype, **kwargs) for level in _levels()}
    want = results["numpy"]
    for level, got in results.items():
        mismatch = np.flatnonzero(bits(got) != bits(want))
        assert mismatch.size == 0, f"{level} differs from numpy first at element {mismatch[0]}"
    return want


# ---- the float32 normal: pairs (32g + j, 32g + 16 + j) ---------------------------------------


def test_normal_pairs_share_their_radius_across_half_a_group():
    # r cos and r sin of one pair: z_j^2 + z_{j+16}^2 = r^2 = -2 ln u1, u1 from word 32g + j
    z = fi.normal_(np.empty(64, np.float32), seed=3).astype(np.float64)
    words = fi.random_bits_(np.empty(64, np.uint32), seed=3)
    g = z.reshape(2, 2, 16)
    r2 = g[:, 0, :] ** 2 + g[:, 1, :] ** 2
    u1 = ((words.reshape(2, 2, 16)[:, 0, :] >> 8) + 1) * 2.0**-24
    assert np.allclose(r2, -2 * np.log(u1), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("offset", [0, 1, 15, 16, 17, 31, 33, (1 << 34) - 40])
def test_normal_groups_agree_on_every_level_from_any_offset(dtype, offset):
    _all_levels_agree(fi.normal_, 1000, dtype, seed=5, stream=6, offset=offset)


# ---- the truncated normal of 32/16-bit outputs: which evaluation ------------------------------


@pytest.mark.parametrize("params,mode", [
    ((0.0, 0.02, -2.0, 2.0), _params.TN_NORMAL),      # torch's default bounds: 100 std
    ((0.0, 0.0, -1.0, 1.0), _params.TN_NORMAL),       # std 0: alpha, beta infinite
    ((0.0, 1.0, -6.0, 6.0), _params.TN_NORMAL),       # exactly at the reach
    ((0.0, 1.0, -5.9, 6.0), _params.TN_F32),          # one bound within reach
    ((0.0, 1.0, -2.0, 2.0), _params.TN_F32),
    ((0.0, 1.0, 4.0, 5.0), _params.TN_F32),           # one-sided tail, mirrored
    ((0.0, 1.0, 8.0, 8.5), _params.TN_F64),           # mass 6e-16 < 2^-40
    ((0.0, 1.0, 0.25, 0.2501), _params.TN_F64),       # mass < 2^-8 of its nearer tail
])
def test_the_evaluation_mode_follows_the_contract(params, mode):
    assert _params.trunc_normal_params32(*params)[0] == mode


def test_bounds_rounded_inwards_to_float32():
    _, _, _, _, _, a32, b32 = _params.trunc_normal_params32(0.0, 1.0, -0.1, 0.1)
    assert float(a32) >= -0.1 and float(np.nextafter(a32, np.float32(-1))) < -0.1
    assert float(b32) <= 0.1 and float(np.nextafter(b32, np.float32(1))) > 0.1
    _, _, _, _, _, a32, b32 = _params.trunc_normal_params32(0.0, 1.0, -math.inf, 1e300)
    assert a32 == -np.inf and b32 == np.finfo(np.float32).max


@pytest.mark.parametrize("dtype", ["float32", *SIXTEEN_BIT])
@pytest.mark.parametrize("mean,std,a,b", [(0.0, 0.02, -2.0, 2.0), (1.0, 0.002, -2.0, 2.0), (0.5, 1.0, -8.0, 9.0)])
def test_bounds_beyond_reach_give_the_normal_on_every_level(dtype, mean, std, a, b):
    # the contract defines this case as normal_(mean, std)'s elements clamped into [a, b]
    trunc = _all_levels_agree(lambda buf, **k: fi.trunc_normal_(buf, mean, std, a, b, **k), N, dtype,
                              seed=21, stream=2, offset=3)
    normal = _on("numpy", lambda buf, **k: fi.normal_(buf, mean, std, **k), N, dtype, seed=21, stream=2, offset=3)
    assert np.array_equal(bits(trunc), bits(normal))
    x = trunc.astype(np.float64)
    assert x.min() >= a and x.max() <= b


def test_the_clamp_of_the_shortcut_acts_where_rounding_would_leave_a_b():
    # mean rounds to float32 (1.0) below a, 32 std under it: unclamped, every value would be 1.0;
    # the clamp lifts them to a32 = 1 + 2^-23, the least float32 in [a, b]
    mean, std = 1.0 + 2.0**-24 - 2.0**-40, 2.0**-45
    a, b = 1.0 + 2.0**-24 - 2.0**-39, 1.0 + 2.0**-22
    assert np.float32(mean) == 1.0 < a
    assert _params.trunc_normal_params32(mean, std, a, b)[0] == _params.TN_NORMAL
    x = _all_levels_agree(lambda buf, **k: fi.trunc_normal_(buf, mean, std, a, b, **k), 100, "float32", seed=1)
    assert np.all(x == np.float32(1.0 + 2.0**-23))


@pytest.mark.parametrize("dtype", ["float32", *SIXTEEN_BIT])
@pytest.mark.parametrize("mean,std,a,b", [(0.0, 0.02, -0.04, 0.04), (0.0, 0.02, -0.06, 0.06),
                                          (0.0, 1.0, 4.0, 5.0), (0.0, 1.0, -math.inf, -1.0),
                                          (3.0, 2.0, -1.0, math.inf), (0.0, 1.0, 8.0, 8.5)])
def test_float32_and_v1_evaluations_agree_on_every_level_and_stay_inside(dtype, mean, std, a, b):
    x = _all_levels_agree(lambda buf, **k: fi.trunc_normal_(buf, mean, std, a, b, **k), N, dtype,
                          seed=22, stream=1, offset=5).astype(np.float64)
    if dtype == "float32":
        assert x.min() >= a and x.max() <= b


def test_the_tail_branch_is_taken_lane_by_lane_inside_one_vector():
    # +-3.2 std: about 0.3% of the elements need the tail polynomials, so most vectors that take
    # the tail branch mix tail and central lanes; compared element by element on every level
    _all_levels_agree(lambda buf, **k: fi.trunc_normal_(buf, 0.0, 1.0, -3.2, 3.2, **k), N, "float32", seed=23)


# ---- Phi^-1 in float32 (norm_ppf_f32) --------------------------------------------------------


def test_float32_quantile_accuracy():
    # thresholds from the design (docs/stream-contract.md): <= 8 float32 ulp of Phi^-1 at the
    # nearer tail's probability where |z| > 0.25, < 2e-7 absolute nearer the centre, over
    # tail probabilities down to 2^-64 (the least the float32 evaluation is used for)
    special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(12)
    t = np.concatenate([rng.random(100_000) * 0.5, 2.0 ** -rng.uniform(1, 64, 100_000)]).astype(np.float32)
    p2 = np.float32(2) * t                       # exact
    q2 = (np.float32(2) - p2).astype(np.float32)  # one rounding, as the kernels' q2
    for lo, hi in ((p2, q2), (q2, p2)):
        z = _npmath.norm_ppf_f32(lo, hi).astype(np.float64)
        pl, ph = lo.astype(np.float64) / 2, hi.astype(np.float64) / 2
        ref = np.where(pl < ph, special.ndtri(pl), -special.ndtri(ph))
        far = np.abs(ref) > 0.25
        ulp = np.spacing(np.abs(ref[far]).astype(np.float32)).astype(np.float64)
        assert (np.abs(z[far] - ref[far]) / ulp).max() <= 8
        assert np.abs(z[~far] - ref[~far]).max() < 2e-7
