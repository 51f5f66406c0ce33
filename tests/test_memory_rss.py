"""Peak resident memory while filling a 1 GiB buffer stays within the buffer plus 32 MiB, on the
C and the NumPy backends, measured in a fresh process from the kernel's own account (VmHWM,
the high-water mark of the resident set).

The bound is chosen before measuring: the NumPy backend works in chunks of 2^16 elements, and
its largest temporaries per chunk are float64/uint64 arrays of 2^16 elements (512 KiB each;
about a dozen are alive at once in the truncated normal), so a few MiB; the C backend writes
in place and its worker threads touch a few pages of stack. 32 MiB leaves room for the
allocator's retention and is still 3% of the buffer: any whole-buffer temporary, even one of a
sixteenth of it, fails the test.

The NumPy backend needs about a minute per GiB for a uniform fill (several for the normals) on
the development machine, so by default it fills the 1 GiB buffer with uniform values only;
FASTINIT_MEMORY_FULL=1 runs every distribution (docs/hardening.md has the measured figures).
Its other distributions' temporaries are bounded by tests/test_memory.py with tracemalloc.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

import fastinit as fi

from conftest import BACKENDS

GIB = 1 << 30
BOUND_MIB = 32
FULL = os.environ.get("FASTINIT_MEMORY_FULL", "") not in ("", "0")
FASTINIT_PATH = str(pathlib.Path(fi.__file__).resolve().parent.parent)

MEASURE = r"""
import json, sys
import numpy as np
import fastinit as fi

def hwm_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")

dtype, names = sys.argv[1], sys.argv[2].split(",")
fills = {
    "uniform": lambda b: fi.uniform_(b, -1.0, 1.0, seed=1),
    "normal": lambda b: fi.normal_(b, 0.0, 0.02, seed=1),
    "trunc_normal": lambda b: fi.trunc_normal_(b, 0.0, 1.0, -2.0, 2.0, seed=1),
}
buf = np.empty((1 << 30) // np.dtype(dtype).itemsize, dtype)
buf[...] = 0  # every page written, so resident: the baseline includes the whole buffer
fi.constant_(buf[:1024], 0.0)  # the first call's one-off imports and thread start, before the baseline
before = hwm_kib()
report = {"backend": fi.backend(), "before_kib": before, "buffer_kib": buf.nbytes // 1024, "growth_kib": {}}
for name in names:
    fills[name](buf)
    report["growth_kib"][name] = hwm_kib() - before  # cumulative: VmHWM never goes down
assert (buf[-16:] != 0).any(), "the fill did not reach the end of the buffer"
print(json.dumps(report))
"""

ALL = ("uniform", "normal", "trunc_normal")
CASES = [
    ("c", "float32", ALL),
    ("c", "float64", ALL),
    ("numpy", "float32", ALL if FULL else ("uniform",)),
]
if FULL:
    CASES.append(("numpy", "float64", ALL))


def _measure(backend: str, dtype: str, names) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTINIT_")}
    env["FASTINIT_BACKEND"] = backend
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [FASTINIT_PATH, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", MEASURE, dtype, ",".join(names)],
                         capture_output=True, text=True, env=env, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc/self/status (VmHWM)")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="under AddressSanitizer (tools/sanitize.sh) freed memory waits in quarantine and "
                           "shadow memory is resident: the process's RSS says nothing about fastinit there")
@pytest.mark.parametrize("backend,dtype,names", CASES, ids=[f"{b}-{d}-{'+'.join(n)}" for b, d, n in CASES])
def test_peak_rss_filling_1gib_stays_within_the_buffer_plus_32mib(backend, dtype, names):
    if backend not in BACKENDS:
        pytest.skip("the C extension fastinit._core is not built (pure-Python install)")
    report = _measure(backend, dtype, names)
    assert report["backend"].split("-")[0] == ("c" if backend == "c" else "numpy")
    assert report["before_kib"] >= report["buffer_kib"]  # the buffer really is resident
    worst = max(report["growth_kib"].values())
    print(f"{backend} {dtype}: peak RSS growth while filling 1 GiB, KiB: {report['growth_kib']}")
    assert worst <= BOUND_MIB * 1024, f"peak RSS grew by {worst / 1024:.1f} MiB over the 1 GiB buffer: {report}"
