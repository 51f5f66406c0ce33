"""`python -m fastinit bench` and `info`: the main job runs and prints a complete table."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fastinit", *args], capture_output=True, text=True, cwd=ROOT)


def test_bench_prints_a_row_per_case_with_numpy_column():
    out = _run("bench", "--elements", "8192", "--repeat", "1", "--no-torch")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "backend" in lines[0] and "CPUs" in lines[0]
    header = next(line for line in lines if line.startswith("| initializer"))
    assert "fastinit GB/s" in header and "numpy GB/s" in header and "torch" not in header
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| initializer")]
    names = {(r.split("|")[1].strip(), r.split("|")[2].strip()) for r in rows}
    for expected in [("uniform_(-0.05, 0.05)", "float32"), ("normal_(0, 0.02)", "float64"),
                     ("trunc_normal_(0, 0.02, +-2std)", "float32"), ("normal_(0, 0.02)", "float16")]:
        assert expected in names
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        assert float(cells[2]) > 0 and float(cells[3]) > 0


def test_bench_has_a_torch_column_when_torch_is_installed():
    pytest.importorskip("torch", reason="torch is not installed (CI installs torch==2.13.0)")
    out = _run("bench", "--elements", "8192", "--repeat", "1")
    assert out.returncode == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if line.startswith("| initializer"))
    assert "torch GB/s" in header and "x torch" in header


def test_bench_rejects_nonpositive_sizes():
    out = _run("bench", "--elements", "0")
    assert out.returncode != 0 and "positive" in out.stderr


def test_info_names_backend_and_contract():
    out = _run("info")
    assert out.returncode == 0
    assert "stream contract v1" in out.stdout and "backend:" in out.stdout
