"""The torch-ops backend (fastinit._torchops, the one that fills CUDA / MPS / XPU tensors on
their device) gives the C extension's bits for every distribution, dtype, size, offset and
parameter set; run here on CPU tensors, which take the same code as a device."""
from __future__ import annotations

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend, _mathspec
from fastinit._params import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, UINT32, UINT64

from conftest import BACKENDS

torch = pytest.importorskip("torch")
from fastinit import _torchops  # noqa: E402  (imports torch)

pytestmark = pytest.mark.skipif("c" not in BACKENDS, reason="bit identity is checked against the C extension, not built")

TORCH_DTYPES = {FLOAT32: torch.float32, FLOAT64: torch.float64, BFLOAT16: torch.bfloat16, FLOAT16: torch.float16}
NP_RAW = {FLOAT32: np.float32, FLOAT64: np.float64, BFLOAT16: np.uint16, FLOAT16: np.uint16}
DTYPES = [FLOAT32, FLOAT64, BFLOAT16, FLOAT16]
DEFAULTS = {"uniform": (-0.5, 2.0), "normal": (0.25, 3.0), "trunc_normal": (0.0, 1.0, -2.0, 2.0)}
EXTRA_PARAMS = {  # the parameter sets of tests/test_backends.py, plus (0, 1, 5, 9): a float32
    # truncated normal (v2) whose draws take both tail polynomials of norm_ppf_f32 (PPF32_T1, T2)
    "uniform": [(0.0, 1.0), (-3.0, -3.0), (1e-3, 1e-3 + 1e-9), (-1e4, 1e4)],
    "normal": [(0.0, 1.0), (0.0, 0.0), (-7.0, 1e-3), (1e3, 30.0)],
    "trunc_normal": [(0.0, 1.0, -2.0, 2.0), (0.0, 0.002, -2.0, 2.0), (0.0, 1.0, 4.0, 5.0),
                     (0.0, 1.0, -5.0, -4.0), (2.0, 0.5, float("-inf"), 1.0), (0.0, 1.0, 0.0, float("inf")),
                     (0.0, 1.0, 8.0, 8.5), (0.0, 0.0, -1.0, 1.0), (0.0, 1.0, 0.25, 0.25 + 1e-7),
                     (0.0, 1.0, 5.0, 9.0)],
}
SIZES = [1, 3, 4, 5, 1023, (1 << 17) + 3]  # the last spans three CPU chunks of the torch backend
OFFSETS = [0, 1, 2, 3, 5, (1 << 33) + 1, 2**32 * 4 - 7, 2**64 - 41]  # 2^32 * 4 - 7: across a block carry


def _c_raw(dist: str, code: int, n: int, seed: int, stream: int, offset: int, params) -> np.ndarray:
    """The C extension's raw output (uint16 bits for the 16-bit floats)."""
    out = np.full(n, 7, NP_RAW[code])
    core = _backend.available()["c"]
    getattr(core, f"fill_{dist}")(out, code, seed, stream, offset, *params)
    return out


def _torch_raw(dist: str, code: int, n: int, seed: int, stream: int, offset: int, params) -> np.ndarray:
    out = torch.full((n,), 7, dtype=TORCH_DTYPES[code])
    getattr(_torchops, f"fill_{dist}")(out, code, seed, stream, offset, *params)
    return out.view(torch.int16).numpy().view(np.uint16) if code in (BFLOAT16, FLOAT16) else out.numpy()


def _assert_same(dist, code, n, seed, stream, offset, params):
    c = _c_raw(dist, code, n, seed, stream, offset, params)
    t = _torch_raw(dist, code, n, seed, stream, offset, params)
    cb, tb = c.view(f"u{c.itemsize}"), t.view(f"u{t.itemsize}")
    mismatch = np.flatnonzero(cb != tb)
    assert mismatch.size == 0, f"{mismatch.size} mismatches, first at {mismatch[0]}: c={c[mismatch[0]]!r} torch={t[mismatch[0]]!r}"


def test_torch_backend_implements_the_current_contract_version():
    # contract v2 (or any change of _mathspec) must be followed here: this fails until it is
    assert _torchops.CONTRACT_VERSION == _mathspec.CONTRACT_VERSION


@pytest.mark.parametrize("counter,key,expected", [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_philox_known_answers(counter, key, expected):
    assert _torchops.philox4x32(counter, key) == expected


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("code", DTYPES)
@pytest.mark.parametrize("dist", sorted(DEFAULTS))
def test_torch_and_c_agree_on_every_size(dist, code, n):
    _assert_same(dist, code, n, 2024, 11, 0, DEFAULTS[dist])


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("code", DTYPES)
@pytest.mark.parametrize("dist", sorted(DEFAULTS))
def test_torch_and_c_agree_at_every_offset(dist, code, offset):
    n = min(67, 2**64 - offset)
    _assert_same(dist, code, n, 5, 2**63 + 3, offset, DEFAULTS[dist])


@pytest.mark.parametrize("code", DTYPES)
@pytest.mark.parametrize("dist,params", [(d, p) for d, plist in EXTRA_PARAMS.items() for p in plist], ids=str)
def test_torch_and_c_agree_on_parameters(dist, params, code):
    _assert_same(dist, code, 4099, 77, 0, 1, params)


@pytest.mark.parametrize("seed,stream", [(0, 0), (2**64 - 1, 2**64 - 1), (2**32, 2**32 + 1), (12345, 2**63)])
@pytest.mark.parametrize("code", DTYPES)
def test_torch_and_c_agree_on_seeds_and_streams(seed, stream, code):
    for dist in sorted(DEFAULTS):
        _assert_same(dist, code, 301, seed, stream, 3, DEFAULTS[dist])


@pytest.mark.parametrize("code,torch_dtype", [(UINT32, torch.uint32), (UINT64, torch.uint64)])
def test_torch_and_c_agree_on_raw_bits(code, torch_dtype):
    for n, offset in [(1, 0), (5, 3), (1023, 1), ((1 << 17) + 3, 2**33 - 5)]:
        c = np.empty(n, np.uint32 if code == UINT32 else np.uint64)
        _backend.available()["c"].fill_bits(c, code, 2**64 - 1, 9, offset)
        out = torch.empty(n, dtype=torch_dtype)
        _torchops.fill_bits(out, code, 2**64 - 1, 9, offset)
        wide = torch.int32 if code == UINT32 else torch.int64
        assert np.array_equal(out.view(wide).numpy().view(c.dtype), c), (n, offset)


def test_torch_and_c_agree_on_constants():
    core = _backend.available()["c"]
    for code in DTYPES:
        for value in (0.0, -0.0, 1.0, 0.1, 1e-8, 70000.0, 3e38, float("inf"), -float("inf"), 1e39, 6e-8):
            c = np.full(9, 7, NP_RAW[code])
            core.fill_constant(c, code, value)
            out = torch.full((9,), 7, dtype=TORCH_DTYPES[code])
            _torchops.fill_constant(out, code, value)
            got = out.view(torch.int16).numpy().view(np.uint16) if code in (BFLOAT16, FLOAT16) else out.numpy()
            assert np.array_equal(got.view(f"u{got.itemsize}"), c.view(f"u{c.itemsize}")), (code, value)


def test_the_2_to_the_32_block_carry_is_crossed_inside_one_fill():
    # 32-bit word 2^34 is block 2^32: its counter carries into the second counter word
    first = 4 * 2**32 - 5
    for dist in sorted(DEFAULTS):
        _assert_same(dist, FLOAT32, 11, 3, 1, first, DEFAULTS[dist])
        _assert_same(dist, FLOAT64, 11, 3, 1, first // 2, DEFAULTS[dist])


# ---- the device path of fastinit.torch, end to end (CPU tensors routed as a device's) -------


@pytest.fixture
def device_path(monkeypatch):
    from fastinit.torch import _dtensor

    monkeypatch.setattr(_dtensor, "_torch_ops_on_cpu", True)


def _same_bits(a, b) -> bool:
    return torch.equal(a.contiguous().view(torch.uint8), b.contiguous().view(torch.uint8))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_device_path_of_every_drop_in_gives_the_cpu_bits(monkeypatch, dtype):
    import fastinit.torch as I
    from fastinit.torch import _dtensor

    calls = {
        "uniform_": lambda t: I.uniform_(t, -2.0, 3.0, generator=fi.Generator(4)),
        "normal_": lambda t: I.normal_(t, 0.1, 0.02, generator=fi.Generator(4)),
        "trunc_normal_": lambda t: I.trunc_normal_(t, std=0.5, a=-0.4, b=0.9, generator=fi.Generator(4)),
        "xavier_normal_": lambda t: I.xavier_normal_(t, generator=fi.Generator(4)),
        "kaiming_uniform_": lambda t: I.kaiming_uniform_(t, a=5 ** 0.5, generator=fi.Generator(4)),
        "constant_": lambda t: I.constant_(t, 0.3),
    }
    for name, call in calls.items():
        on_cpu = call(torch.empty(33, 17, dtype=dtype))
        monkeypatch.setattr(_dtensor, "_torch_ops_on_cpu", True)
        try:
            routed = call(torch.empty(33, 17, dtype=dtype))
            strided = call(torch.empty(17, 33, dtype=dtype).t())  # non-contiguous: through a device buffer
        finally:
            monkeypatch.setattr(_dtensor, "_torch_ops_on_cpu", False)
        assert _same_bits(routed, on_cpu), name
        assert _same_bits(strided, on_cpu), name


def test_device_path_fills_through_the_torch_backend(device_path, monkeypatch):
    import fastinit.torch as I

    seen = []
    original = _torchops.fill_normal
    monkeypatch.setattr(_torchops, "fill_normal", lambda out, *a: (seen.append(out.numel()), original(out, *a)))
    I.normal_(torch.empty(5, 7), generator=fi.Generator(1))
    assert seen == [35]


def test_a_fill_that_carries_its_call_is_run_without_capture(device_path):
    # a checked fill object with (dist, params, seed, stream), as fastinit.torch's intercept
    # work makes them, goes straight to the resolved call
    from fastinit import _contract
    from fastinit.torch import _dtensor

    class Carried:
        dist, params, seed, stream = _contract.NORMAL, (0.5, 2.0), 9, 4

        def __call__(self, raw):
            raise AssertionError("called: the call was captured, not run directly")

    routed = torch.empty(7, 5)
    _dtensor.fill_(routed, Carried())
    expected = fi.normal_(np.empty((7, 5), np.float32), 0.5, 2.0, seed=9, stream=4)
    assert np.array_equal(routed.numpy(), expected)
