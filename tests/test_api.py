"""The public API: return values, buffers, seeds and streams, fans, gains, Keras ids."""
from __future__ import annotations

import array
import math
import subprocess
import sys

import numpy as np
import pytest

import fastinit as fi

from conftest import ROOT, bits, ml_dtypes, np_dtype


# ---- in-place fills and their new-array twins -------------------------------------------

IN_PLACE = ["uniform_", "normal_", "trunc_normal_", "glorot_uniform_", "glorot_normal_",
            "xavier_uniform_", "xavier_normal_", "he_uniform_", "he_normal_", "kaiming_uniform_",
            "kaiming_normal_", "lecun_uniform_", "lecun_normal_", "variance_scaling_"]


@pytest.mark.parametrize("name", IN_PLACE)
def test_fills_return_the_buffer_they_filled(backend, name):
    buf = np.full((16, 8), np.nan, np.float32)
    assert getattr(fi, name)(buf, seed=1) is buf
    assert np.isfinite(buf).all()


@pytest.mark.parametrize("name", IN_PLACE)
def test_new_array_variant_equals_the_in_place_fill(backend, name):
    make = getattr(fi, name.rstrip("_"))
    made = make((16, 8), seed=3, stream=2)
    assert made.dtype == np.float32 and made.shape == (16, 8)
    filled = getattr(fi, name)(np.empty((16, 8), np.float32), seed=3, stream=2)
    assert np.array_equal(made, filled)
    assert make((4, 4), dtype=np.float64, seed=1).dtype == np.float64


def test_new_array_variants_of_constants_and_bits():
    assert np.array_equal(fi.zeros((2, 3)), np.zeros((2, 3), np.float32))
    assert np.array_equal(fi.ones(4, dtype="float64"), np.ones(4))
    assert np.array_equal(fi.constant(3, 2.5), np.full(3, 2.5, np.float32))
    assert fi.random_bits(5, seed=0).dtype == np.uint32
    assert fi.random_bits(5, dtype=np.uint64, seed=0).dtype == np.uint64


@pytest.mark.skipif(ml_dtypes is None, reason="ml_dtypes is not installed")
def test_bfloat16_arrays_are_filled_in_place():
    w = fi.normal(1000, dtype="bfloat16", seed=1)
    assert w.dtype == ml_dtypes.bfloat16
    ref = fi.normal(1000, dtype=np.float32, seed=1).astype(ml_dtypes.bfloat16)
    assert np.array_equal(bits(w), bits(ref))


def test_constants(backend):
    for dtype in ("float32", "float64", "bfloat16", "float16"):
        dt = np_dtype(dtype)
        assert np.all(fi.zeros_(np.full(5, 9, dt)) == 0)
        assert np.all(fi.ones_(np.full(5, 9, dt)) == 1)
        assert np.all(fi.constant_(np.full(5, 9, dt), -0.5) == -0.5)
    assert np.all(np.isinf(fi.constant_(np.zeros(3, np.float16), 1e6)))  # rounds, as torch's fill_


# ---- buffers other than ndarrays ---------------------------------------------------------


def test_array_array_is_filled_in_place(backend):
    buf = array.array("f", [0.0] * 10)
    assert fi.uniform_(buf, 1.0, 2.0, seed=4) is buf
    assert np.array_equal(np.frombuffer(buf, np.float32), fi.uniform(10, 1.0, 2.0, seed=4))
    words = array.array("I", [0] * 6)
    fi.random_bits_(words, seed=4)
    assert list(words) == list(fi.random_bits(6, seed=4))


def test_bytearray_memoryview_is_filled_in_place(backend):
    raw = bytearray(8 * 6)
    view = memoryview(raw).cast("d", (2, 3))
    fi.normal_(view, seed=2)
    assert np.array_equal(np.frombuffer(raw, np.float64).reshape(2, 3), fi.normal((2, 3), dtype=np.float64, seed=2))
    # fan-based initializers see the memoryview's shape
    fi.glorot_uniform_(view, seed=2)
    assert np.array_equal(np.frombuffer(raw, np.float64).reshape(2, 3),
                          fi.glorot_uniform((2, 3), dtype=np.float64, seed=2))


def test_zero_size_buffers_are_a_no_op(backend):
    for fill in (fi.uniform_, fi.normal_, fi.trunc_normal_, fi.zeros_):
        empty = np.empty((0, 5), np.float32)
        assert fill(empty) is empty
    assert fi.he_normal_(np.empty((5, 0), np.float32)).size == 0
    assert fi.random_bits_(np.empty(0, np.uint64)).size == 0


def test_multidimensional_buffers_are_filled_in_row_major_order(backend):
    a = fi.normal_(np.empty((3, 4, 5), np.float32), seed=9)
    assert np.array_equal(a.ravel(), fi.normal_(np.empty(60, np.float32), seed=9))


# ---- seeds, streams, generators ----------------------------------------------------------


def test_same_seed_same_values_different_seed_different_values(backend):
    a = fi.normal(100, seed=1)
    assert np.array_equal(a, fi.normal(100, seed=1))
    assert not np.array_equal(a, fi.normal(100, seed=2))
    assert not np.array_equal(a, fi.normal(100, seed=1, stream=1))


def test_an_explicit_seed_uses_stream_0_unless_told(backend):
    assert np.array_equal(fi.uniform(10, seed=5), fi.uniform(10, seed=5, stream=0))


def test_generator_hands_out_successive_streams(backend):
    g = fi.Generator(11)
    first, second = fi.normal(8, generator=g), fi.normal(8, generator=g)
    assert np.array_equal(first, fi.normal(8, seed=11, stream=0))
    assert np.array_equal(second, fi.normal(8, seed=11, stream=1))
    assert g.get_state() == (11, 2)
    # the n-th call depends on n only, not on the sizes of the earlier calls
    h = fi.Generator(11)
    fi.normal(1000, generator=h)
    assert np.array_equal(fi.normal(8, generator=h), second)


def test_generator_state_round_trips():
    g = fi.Generator(3)
    g.next_stream()
    state = g.get_state()
    h = fi.Generator()
    h.set_state(state)
    assert h.get_state() == (3, 1) and h.initial_seed() == 3
    assert g.manual_seed(9) is g and g.get_state() == (9, 0)
    assert "seed=9" in repr(g)


def test_manual_seed_makes_default_calls_reproducible(backend):
    fi.manual_seed(1234)
    a = [fi.normal(16), fi.he_uniform((4, 4))]
    fi.manual_seed(1234)
    b = [fi.normal(16), fi.he_uniform((4, 4))]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], fi.normal(16))
    fi.manual_seed(0)


def test_default_seed_is_fixed_across_processes():
    code = "import fastinit as fi; print(fi.normal(3).tolist())"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=ROOT).stdout for _ in range(2)}
    assert len(runs) == 1


# ---- fans and gains ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,layout,expected",
    [((20, 10), "torch", (10, 20)), ((64, 3, 3, 3), "torch", (27, 576)), ((8, 4, 5), "torch", (20, 40)),
     ((10, 20), "keras", (10, 20)), ((3, 3, 3, 64), "keras", (27, 576)), ((5, 7), "jax", (5, 7))],
)
def test_fans(shape, layout, expected):
    assert fi.fans(shape, layout) == expected


def test_fans_with_jax_axes():
    # depthwise-style kernel (batch axis 0 excluded from the receptive field)
    assert fi.fans((4, 3, 3, 16, 32), in_axis=-2, out_axis=-1, batch_axis=0) == (16 * 9, 32 * 9)
    assert fi.fans((16, 32), in_axis=1, out_axis=0) == (32, 16)


def test_layout_changes_which_fan_is_used(backend):
    torch_w = fi.he_uniform((300, 100), seed=0)           # torch: fan_in = 100
    keras_w = fi.he_uniform((300, 100), layout="keras", seed=0)  # keras: fan_in = 300
    assert np.isclose(np.abs(torch_w).max(), math.sqrt(6 / 100), rtol=0.01)
    assert np.isclose(np.abs(keras_w).max(), math.sqrt(6 / 300), rtol=0.01)


def test_calculate_gain_matches_torchs_table():
    expected = {"linear": 1, "conv1d": 1, "conv2d": 1, "conv3d": 1, "conv_transpose1d": 1,
                "conv_transpose2d": 1, "conv_transpose3d": 1, "sigmoid": 1, "tanh": 5 / 3,
                "relu": math.sqrt(2), "leaky_relu": math.sqrt(2 / (1 + 0.01**2)), "selu": 3 / 4}
    for name, gain in expected.items():
        assert fi.calculate_gain(name) == pytest.approx(gain, rel=1e-15)
    assert fi.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert fi.calculate_gain("leaky_relu", 1) == pytest.approx(1.0)


def test_kaiming_with_torch_linear_default_bound(backend):
    # nn.Linear: kaiming_uniform_(w, a=sqrt(5)) -> bound = 1 / sqrt(fan_in)
    w = fi.kaiming_uniform((64, 400), a=math.sqrt(5), seed=0)
    assert np.abs(w).max() <= 1 / math.sqrt(400)
    assert np.abs(w).max() > 0.99 / math.sqrt(400)


def test_xavier_aliases_are_the_glorot_functions():
    assert fi.xavier_uniform_ is fi.glorot_uniform_ and fi.xavier_normal_ is fi.glorot_normal_
    assert fi.he_uniform_ is fi.kaiming_uniform_ and fi.he_normal_ is fi.kaiming_normal_


def test_torch_and_keras_normal_variants_are_both_reachable(backend):
    plain = fi.glorot_normal((200, 100), seed=0)
    truncated = fi.glorot_normal((200, 100), distribution="truncated_normal", seed=0)
    std = math.sqrt(2 / 300)
    assert np.abs(plain).max() > 2 * std / 0.8796          # untruncated: tails beyond 2 std'
    assert np.abs(truncated).max() <= 2 * std / 0.87962566103423978 * (1 + 1e-6)


# ---- Keras ids ------------------------------------------------------------------------------


def test_get_resolves_keras_ids_and_class_names(backend):
    kernel = (3, 3, 8, 16)  # Keras Conv2D kernel: fan_in = 72, fan_out = 144
    for key in ("glorot_uniform", "GlorotUniform"):
        w = fi.get(key)(np.empty(kernel, np.float32), seed=0)
        assert np.abs(w).max() <= math.sqrt(6 / (72 + 144))
    w = fi.get("he_normal")(np.empty(kernel, np.float32), seed=0)
    assert np.abs(w).max() <= 2 * math.sqrt(2 / 72) / 0.87962566103423978 * (1 + 1e-6)
    assert np.all(fi.get("zeros")(np.ones(3, np.float32)) == 0)
    assert np.all(fi.get("Ones")(np.zeros(3, np.float32)) == 1)
    u = fi.get("random_uniform")(np.empty(10_000, np.float32), seed=0)
    assert u.min() >= -0.05 and u.max() < 0.05
    t = fi.get("truncated_normal")(np.empty(10_000, np.float32), seed=0)
    assert np.abs(t).max() <= 0.1
    n = fi.get("random_normal")(np.empty(100_000, np.float32), seed=0)
    assert abs(n.std() - 0.05) < 0.001
    assert fi.get(fi.zeros_) is fi.zeros_


def test_backend_is_named():
    assert fi.backend() == "numpy" or fi.backend().startswith("c-")


def test_import_does_not_import_torch():
    code = "import sys, fastinit; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_cached_resolution_depends_on_every_argument(backend):
    buf = np.empty((64, 32), np.float32)
    first = fi.variance_scaling_(buf, 1.0, "fan_in", "uniform", seed=1).copy()
    assert np.abs(first).max() <= math.sqrt(3 / 32)
    assert np.abs(fi.variance_scaling_(buf, 4.0, "fan_in", "uniform", seed=1)).max() > math.sqrt(3 / 32)
    assert np.abs(fi.variance_scaling_(buf, 1.0, "fan_out", "uniform", seed=1)).max() <= math.sqrt(3 / 64)
    assert np.abs(fi.variance_scaling_(buf, 1.0, "fan_in", "uniform", layout="keras", seed=1)).max() <= math.sqrt(3 / 64)
    assert np.abs(fi.variance_scaling_(buf, 1.0, "fan_in", "uniform", fan_in=8, seed=1)).max() > math.sqrt(3 / 32)
    with pytest.raises(TypeError):
        fi.variance_scaling_(buf, True, "fan_in", "uniform", seed=1)
    wide = fi.variance_scaling_(np.empty((64, 32), np.float64), 1.0, "fan_in", "uniform", seed=1)
    assert wide.dtype == np.float64 and np.abs(wide).max() <= math.sqrt(3 / 32)
    assert np.array_equal(fi.variance_scaling_(buf, 1.0, "fan_in", "uniform", seed=1), first)
