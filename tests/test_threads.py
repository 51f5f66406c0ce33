"""Threads: the output is the same for every thread count, threads never write outside the
buffer, the pool survives fork (also while another thread fills), and fills from several
Python threads at once (any distribution, dtype and size, racing with set_num_threads) give
the serial result."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastinit as fi
from fastinit._contract import PARALLEL_MIN_BYTES

from conftest import BACKENDS, DISTRIBUTIONS, FLOAT_DTYPES, ROOT, bits, env_without_sanitizer_preload, np_dtype

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


# A fill of at least 1 MiB faults its fresh pages in 4 MiB at a time (madvise
# MADV_POPULATE_WRITE on Linux, csrc/threads.c) before writing them; these check that this
# changes no value: fresh anonymous memory, a fresh shared file mapping and resident memory
# all get the bits of the same fill made from pieces too small to be populated.
FIRST_TOUCH = 9 << 20  # bytes: on 1 and 2 threads, several 4 MiB pieces and a partial one


def _reference(fill, count, dtype, seed, offset):
    """The fill from pieces of 100000 elements (below 1 MiB: never populated)."""
    out = np.empty(count, dtype)
    piece = 100_000
    for start in range(0, count, piece):
        fill(out[start:start + piece], seed=seed, offset=offset + start)
    return out


@needs_c
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dist,dtype", [(d, t) for d in ("uniform", "normal", "trunc_normal") for t in FLOAT_DTYPES])
def test_fresh_and_resident_memory_get_the_same_bits(restore_threads, dist, dtype, threads):
    import mmap

    fi.set_num_threads(threads)
    fill, dt = DISTRIBUTIONS[dist], np_dtype(dtype)
    count = FIRST_TOUCH // dt.itemsize + 1001
    want = _reference(fill, count, dt, 3, 17)
    # fresh: anonymous mappings nothing has touched, private (as malloc's) and shared (shmem),
    # the buffer starting one element in (so neither end is page-aligned)
    for flags in (mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, mmap.MAP_SHARED | mmap.MAP_ANONYMOUS):
        region = mmap.mmap(-1, (count + 2) * dt.itemsize, flags=flags)
        try:
            fresh = np.frombuffer(region, dt)[1:1 + count]
            fill(fresh, seed=3, offset=17)
            assert np.array_equal(bits(fresh), bits(want)), f"mmap flags {flags:#x}"
            del fresh
        finally:
            region.close()
    resident = np.ones(count, dt)  # every page written before the fill
    fill(resident, seed=3, offset=17)
    assert np.array_equal(bits(resident), bits(want))


@needs_c
def test_fastinit_populate_0_gives_the_same_bits():
    """FASTINIT_POPULATE=0 (pages fault on the first write instead) changes no value."""
    code = (
        "import mmap, sys, numpy as np, fastinit as fi\n"
        f"count = {FIRST_TOUCH // 4 + 1001}\n"
        "region = mmap.mmap(-1, 4 * count, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)\n"
        "a = np.frombuffer(region, np.float32)\n"
        "fi.set_num_threads(2)\n"
        "fi.normal_(a, 0.0, 0.02, seed=4, offset=9)\n"
        "sys.stdout.buffer.write(a.tobytes())\n"
    )
    env = dict(os.environ)  # a Python child: it keeps a sanitizer preload, as the others here
    runs = {}
    for value in ("0", "1"):
        env["FASTINIT_POPULATE"] = value
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr.decode()
        runs[value] = np.frombuffer(result.stdout, np.float32)
    want = _reference(lambda buf, **kw: fi.normal_(buf, 0.0, 0.02, **kw), FIRST_TOUCH // 4 + 1001, np.float32, 4, 9)
    assert np.array_equal(bits(runs["0"]), bits(want)) and np.array_equal(bits(runs["1"]), bits(want))


@needs_c
def test_a_fresh_file_mapping_gets_the_same_bits(restore_threads, tmp_path):
    fi.set_num_threads(2)
    count = FIRST_TOUCH // 4 + 1001
    mapped = np.memmap(tmp_path / "weights.bin", dtype=np.float32, mode="w+", shape=(count,))
    fi.normal_(mapped, 0.0, 0.02, seed=8)
    mapped.flush()
    del mapped
    stored = np.fromfile(tmp_path / "weights.bin", dtype=np.float32)
    want = _reference(lambda buf, **kw: fi.normal_(buf, 0.0, 0.02, **kw), count, np.float32, 8, 0)
    assert np.array_equal(bits(stored), bits(want))


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


def _parallel_min_elements(dtype: str) -> int:
    return PARALLEL_MIN_BYTES // np.dtype(np_dtype(dtype)).itemsize  # FI_PARALLEL_MIN_BYTES, fi_contract.h


def _mixed_jobs() -> list[tuple[str, str, int, int]]:
    """(distribution, dtype, size, seed): every distribution and dtype, at sizes below, at and
    above the size from which a fill is split over the pool, and one above a signal-check chunk
    (fastinit._core.chunk_elements), so threads and chunks cross in every combination."""
    from fastinit import _core

    jobs = []
    cases = [(d, t) for d in sorted(DISTRIBUTIONS) for t in FLOAT_DTYPES] + [("bits", "uint32"), ("bits", "uint64")]
    for k, (dist, dtype) in enumerate(cases):
        edge = _parallel_min_elements(dtype)
        for size in (1000 + k, edge - 1, edge, BIG + k):
            jobs.append((dist, dtype, size, len(jobs)))
    jobs.append(("normal", "float32", _core.chunk_elements(2) + 5, len(jobs)))
    jobs.append(("trunc_normal", "float64", _core.chunk_elements(3) + 3, len(jobs)))
    return jobs


def _run_job(dist: str, dtype: str, size: int, seed: int) -> np.ndarray:
    out = np.empty(size, np_dtype(dtype))
    if dist == "bits":
        return fi.random_bits_(out, seed=seed, offset=seed)
    return DISTRIBUTIONS[dist](out, seed=seed, offset=seed)


def _run_threads(target, args_list, timeout=300):
    errors: list[BaseException] = []

    def guarded(*args):
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors


@needs_c
def test_many_python_threads_mixing_distributions_dtypes_and_sizes_give_the_serial_result(restore_threads):
    jobs = _mixed_jobs()
    fi.set_num_threads(1)
    serial = [bits(_run_job(*job)).copy() for job in jobs]
    fi.set_num_threads(3)
    results: dict[int, np.ndarray] = {}

    def work(worker: int, nworkers: int) -> None:
        # each Python thread walks the jobs in its own order, so different jobs overlap
        order = list(range(worker, len(jobs))) + list(range(worker))
        for i in order[::nworkers] + order[1::nworkers]:
            results[i * 100 + worker] = bits(_run_job(*jobs[i])).copy()

    _run_threads(work, [(w, 6) for w in range(6)])
    assert {key // 100 for key in results} == set(range(len(jobs)))  # every job ran
    for key, got in results.items():
        assert np.array_equal(got, serial[key // 100]), jobs[key // 100]


@needs_c
def test_set_num_threads_racing_with_fills_from_other_threads_is_harmless(restore_threads):
    expected = fi.trunc_normal_(np.empty(BIG, np.float32), seed=8)
    stop = threading.Event()
    mismatches: list[int] = []

    def fill(_: int) -> None:
        for _ in range(6):
            got = fi.trunc_normal_(np.empty(BIG, np.float32), seed=8)
            if not np.array_equal(got, expected):
                mismatches.append(1)
        stop.set()

    def toggle(_: int) -> None:
        k = 0
        while not stop.is_set() and k < 100_000:
            fi.set_num_threads(1 + k % 4)
            assert 1 <= fi.get_num_threads() <= 4
            k += 1

    _run_threads(lambda role: (fill if role < 3 else toggle)(role), [(r,) for r in range(4)])
    assert not mismatches


_FORK_WHILE_FILLING = """
import os, sys, threading, time, numpy as np, fastinit as fi
fi.set_num_threads(4)
N = %d
expect = fi.normal_(np.empty(N, np.float32), seed=3)
stop = threading.Event()
bad = []

def keep_filling():
    while not stop.is_set():
        if not np.array_equal(fi.normal_(np.empty(N, np.float32), seed=3), expect):
            bad.append(1)

filler = threading.Thread(target=keep_filling)
filler.start()
codes = []
for attempt in range(5):
    time.sleep(0.01 * attempt)   # fork at different points of the other thread's fills
    pid = os.fork()
    if pid == 0:
        # the filling thread and the pool workers do not exist here; the pool is rebuilt
        ok = all(np.array_equal(fi.normal_(np.empty(N, np.float32), seed=3), expect) for _ in range(2))
        os._exit(0 if ok else 1)
    for _ in range(600):   # up to 60 s, then call it a hang
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            codes.append(os.waitstatus_to_exitcode(status))
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        codes.append("hang")
stop.set()
filler.join()
print(codes, len(bad))
""" % BIG


@needs_c
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")
def test_fork_while_another_thread_is_filling():
    out = subprocess.run([sys.executable, "-c", _FORK_WHILE_FILLING], capture_output=True, text=True,
                         timeout=400, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[0, 0, 0, 0, 0] 0"


def test_set_num_threads_racing_with_fills_is_free_of_data_races_under_tsan(tmp_path):
    """The C pool under ThreadSanitizer: two threads fill while a third changes the thread
    count (tests/c/test_threads_race.c); no data race is reported and every fill is right."""
    import shutil

    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if cc is None or sys.platform == "win32":
        pytest.skip("needs a C compiler with pthreads")
    exe = tmp_path / "race"
    build = subprocess.run([cc, "-std=c99", "-O1", "-g", "-pthread", "-fsanitize=thread", "-ffp-contract=off",
                            f"-I{ROOT / 'csrc'}", str(ROOT / "tests/c/test_threads_race.c"),
                            *sorted(str(p) for p in (ROOT / "csrc").glob("*.c")), "-lm", "-o", str(exe)],
                           capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip(f"{cc} cannot build with -fsanitize=thread here: {build.stderr[-300:]}")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300,
                         env=env_without_sanitizer_preload(TSAN_OPTIONS="halt_on_error=0 exitcode=66"))
    if "unexpected memory mapping" in out.stderr or "FATAL: ThreadSanitizer" in out.stderr:
        pytest.skip(f"ThreadSanitizer cannot run on this kernel: {out.stderr[:200]}")
    assert "WARNING: ThreadSanitizer" not in out.stderr, out.stderr[:3000]
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr[:2000]
