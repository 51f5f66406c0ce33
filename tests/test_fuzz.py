"""The API fuzz harness (tools/fuzz_api.py): a bounded coverage-guided run, a run on plain
random inputs, proof that the harness catches what it claims to, and the regression tests of
what it found (docs/hardening.md)."""
from __future__ import annotations

import decimal
import fractions
import importlib.util
import math
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend

from conftest import ROOT

HARNESS = ROOT / "tools" / "fuzz_api.py"
# where the fastinit under test lives, for the harness's own process
FASTINIT_PATH = str(pathlib.Path(fi.__file__).resolve().parent.parent)
FUZZ_RUNS = 10_000  # about 40 s on one core of the development machine
FUZZ_SEED = 1
SENTINEL = 123.0

try:
    import atheris  # noqa: F401

    HAVE_ATHERIS = True
except ImportError:
    HAVE_ATHERIS = False


def _harness():
    spec = importlib.util.spec_from_file_location("fuzz_api", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


F = _harness()


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [FASTINIT_PATH, env.get("PYTHONPATH")]))
    return env


@pytest.mark.skipif(not HAVE_ATHERIS, reason="atheris is not installed (pip install atheris): "
                    "the coverage-guided fuzz run needs it")
def test_bounded_coverage_guided_fuzz_run_finds_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, data in enumerate(F.random_inputs(200, seed=0)):  # a fixed seed corpus
        (corpus / f"seed{i:03d}").write_bytes(data)
    out = subprocess.run(
        [sys.executable, str(HARNESS), f"-runs={FUZZ_RUNS}", f"-seed={FUZZ_SEED}", "-timeout=60", "-max_len=512",
         "-len_control=0", "-max_total_time=300", f"-artifact_prefix={tmp_path}/", str(corpus)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=900,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-6000:]
    done = re.search(r"Done (\d+) runs", log)
    assert done and int(done.group(1)) >= 2000, log[-3000:]  # it really ran (max_total_time may cut it)
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("timeout-*"))


def test_random_inputs_find_nothing():
    # no coverage guidance and no atheris needed: 1500 random byte strings through the harness
    for data in F.random_inputs(1500, seed=2):
        F.test_one_input(data)


# ------------------------------------------------------- the harness catches what it claims


def _buffer(data: bytes):
    """A float32 buffer in the guarded region, flush against the upper guard page."""
    # dtype float32 (index 0), size class 5 (1 + n elements), where=0 (end of the region),
    # fill byte, shape as given, kind 9 (plain contiguous ndarray)
    inp = F.Input(bytes([0, 5]) + (63).to_bytes(2, "little") + bytes([0, 7, 3, 9]) + data)
    buf = F.Buffer(inp)
    assert buf.ok and buf.arr.dtype == np.float32 and buf.start + buf.nbytes == F.DATA_BYTES
    return inp, buf


def test_harness_reports_a_write_next_to_the_buffer():
    inp, buf = _buffer(b"")
    F.region().data[buf.start - 1] ^= 0xFF  # the byte before the buffer
    with pytest.raises(F.Finding, match="outside the buffer"):
        buf.check_canary()


def test_harness_reports_a_half_written_buffer_after_an_exception():
    def fill(b, *args, **kwargs):
        b[0] = 1.0
        raise ValueError("refused, too late")

    with pytest.raises(F.Finding, match="changed the buffer"):
        F.call_fill(F.Input(bytes([0, 5, 63, 0, 0, 7, 3, 9])), "uniform_", fill)


def test_harness_reports_a_wrong_exception_type_and_errors_from_inside_a_backend():
    with pytest.raises(F.Finding, match="OverflowError"):
        F.check_exception(OverflowError("int too large to convert to float"), "f()")
    try:
        fi._numpy.fill_uniform(None, 0, 0, 0, 0, 0.0, 1.0)  # a backend fed unchecked input
    except AttributeError as exc:
        backend_error = TypeError(str(exc)).with_traceback(exc.__traceback__)
    with pytest.raises(F.Finding, match="from inside _numpy.py"):
        F.check_exception(backend_error, "f()")
    F.check_exception(ValueError("std=-1.0 must be >= 0"), "f()")  # allowed


def test_harness_guard_page_turns_an_overrun_into_a_crash():
    # one float32 past the end of a buffer flush against the guard page: SIGSEGV
    code = (
        "import ctypes, importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('fuzz_api', {str(HARNESS)!r})\n"
        "F = importlib.util.module_from_spec(spec); spec.loader.exec_module(F)\n"
        "buf = F.Buffer(F.Input(bytes([0, 5, 63, 0, 0, 7, 3, 9])))\n"
        "ctypes.memset(buf.arr.ctypes.data, 0, buf.nbytes)\n"
        "print('inside ok', flush=True)\n"
        "ctypes.memset(buf.arr.ctypes.data, 0, buf.nbytes + 4)\n"
        "print('overrun not caught', flush=True)\n"
    )
    env = _env()
    # under tools/sanitize.sh: let the SIGSEGV through instead of ASan's report of it
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":handle_segv=0:log_path=stderr"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split("\n")[0] == "inside ok", out.stderr
    assert "not caught" not in out.stdout and out.returncode == -11, (out.returncode, out.stderr[-2000:])


# ------------------------------------------------------------------- what the fuzzer found
# Each of these raised OverflowError (or InvalidOperation, or wrote NaN, or gave different
# values on the two backends) before the fix; the README promises TypeError/ValueError naming
# the argument, before anything is written.

HUGE_CALLS = [
    ("uniform high int beyond float64", lambda b: fi.uniform_(b, 0.0, 10**400), "high"),
    ("normal std Fraction beyond float64", lambda b: fi.normal_(b, 0.0, fractions.Fraction(10**400)), "std"),
    ("trunc_normal a int beyond float64", lambda b: fi.trunc_normal_(b, a=-(10**400)), "a"),
    ("constant value int beyond float64", lambda b: fi.constant_(b, 10**400), "value"),
    ("xavier gain squared overflows", lambda b: fi.xavier_uniform_(b, gain=1e200), "gain"),
    ("glorot_normal gain squared overflows", lambda b: fi.glorot_normal_(b, gain=-3e160), "gain"),
    ("kaiming slope int beyond float64", lambda b: fi.kaiming_uniform_(b, a=10**400), "negative_slope"),
    ("variance_scaling scale int beyond float64", lambda b: fi.variance_scaling_(b, 10**400), "scale"),
]


@pytest.mark.parametrize("call,fragment", [c[1:] for c in HUGE_CALLS], ids=[c[0] for c in HUGE_CALLS])
def test_numbers_beyond_float64_raise_value_error_naming_the_argument(backend, call, fragment):
    buf = np.full((8, 6), SENTINEL, np.float32)
    with pytest.raises(ValueError, match=fragment):
        call(buf)
    assert np.all(buf == SENTINEL)


def test_leaky_relu_gain_of_a_huge_slope_is_finite():
    # sqrt(2 / (1 + slope^2)) squared the slope first: OverflowError from |slope| ~ 1.3e154
    assert fi.calculate_gain("leaky_relu", 1e200) == pytest.approx(math.sqrt(2.0) / 1e200, rel=1e-15)
    assert fi.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / (1 + 0.2**2))  # unchanged below
    with pytest.raises(ValueError, match="negative_slope"):
        fi.calculate_gain("leaky_relu", 10**400)
    w = fi.kaiming_uniform_(np.full((8, 6), SENTINEL, np.float32), a=1e300, seed=0)
    assert np.all(w == 0.0)  # gain 1.4e-300: variance underflows to 0, as scale=0 does


@pytest.mark.parametrize(
    "kwargs,exc",
    [
        ({"shape": (math.inf, 3)}, TypeError),
        ({"shape": (2.5, 3)}, TypeError),
        ({"shape": (-1, 3)}, ValueError),
        ({"shape": None}, TypeError),
        ({"shape": (4, 3), "in_axis": decimal.Decimal("NaN")}, TypeError),
        ({"shape": (4, 3), "out_axis": 1.5}, TypeError),
        ({"shape": (4, 3, 2), "batch_axis": [2.0]}, TypeError),
        ({"shape": (4, 3, 2), "batch_axis": 7}, ValueError),
    ],
    ids=["inf-dim", "float-dim", "negative-dim", "no-shape", "decimal-nan-axis", "float-axis", "float-batch-axis",
         "batch-axis-range"],
)
def test_fans_rejects_non_integer_shapes_and_axes(kwargs, exc):
    with pytest.raises(exc):
        fi.fans(**kwargs)


def test_fans_accepts_numpy_integers():
    assert fi.fans((np.int64(64), np.uint8(3), 3, 3), in_axis=np.int32(1), batch_axis=()) == (27, 576)


@pytest.mark.parametrize("a,b", [(-1e10, 0.0), (-1e200, 0.5), (-1.7976931348623157e308, 1.0), (0.25, 1e10)])
def test_trunc_normal_bounds_far_out_in_the_tail_act_as_infinite(backend, a, b):
    # Phi(-1e10) evaluated exp(-5e19) with an int64 cast out of range (UB in C: the C backend
    # returned -37.4 for every element, the NumPy one raised OverflowError from -1e100 on)
    far = fi.trunc_normal_(np.empty(4096, np.float32), 0.0, 1.0, a, b, seed=3)
    inf = fi.trunc_normal_(np.empty(4096, np.float32), 0.0, 1.0, -math.inf if a < 0 else a,
                           math.inf if b > 1e9 else b, seed=3)
    assert np.array_equal(far.view(np.uint32), inf.view(np.uint32))
    assert not np.isnan(far).any()


def test_trunc_normal_interval_beyond_40_std_is_refused_not_nan(backend):
    buf = np.full(16, SENTINEL, np.float32)
    with pytest.raises(ValueError, match="negligible"):
        fi.trunc_normal_(buf, 0.1, 1.0, 40.0, 3.4792470843210304e115)
    assert np.all(buf == SENTINEL)


@pytest.mark.parametrize("x", [-40.0, -1e10, -1e200, -math.inf, 1e10, 1e300])
def test_normal_cdf_in_the_far_tails_is_0_or_1_on_every_backend(x):
    expect = 0.0 if x < 0 else 1.0
    for name, module in _backend.available().items():
        assert module.normal_cdf(x) == expect, name
