"""`python -m fastinit dashboard`: pytest-benchmark JSON in, one self-contained HTML page out.

The page is checked on the stored real runs (benchmarks/results/), on a benchmark run made here,
and in a headless browser when Debian's chromium is installed; bad input must give a clear
message and exit code 2, never a traceback.
"""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from browser import busy_shares_in_browser
from conftest import ROOT, needs_source_tree

from fastinit import _bench, _dashboard

RESULTS = ROOT / "benchmarks" / "results"


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fastinit", "dashboard", *args],
                          capture_output=True, text=True, cwd=cwd, check=False)


def _stored() -> list[Path]:
    files = sorted(RESULTS.glob("*.json"))
    assert files, f"{RESULTS} must hold at least one stored benchmark run"
    return files


def _synthetic(path: Path, seconds: dict[str, float], nbytes: int = 16384, when: str = "2026-01-02T03:04:05+00:00",
               commit: str = "0123456789abcdef") -> Path:
    """A minimal pytest-benchmark file: one buffer, one min time per library (1 thread)."""
    benchmarks = [{"name": f"test_fill[uniform-float32-{lib}]", "group": "uniform float32 16KiB",
                   "stats": {"min": t, "mean": t, "median": t, "rounds": 5},
                   "extra_info": {"library": lib, "distribution": "uniform", "dtype": "float32",
                                  "bytes": nbytes, "threads": 1}}
                  for lib, t in seconds.items()]
    data = {"machine_info": {"node": "box", "cpu": {"brand_raw": "Test CPU 9000", "count": 4}},
            "commit_info": {"id": commit, "branch": "main", "dirty": False},
            "benchmarks": benchmarks, "datetime": when, "version": "5.0.0"}
    path.write_text(json.dumps(data))
    return path


# ------------------------------------------------------------------------------ real data


@needs_source_tree
def test_stored_runs_are_fastinit_benchmark_json():
    for path in _stored():
        run = _dashboard.load_run(path)
        assert {r.library for r in run.results} >= {"fastinit", "numpy-pcg64", "ceiling-numpy"}
        assert run.commit.get("id") and run.machine.get("cpu")


@needs_source_tree
def test_page_of_stored_runs_has_every_section_and_a_chart_per_case():
    runs = _dashboard.load_runs([RESULTS])
    page = _dashboard.render(runs)
    latest = runs[-1]
    for section in ('id="latest"', 'id="charts"', 'id="ratios"', 'id="history"', 'id="runs"'):
        assert section in page
    cases = {(r.distribution, r.dtype) for r in latest.results}
    assert page.count('<svg class="chart"') >= len(cases)
    for distribution, dtype in cases:
        assert f"{distribution} · {dtype}" in page
    assert "buffer size (log scale)" in page and "GB/s (log scale)" in page and "Legend" in page
    assert "ceiling numpy 1T" in page  # the write ceiling is drawn as a line
    assert "× numpy-pcg64 1T" in page and "× numpy-philox 1T" in page
    assert latest.machine["cpu"]["brand_raw"] in page
    assert str(latest.commit["id"])[:10] in page
    assert "stats.min" in page and "10<sup>9</sup> bytes per second" in page


@needs_source_tree
def test_page_fetches_nothing_from_outside():
    page = _dashboard.render(_dashboard.load_runs([RESULTS]))
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert "url(" not in page and "@import" not in page and " src=" not in page
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))


# ------------------------------------------------------------------------------ numbers


def test_throughput_is_bytes_over_fastest_call_and_ratio_is_peer_time_over_fastinit_time(tmp_path):
    path = _synthetic(tmp_path / "run.json", {"fastinit": 8.192e-6, "numpy-pcg64": 3 * 8.192e-6,
                                              "ceiling-numpy": 8.192e-6 / 4})
    run = _dashboard.load_run(path)
    by_library = {r.library: r for r in run.results}
    assert by_library["fastinit"].gbps == pytest.approx(16384 / 8.192e-6 / 1e9)  # 2.0 GB/s
    page = _dashboard.render([run])
    assert '<td class="num">2.00</td>' in page       # fastinit GB/s
    assert '<td class="num win">3.00×</td>' in page  # numpy's time is 3x fastinit's
    assert '<td class="num">25%</td>' in page        # 2 GB/s of an 8 GB/s ceiling


def test_a_slower_fastinit_is_shown_as_a_loss(tmp_path):
    run = _dashboard.load_run(_synthetic(tmp_path / "run.json", {"fastinit": 2e-6, "torch": 1e-6}))
    assert '<td class="num loss">0.50×</td>' in _dashboard.render([run])


def test_history_lists_every_run_oldest_first_and_charts_them(tmp_path):
    _synthetic(tmp_path / "b.json", {"fastinit": 4e-6}, when="2026-03-01T00:00:00+00:00", commit="bbbbbbbbbb")
    _synthetic(tmp_path / "a.json", {"fastinit": 8e-6}, when="2026-01-01T00:00:00+00:00", commit="aaaaaaaaaa")
    runs = _dashboard.load_runs([tmp_path])
    assert [r.commit["id"] for r in runs] == ["aaaaaaaaaa", "bbbbbbbbbb"]
    page = _dashboard.render(runs)
    history = page[page.index('id="history"'):page.index('id="runs"')]
    assert history.index("aaaaaaa") < history.index("bbbbbbb")
    assert "2.05" in history and "4.10" in history  # 16384 B / 8 us and / 4 us
    assert "2.00×" in history  # newest / oldest
    assert 'aria-labelledby="history-t history-d"' in history


# ------------------------------------------------------------------------------ a real run


@needs_source_tree
def test_dashboard_renders_a_benchmark_run_made_now(tmp_path):
    pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed (pip install -e '.[test]')")
    out = tmp_path / "tiny.json"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "benchmarks/",
           "-k", "uniform-float32-16KiB and (fastinit-1t or numpy-pcg64 or ceiling-numpy)",
           f"--benchmark-json={out}", "--benchmark-max-time=0.01", "--benchmark-min-rounds=1"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    data = json.loads(out.read_text())
    infos = [b["extra_info"] for b in data["benchmarks"]]
    assert {i["library"] for i in infos} == {"fastinit", "numpy-pcg64", "ceiling-numpy"}
    assert all(i["bytes"] == 16384 and i["dtype"] == "float32" and i["threads"] == 1 for i in infos)
    assert all("data" not in b["stats"] for b in data["benchmarks"])  # stats kept, raw rounds dropped
    html_path = tmp_path / "report.html"
    done = _cli(str(out), "-o", str(html_path))
    assert done.returncode == 0, done.stderr
    page = html_path.read_text()
    assert "uniform · float32" in page and "× numpy-pcg64 1T" in page and "ceiling numpy 1T" in page


def test_suite_ids_and_groups_come_from_the_shared_case_table():
    specs = _bench.specs(full=False)
    assert {s.nbytes for s in specs} == set(_bench.DEFAULT_SIZES)
    assert {(s.case.distribution, s.case.dtype) for s in specs} == {(c.distribution, c.dtype) for c in _bench.MAIN_CASES}
    assert len({s.id for s in specs}) == len(specs)
    full = _bench.specs(full=True)
    assert 256 * _bench.MiB in {s.nbytes for s in full}
    assert {(s.case.distribution, s.case.dtype) for s in full} == {(d, t) for d in _bench.DISTRIBUTIONS for t in _bench.DTYPES}


# ------------------------------------------------------------------------------ headless browser


@needs_source_tree
def test_page_renders_in_a_headless_browser(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(_dashboard.render(_dashboard.load_runs([RESULTS])), encoding="utf-8")
    shots = busy_shares_in_browser(page, tmp_path)
    assert shots["blank"] == 0.0  # the measure sees nothing on an empty page ...
    assert shots["page"] > 0.3, shots  # ... and text, tables or charts across much of the page


# ------------------------------------------------------------------------------ bad input


def _bad_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    good = json.loads(_synthetic(tmp_path / "good.json", {"fastinit": 1e-6}).read_text())
    no_info = copy.deepcopy(good)
    del no_info["benchmarks"][0]["extra_info"]
    bad_min = copy.deepcopy(good)
    bad_min["benchmarks"][0]["stats"]["min"] = -1
    bad_bytes = copy.deepcopy(good)
    bad_bytes["benchmarks"][0]["extra_info"]["bytes"] = "16 KiB"
    return {
        "truncated.json": ('{"benchmarks": [', "not valid JSON (line 1"),
        "list.json": ("[1, 2]", "not a pytest-benchmark JSON file"),
        "other.json": ('{"name": "x"}', "not a pytest-benchmark JSON file"),
        "empty.json": (json.dumps({**good, "benchmarks": []}), "'benchmarks' is empty"),
        "no_info.json": (json.dumps(no_info), "no extra_info 'library'"),
        "bad_min.json": (json.dumps(bad_min), "not a positive time"),
        "bad_bytes.json": (json.dumps(bad_bytes), "'bytes' is str, not int"),
    }


def test_malformed_json_gives_a_clear_error_and_exit_code_2(tmp_path):
    for name, (text, message) in _bad_files(tmp_path).items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(_dashboard.BenchmarkFileError, match=re.escape(message)):
            _dashboard.load_run(path)
        done = _cli(str(path), "-o", str(tmp_path / "out.html"))
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert name in done.stderr and message in done.stderr, (name, done.stderr)
        assert "Traceback" not in done.stderr
        assert not (tmp_path / "out.html").exists()


def _model_entry(case: str, seconds: float, round_: int = 1) -> dict:
    return {"name": f"test_model_init[gpt2-round{round_}-{case}]", "group": "model gpt2: construction",
            "stats": {"min": seconds, "mean": seconds, "median": seconds, "rounds": 1},
            "extra_info": {"kind": "model", "model": "gpt2", "case": case, "round": round_, "threads": 2,
                           "params": 124_000_000, "child_seconds": seconds}}


def test_model_benchmarks_in_a_run_are_left_out_of_the_fill_charts(tmp_path):
    path = _synthetic(tmp_path / "run.json", {"fastinit": 1e-6, "numpy-pcg64": 2e-6})
    data = json.loads(path.read_text())
    data["benchmarks"].append(_model_entry("torch", 3.0))
    path.write_text(json.dumps(data))
    run = _dashboard.load_run(path)
    assert sorted(r.library for r in run.results) == ["fastinit", "numpy-pcg64"]


def test_a_run_of_only_model_benchmarks_points_to_its_summary(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"benchmarks": [_model_entry("torch", 3.0)]}))
    with pytest.raises(_dashboard.BenchmarkFileError, match="only model benchmarks.*--from-json"):
        _dashboard.load_run(path)


def test_model_summary_keeps_the_best_round_of_each_case_and_its_ratios(tmp_path):
    entries = [_model_entry("torch", 4.0, 1), _model_entry("torch", 3.0, 2), _model_entry("patched", 1.2, 1),
               _model_entry("patched", 1.5, 2), _model_entry("floor", 1.0, 1), _model_entry("floor", 1.1, 2)]
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"benchmarks": entries}))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "model_init.py"), "--from-json", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "best of 2 fresh processes" in done.stdout
    assert "| torch | 3.00 | 3.00x |" in done.stdout      # best of 4.0 and 3.0, over the floor's 1.0
    assert "| patched | 1.20 | 1.20x |" in done.stdout
    assert "patched over torch's default build: 2.5x" in done.stdout


def test_missing_file_and_empty_directory_are_named(tmp_path):
    done = _cli(str(tmp_path / "nope.json"), "-o", str(tmp_path / "out.html"))
    assert done.returncode == 2 and "nope.json: no such file or directory" in done.stderr
    (tmp_path / "empty").mkdir()
    done = _cli(str(tmp_path / "empty"), "-o", str(tmp_path / "out.html"))
    assert done.returncode == 2 and "holds no .json file" in done.stderr
    assert "Traceback" not in done.stderr


@needs_source_tree
def test_cli_defaults_to_the_stored_results(tmp_path):
    out = tmp_path / "report.html"
    done = _cli("-o", str(out))
    assert done.returncode == 0, done.stderr
    assert f"{len(_stored())} run" in done.stdout
    assert out.read_text().startswith("<!DOCTYPE html>")
