"""Threads: the output is the same for every thread count, threads never write outside the
buffer, the pool survives fork, and fills from several Python threads at once are safe."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastinit as fi

from conftest import BACKENDS, DISTRIBUTIONS, FLOAT_DTYPES, ROOT, bits, np_dtype

needs_c = pytest.mark.skipif("c" not in BACKENDS, reason="threads are a feature of the C extension")
BIG = (1 << 20) + 37  # well above the size at which fills are split over threads


@pytest.fixture
def restore_threads():
    before = fi.get_num_threads()
    yield
    fi.set_num_threads(before)


@needs_c
@pytest.mark.parametrize("dist,dtype", [(d, t) for d in sorted(DISTRIBUTIONS) for t in FLOAT_DTYPES])
def test_output_is_identical_for_every_thread_count(restore_threads, dist, dtype):
    fill = DISTRIBUTIONS[dist]
    results = []
    for threads in (1, 2, 3, 4, 7):
        fi.set_num_threads(threads)
        results.append(fill(np.empty(BIG, np_dtype(dtype)), seed=5, offset=11))
    for other in results[1:]:
        assert np.array_equal(bits(other), bits(results[0]))


@needs_c
def test_threads_write_only_their_buffer(restore_threads):
    fi.set_num_threads(4)
    backing = np.full(BIG + 2000, -7.0, np.float32)
    view = backing[1000:1000 + BIG]
    fi.normal_(view, seed=1)
    assert np.all(backing[:1000] == -7.0) and np.all(backing[1000 + BIG:] == -7.0)
    assert np.count_nonzero(view == -7.0) == 0


def test_set_num_threads_validates(restore_threads):
    for bad in (0, -1, 257):
        with pytest.raises(ValueError, match="n="):
            fi.set_num_threads(bad)
    with pytest.raises(TypeError):
        fi.set_num_threads(2.0)
    fi.set_num_threads(3)
    assert fi.get_num_threads() == (3 if "c" in BACKENDS else 3)


@needs_c
def test_default_thread_count_comes_from_the_environment():
    code = "import fastinit; print(fastinit.get_num_threads())"
    env = dict(os.environ, FASTINIT_NUM_THREADS="3")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.stdout.strip() == "3"
    env.pop("FASTINIT_NUM_THREADS")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert int(out.stdout) == len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else int(out.stdout) >= 1


_FORK = """
import os, sys, numpy as np, fastinit as fi
fi.set_num_threads(4)
expect = fi.normal_(np.empty(%d, np.float32), seed=3)      # starts the pool in the parent
pid = os.fork()
if pid == 0:
    got = fi.normal_(np.empty(%d, np.float32), seed=3)     # the child uses a fresh pool
    os._exit(0 if np.array_equal(got, expect) else 1)
_, status = os.waitpid(pid, 0)
again = fi.normal_(np.empty(%d, np.float32), seed=3)       # and the parent's still works
print(os.waitstatus_to_exitcode(status), np.array_equal(again, expect))
""" % (BIG, BIG, BIG)


@needs_c
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")
def test_the_pool_survives_fork():
    out = subprocess.run([sys.executable, "-c", _FORK], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "True"]


@needs_c
def test_fills_from_several_python_threads_at_once(restore_threads):
    fi.set_num_threads(2)
    seeds = list(range(8))
    expected = {s: fi.trunc_normal_(np.empty(BIG // 2, np.float32), seed=s) for s in seeds}
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for _ in range(3):
                results[seed] = fi.trunc_normal_(np.empty(BIG // 2, np.float32), seed=seed)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    for s in seeds:
        assert np.array_equal(results[s], expected[s])
