"""`python -m fastinit bench` and `info`: the main job runs and prints a complete table."""
from __future__ import annotations

import subprocess
import sys

import pytest

import fastinit as fi

from conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fastinit", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def _table(stdout: str) -> tuple[str, list[list[str]]]:
    lines = stdout.splitlines()
    header = next(line for line in lines if line.startswith("| initializer"))
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines
            if line.startswith("| ") and not line.startswith("| initializer")]
    return header, rows


def test_bench_prints_a_row_per_case_with_numpy_column():
    out = _run("bench", "--mib", "0.25", "--repeat", "1", "--no-torch")
    assert out.returncode == 0, out.stderr
    assert "backend" in out.stdout.splitlines()[0] and "CPUs" in out.stdout.splitlines()[0]
    header, rows = _table(out.stdout)
    assert "fastinit 1T GB/s" in header and "numpy GB/s" in header and "torch" not in header
    names = {(r[0], r[1]) for r in rows}
    for expected in [("uniform", "float32"), ("normal", "float64"), ("trunc_normal", "float32"),
                     ("normal", "float16"), ("kaiming_normal", "float32")]:
        assert expected in names
    for r in rows:
        values = [c for c in r[2:] if not c.endswith("x")]
        assert all(v == "-" or float(v) > 0 for v in values)


def test_bench_has_a_torch_column_when_torch_is_installed():
    pytest.importorskip("torch", reason="torch is not installed (CI installs torch==2.13.0)")
    out = _run("bench", "--mib", "0.25", "--repeat", "1")
    assert out.returncode == 0, out.stderr
    header, rows = _table(out.stdout)
    assert "torch GB/s" in header and "x torch" in header
    assert all(r[header.count("|") - 2] != "-" for r in rows)


def test_bench_rejects_nonpositive_sizes():
    out = _run("bench", "--mib", "0")
    assert out.returncode != 0 and "positive" in out.stderr


def test_info_names_backend_and_contract():
    out = _run("info")
    assert out.returncode == 0
    assert f"stream contract v{fi.CONTRACT_VERSION}" in out.stdout and fi.CONTRACT_VERSION == 2 and "backend:" in out.stdout
