"""The statistical-quality tools (tools/rng_quality.py, tools/testu01_philox.c) feed the test
batteries exactly fastinit's raw stream for the recorded seeds (docs/rng-quality.md), so a
recorded result cannot silently be about something else; plus one cheap dieharder smoke run
where dieharder is installed. The batteries themselves take hours and are not run here."""
from __future__ import annotations

import importlib.util
import io
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

import fastinit as fi

from conftest import ROOT

TOOL = ROOT / "tools" / "rng_quality.py"
DRIVER = ROOT / "tools" / "testu01_philox.c"
# (seed, stream) of the runs recorded in docs/rng-quality.md
RECORDED = [(42, 0), (43, 0), (0, 0), (2**64 - 1, 2**64 - 1)]


def _env() -> dict[str, str]:
    """The tool, run as a script, imports the fastinit these tests import."""
    root = str(pathlib.Path(fi.__file__).resolve().parent.parent)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))


def _tool():
    spec = importlib.util.spec_from_file_location("rng_quality", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("seed,stream", RECORDED)
def test_the_feeder_writes_the_raw_words_across_chunks(seed, stream):
    words, chunk = 10_007, 1_000  # chunk edges fall in the middle of Philox blocks
    out = io.BytesIO()
    assert _tool().write_stream(out, seed, stream, offset=3, words=words, chunk=chunk) == words
    want = fi.random_bits_(np.empty(words, np.uint32), seed=seed, stream=stream, offset=3)
    assert out.getvalue() == want.tobytes()


def test_interleaved_streams_alternate_word_by_word():
    out = io.BytesIO()
    assert _tool().write_stream(out, 42, 5, offset=2, words=5000, chunk=1000, interleave=3) == 5000
    per_stream = [fi.random_bits_(np.empty(1667, np.uint32), seed=42, stream=5 + k, offset=2) for k in range(3)]
    want = np.stack(per_stream, axis=1).reshape(-1)[:5000]
    assert out.getvalue() == want.tobytes()
    with pytest.raises(ValueError, match="interleave"):
        _tool().write_stream(io.BytesIO(), 1, 2**64 - 2, interleave=3)


def test_the_feeder_command_line_writes_the_same_bytes():
    proc = subprocess.run([sys.executable, str(TOOL), "stream", "--seed", "42", "--stream", "0", "--words", "5000"],
                          capture_output=True, cwd=ROOT, timeout=120, check=True, env=_env())
    assert proc.stdout == fi.random_bits_(np.empty(5000, np.uint32), seed=42, stream=0).tobytes()


def test_the_feeder_rejects_bad_sizes():
    with pytest.raises(ValueError, match="chunk"):
        _tool().write_stream(io.BytesIO(), 1, 0, chunk=0)
    with pytest.raises(ValueError, match="words"):
        _tool().write_stream(io.BytesIO(), 1, 0, words=-1)
    with pytest.raises(ValueError, match="interleave"):
        _tool().write_stream(io.BytesIO(), 1, 0, interleave=0)


def _compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) or shutil.which("cc")


@pytest.mark.skipif(_compiler() is None, reason="no C compiler to build tools/testu01_philox.c")
def test_the_testu01_driver_hands_out_the_raw_words(tmp_path):
    """Built without TestU01 (-DFI_WORDS_ONLY), the driver prints the words it would test."""
    exe = tmp_path / "testu01_words"
    sources = sorted(str(p) for p in (ROOT / "csrc").glob("[a-z]*.c"))
    subprocess.run([_compiler(), "-std=c99", "-O1", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror",
                    "-DFI_WORDS_ONLY", f"-I{ROOT / 'csrc'}", str(DRIVER), *sources, "-lm", "-lpthread",
                    "-o", str(exe)], check=True, capture_output=True, timeout=300)
    count = 3 * 65536 + 5  # three refills of its 64 Ki-word block, and a partial one
    for seed, stream in RECORDED:
        out = subprocess.run([str(exe), "words", str(seed), str(stream), "7", str(count)],
                             capture_output=True, text=True, check=True, timeout=120).stdout.split()
        got = np.array([int(w, 16) for w in out], np.uint32)
        want = fi.random_bits_(np.empty(count, np.uint32), seed=seed, stream=stream, offset=7)
        assert np.array_equal(got, want), (seed, stream)
    # K = 3 interleaved streams: word j of streams 5, 6, 7 in turn, as the Python feeder writes them
    count = 2 * 65535 + 4
    out = subprocess.run([str(exe), "words", "42", "5", "2", str(count), "3"],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    feeder = io.BytesIO()
    _tool().write_stream(feeder, 42, 5, offset=2, words=count, interleave=3)
    assert np.array_equal(np.array([int(w, 16) for w in out], np.uint32), np.frombuffer(feeder.getvalue(), np.uint32))
    for args in (["small", "-1", "0"], ["small", "1", str(2**64 - 1), "0", "2"], ["words", "1", "0", "0", "5", "65"]):
        bad = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "usage" in bad.stderr, args


@pytest.mark.skipif(shutil.which("dieharder") is None, reason="dieharder is not installed (apt-get install dieharder)")
def test_dieharder_smoke_run_passes_birthdays(tmp_path):
    """One short dieharder test (about a second) through the logged pipeline; seed fixed, so the
    p-value is the same on every run: a broken feeder (zeros, repeats) fails it."""
    log = tmp_path / "dh.txt"
    rc = subprocess.run([sys.executable, str(TOOL), "dieharder", "--seed", "42", "--stream", "0",
                         "--log", str(log), "--", "-d", "0"], cwd=ROOT, timeout=300, env=_env()).returncode
    text = log.read_text()
    assert rc == 0, text
    assert "seed=42 stream=0 offset=0" in text
    assert f"from {pathlib.Path(fi.__file__).resolve().parent.parent}, backend {fi.backend()}" in text
    rows = [line for line in text.splitlines() if line.strip().startswith("diehard_birthdays|")]
    assert len(rows) == 1, text
    assert rows[0].split("|")[-1].strip() == "PASSED", rows[0]


def test_summary_counts_dieharder_assessments_and_reads_testu01_summaries():
    dieharder_log = """#            dieharder version 3.31.1 Copyright 2003 Robert G. Brown          #
        test_name   |ntup| tsamples |psamples|  p-value |Assessment
   diehard_birthdays|   0|       100|     100|0.10568250|  PASSED
      diehard_operm5|   0|   1000000|     100|0.99700000|   WEAK
         rgb_bitdist|   8|    100000|     100|0.00000001|  FAILED
"""
    text = _tool().summarize(dieharder_log)
    assert text.splitlines()[0] == "3 results: 1 PASSED, 1 WEAK, 1 FAILED"
    assert "WEAK: diehard_operm5 (ntup 0, 100 psamples) p = 0.99700000" in text
    assert "FAILED: rgb_bitdist (ntup 8, 100 psamples) p = 0.00000001" in text
    resolved = "# tester: dieharder -g 200 -d 8 -Y 1 -k 2\n" + dieharder_log + \
        "      diehard_operm5|   0|   1000000|     200|0.50000000|  PASSED\n"
    assert _tool().summarize(resolved).splitlines()[-1] == "final round (most psamples per test): 2 PASSED, 0 WEAK, 1 FAILED"
    partial = ("p-value of test                       :    0.36\nCPU time used\n"
               "p-value of test                       :  1 - 4.2e-5\np-value of test                       :   eps\n"
               "p-value of test                       :  2.0e-3\nCPU time used\n"
               "p-value of test                       :  4.6e-4    *****\n")
    assert _tool().summarize(partial) == ("TestU01 run not finished: 2 tests completed so far, 5 p-values, "
                                          "outside [0.001, 0.999]: 1 - 4.2e-5, eps, 4.6e-4")
    done = "CPU time used\n========= Summary results of SmallCrush =========\n All tests were passed\n"
    assert _tool().summarize(done).splitlines()[-1] == " All tests were passed"


def test_summary_tests_replicated_p_values_for_uniformity():
    pytest.importorskip("scipy", reason="the uniformity check uses scipy.stats.kstest")
    block = ("-----------------------------------------------\nTest on the values of the Statistic H\n\n"
             "Number of degrees of freedom          :   46\nChiSquare statistic                   :   51.74\n"
             "p-value of test                       :    {}\n")
    summary = "========= Summary results of Crush =========\n All other tests were passed\n"
    spread = "# command: nice -n 19 ./testu01_philox crush-test=65x5 42 0\n" + "".join(block.format(p) for p in ("0.10", "0.30", "0.50", "0.70", "0.90")) + summary
    bunched = "# command: ./testu01_philox crush-test=65x5 42 0\n" + "".join(block.format(p) for p in ("0.9991", "0.9992", "0.9993", "0.9994", "0.9995    *****")) + summary
    good, bad = _tool().summarize(spread).splitlines()[-1], _tool().summarize(bunched).splitlines()[-1]
    assert good.startswith("statistic H: 5 replicates, p from 0.1 to 0.9, KS uniformity p = ")
    assert float(good.rsplit("= ", 1)[1]) > 0.5
    assert float(bad.rsplit("= ", 1)[1]) < 1e-4
    whole_battery = spread.replace("crush-test=65x5", "crush")  # names shared by different tests
    assert _tool().summarize(whole_battery).splitlines()[-1] == " All other tests were passed"
