"""``python -m fastinit dashboard``: saved pytest-benchmark JSON to one static HTML page.

The page is self-contained: inline CSS and SVG charts drawn here, no JavaScript, no fonts,
images or anything else fetched, so it opens offline. It shows, for the newest run, fastinit's
throughput against buffer size per distribution with every peer and the write ceiling, and
the ratio of each peer's time to fastinit's; for every run its machine, commit and date; and
across runs the history of fastinit's throughput on the main cases.

Throughput is ``extra_info["bytes"] / stats["min"]``: bytes of the buffer over the fastest
call, in GB/s (10^9 bytes per second). The JSON is pytest-benchmark's own format, as written by
``python -m pytest benchmarks/ --benchmark-json=FILE`` (or ``--benchmark-autosave``).
"""
from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import _bench

DEFAULT_RESULTS = os.path.join("benchmarks", "results")
_HOW_TO_MAKE = "write one with: python -m pytest benchmarks/ --benchmark-json=FILE"


class BenchmarkFileError(ValueError):
    """A file or directory given to the dashboard is missing, unreadable or not a fastinit
    pytest-benchmark JSON; the message names the file and what is wrong with it."""


@dataclass(frozen=True)
class Result:
    """One benchmark of a run: a library filling a buffer of ``nbytes`` on ``threads``."""

    library: str
    distribution: str
    dtype: str
    nbytes: int
    threads: int
    seconds: float  # stats.min: the fastest call

    @property
    def gbps(self) -> float:
        """Throughput, GB/s: bytes of the buffer over the fastest call."""
        return self.nbytes / self.seconds / 1e9


@dataclass
class Run:
    """One pytest-benchmark JSON file."""

    path: Path
    when: datetime | None
    machine: dict[str, Any]
    commit: dict[str, Any]
    results: list[Result] = field(default_factory=list)

    @property
    def date(self) -> str:
        return "-" if self.when is None else self.when.strftime("%Y-%m-%d %H:%M")

    @property
    def commit_label(self) -> str:
        ident = str(self.commit.get("id") or "")[:7] or "no commit"
        return ident + ("+dirty" if self.commit.get("dirty") else "")

    @property
    def label(self) -> str:
        """Date and commit, e.g. ``2026-11-24 03:36 7b00d95``."""
        return f"{self.date} {self.commit_label}"

    def lookup(self) -> dict[tuple[str, str, str, int, int], Result]:
        """(library, distribution, dtype, bytes, threads) -> result (the fastest of duplicates)."""
        table: dict[tuple[str, str, str, int, int], Result] = {}
        for r in self.results:
            key = (r.library, r.distribution, r.dtype, r.nbytes, r.threads)
            if key not in table or r.seconds < table[key].seconds:
                table[key] = r
        return table


# ------------------------------------------------------------------------------ loading


def _json_files(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not found:
                raise BenchmarkFileError(f"{path}: directory holds no .json file ({_HOW_TO_MAKE})")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise BenchmarkFileError(f"{path}: no such file or directory")
    unique: dict[Path, Path] = {}
    for f in files:
        unique.setdefault(f.resolve(), f)
    return list(unique.values())


def _need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise BenchmarkFileError(f"{where} has no {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BenchmarkFileError(f"{where}: {key!r} is {type(value).__name__}, not {names}")
    return value


def _result(bench: Any, where: str) -> Result:
    if not isinstance(bench, dict):
        raise BenchmarkFileError(f"{where} is {type(bench).__name__}, not an object")
    name = bench.get("name")
    if isinstance(name, str):
        where = f"{where} ({name})"
    stats = _need(bench, "stats", dict, where)
    seconds = _need(stats, "min", (int, float), f"{where}: stats")
    if not math.isfinite(seconds) or seconds <= 0:
        raise BenchmarkFileError(f"{where}: stats 'min' is {seconds!r}, not a positive time in seconds")
    info = bench.get("extra_info")
    if not isinstance(info, dict) or "library" not in info:
        raise BenchmarkFileError(
            f"{where} has no extra_info 'library': not from fastinit's benchmarks/ suite ({_HOW_TO_MAKE})")
    text = {key: _need(info, key, str, f"{where}: extra_info") for key in ("library", "distribution", "dtype")}
    counts = {key: _need(info, key, int, f"{where}: extra_info") for key in ("bytes", "threads")}
    for key, value in counts.items():
        if value <= 0:
            raise BenchmarkFileError(f"{where}: extra_info {key!r} is {value}, not positive")
    return Result(text["library"], text["distribution"], text["dtype"], counts["bytes"], counts["threads"],
                  float(seconds))


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def load_run(path: str | os.PathLike[str]) -> Run:
    """Read one pytest-benchmark JSON file; BenchmarkFileError says what is wrong with it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BenchmarkFileError(f"{path}: cannot read it: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BenchmarkFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or "benchmarks" not in data:
        raise BenchmarkFileError(
            f"{path}: not a pytest-benchmark JSON file (no top-level 'benchmarks' list; {_HOW_TO_MAKE})")
    where = str(path)
    benchmarks = _need(data, "benchmarks", list, where)
    if not benchmarks:
        raise BenchmarkFileError(f"{path}: 'benchmarks' is empty (every benchmark was skipped or deselected?)")
    machine = data.get("machine_info")
    commit = data.get("commit_info")
    run = Run(path, _when(data.get("datetime")), machine if isinstance(machine, dict) else {},
              commit if isinstance(commit, dict) else {})
    # the model construction benchmarks (benchmarks/test_model_init.py) time whole models, not
    # buffers: they have their own summary (python benchmarks/model_init.py --from-json FILE)
    fills = [(i, b) for i, b in enumerate(benchmarks)
             if not (isinstance(b, dict) and isinstance(b.get("extra_info"), dict)
                     and b["extra_info"].get("kind") == "model")]
    if not fills:
        raise BenchmarkFileError(
            f"{path}: only model benchmarks, no buffer fills (summarize it with "
            f"python benchmarks/model_init.py --from-json {path})")
    run.results = [_result(b, f"{where}: benchmarks[{i}]") for i, b in fills]
    return run


def load_runs(inputs: Sequence[str | os.PathLike[str]]) -> list[Run]:
    """Every run in the given JSON files and directories (searched recursively), oldest first."""
    if not inputs:
        raise BenchmarkFileError(f"no JSON file or directory given ({_HOW_TO_MAKE})")
    runs = [load_run(p) for p in _json_files(inputs)]
    epoch = datetime.min.replace(tzinfo=timezone.utc)

    def order(run: Run) -> tuple[datetime, str]:
        return (run.when or epoch, str(run.path))

    return sorted(runs, key=order)


# ------------------------------------------------------------------------------ SVG charts

_COLORS = {  # Okabe-Ito, readable by colour-blind readers; fastinit the strongest
    "fastinit": "#0072B2",
    "numpy-pcg64": "#E69F00",
    "numpy-philox": "#D55E00",
    "torch": "#CC79A7",
    "mkl_random": "#009E73",
    "ceiling-numpy": "#888888",
    "ceiling-torch": "#444444",
}
_SPARE_COLORS = ("#56B4E9", "#F0E442", "#000000", "#999933", "#882255")


def _color(library: str) -> str:
    if library in _COLORS:
        return _COLORS[library]
    return _SPARE_COLORS[sum(map(ord, library)) % len(_SPARE_COLORS)]


@dataclass
class Series:
    """One line of a chart: points (x, y, tooltip) and how it is drawn."""

    name: str
    color: str
    points: list[tuple[float, float, str]]
    dash: str = ""        # SVG stroke-dasharray; "" is solid
    marker: str = "circle"  # circle, square or none
    width: float = 2.0


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks covering [lo, hi] (lo > 0)."""
    ticks = []
    for exponent in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0 ** exponent
            if lo <= value <= hi:
                ticks.append(value)
    if len(ticks) > 12:
        ticks = [t for t in ticks if round(t / 10 ** math.floor(math.log10(t))) in (1, 5)]
    if len(ticks) > 12:  # many decades (the demo's activation stds): every k-th power of ten
        powers = [t for t in ticks if round(t / 10 ** math.floor(math.log10(t))) == 1]
        ticks = powers[::math.ceil(len(powers) / 8)]
    return ticks


def _number(value: float) -> str:
    """Short axis label: 0.05, 0.5, 5, 50, 500."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def line_chart(title: str, description: str, series: list[Series], x_label: str, y_label: str,
               x_ticks: list[tuple[float, str]], log_x: bool = True, chart_id: str = "chart") -> str:
    """An inline SVG line chart with a log y axis (GB/s spans decades), axis labels, a legend,
    and a tooltip (<title>) on every point."""
    width, height = 680, 340
    left, right, top, bottom = 62, 190, 34, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [p[0] for s in series for p in s.points] + [x for x, _ in x_ticks]
    ys = [p[1] for s in series for p in s.points if p[1] > 0]
    if not ys:
        ys = [1.0]
    fx = (lambda v: math.log10(v)) if log_x else (lambda v: v)
    x_lo, x_hi = fx(min(xs)), fx(max(xs))
    if x_hi - x_lo < 1e-12:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    pad = 0.04 * (x_hi - x_lo)
    x_lo, x_hi = x_lo - pad, x_hi + pad
    y_lo, y_hi = min(ys) / 1.4, max(ys) * 1.4
    ly_lo, ly_hi = math.log10(y_lo), math.log10(y_hi)

    def px(x: float) -> float:
        return left + (fx(x) - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + (ly_hi - math.log10(y)) / (ly_hi - ly_lo) * plot_h

    e = html.escape
    out = [(f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{chart_id}-t {chart_id}-d">'),
           f'<title id="{chart_id}-t">{e(title)}</title><desc id="{chart_id}-d">{e(description)}</desc>',
           f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plot"/>']
    for value in _log_ticks(y_lo, y_hi):
        y = py(value)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{_number(value)}</text>')
    for value, text in x_ticks:
        x = px(value)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" class="grid"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" class="tick" text-anchor="middle">{e(text)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 12}" class="axis" text-anchor="middle">'
               f'{e(x_label)}</text>')
    out.append(f'<text transform="translate(16 {top + plot_h / 2:.1f}) rotate(-90)" class="axis" '
               f'text-anchor="middle">{e(y_label)}</text>')
    out.append(f'<text x="{left}" y="{top - 12}" class="ctitle">{e(title)}</text>')
    for s in series:
        pts = sorted((px(x), py(y), tip) for x, y, tip in s.points if y > 0)
        if not pts:
            continue
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in pts)
        out.append(f'<g><polyline points="{path}" fill="none" stroke="{s.color}" '
                   f'stroke-width="{s.width}"{dash}/>')
        for x, y, tip in pts:
            out.append(_marker(s.marker, x, y, s.color, tip))
        out.append("</g>")
    # legend, right of the plot
    lx, ly = left + plot_w + 16, top + 6
    out.append(f'<text x="{lx}" y="{ly}" class="axis">Legend</text>')
    for i, s in enumerate(series):
        y = ly + 20 + i * 19
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(f'<line x1="{lx}" x2="{lx + 30}" y1="{y - 4}" y2="{y - 4}" stroke="{s.color}" '
                   f'stroke-width="{s.width}"{dash}/>')
        out.append(_marker(s.marker, lx + 15, y - 4, s.color, None))
        out.append(f'<text x="{lx + 38}" y="{y}" class="legend">{e(s.name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _marker(kind: str, x: float, y: float, color: str, tip: str | None) -> str:
    title = f"<title>{html.escape(tip)}</title>" if tip else ""
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.6" fill="{color}">{title}</circle>'
    if kind == "square":
        return f'<rect x="{x - 3.4:.1f}" y="{y - 3.4:.1f}" width="6.8" height="6.8" fill="#fff" ' \
               f'stroke="{color}" stroke-width="1.8">{title}</rect>'
    if title:  # no visible marker, but keep the tooltip on an invisible target
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="transparent">{title}</circle>'
    return ""


# ------------------------------------------------------------------------------ page


def _size_text(nbytes: int) -> str:
    """16384 -> "16 KiB"."""
    label = _bench.size_label(nbytes)
    return label[:-3] + " " + label[-3:] if label.endswith("iB") else label


def _order(values: Iterable[str], known: Sequence[str]) -> list[str]:
    """Known names in their canonical order, then unknown ones sorted."""
    values = set(values)
    return [v for v in known if v in values] + sorted(values - set(known))


def _series_name(library: str, threads: int) -> str:
    return f"{library} ({threads} thread{'s' if threads != 1 else ''})"


def _chart_for(run: Run, distribution: str, dtype: str, chart_id: str) -> str:
    results = [r for r in run.results if r.distribution == distribution and r.dtype == dtype]
    sizes = sorted({r.nbytes for r in results})
    lines: dict[tuple[str, int], list[Result]] = {}
    for r in sorted(results, key=lambda r: r.nbytes):
        lines.setdefault((r.library, r.threads), []).append(r)
    libraries = _order({lib for lib, _ in lines}, _bench.LIBRARIES)
    series = []
    for library in libraries:
        counts = sorted(t for lib, t in lines if lib == library)
        for rank, threads in enumerate(counts):
            points = [(float(r.nbytes), r.gbps, (f"{_series_name(library, threads)}, {_size_text(r.nbytes)}: "
                                                 f"{r.gbps:.2f} GB/s ({r.seconds * 1e6:.1f} µs per fill)"))
                      for r in lines[(library, threads)]]
            if library.startswith("ceiling"):
                s = Series(f"ceiling {library[8:]} {threads}T", _color(library), points,
                           dash="3 3" if rank == 0 else "9 3", marker="none", width=1.8)
            else:
                s = Series(f"{library} {threads}T", _color(library), points,
                           dash="" if rank == 0 else "7 3", marker="circle" if rank == 0 else "square",
                           width=2.6 if library == "fastinit" else 1.8)
            series.append(s)
    title = f"{distribution} · {dtype}"
    description = (f"Throughput in GB/s against buffer size for {distribution} on {dtype}, one line per "
                   f"library and thread count; dashed grey lines are the write ceiling.")
    return line_chart(title, description, series, "buffer size (log scale)", "GB/s (log scale)",
                      [(s, _size_text(s)) for s in sizes], chart_id=chart_id)


def _ratio_cell(ratio: float | None) -> str:
    if ratio is None:
        return '<td class="na">-</td>'
    cls = "win" if ratio >= 1.05 else "loss" if ratio < 0.95 else "even"
    return f'<td class="num {cls}">{ratio:.2f}×</td>'


def _ratio_table(run: Run) -> str:
    """fastinit vs each peer per (distribution, dtype, size): peer time / fastinit time on the
    same buffer and thread count (a single-threaded peer is compared with fastinit on 1 thread)."""
    table = run.lookup()
    fast_threads = sorted({r.threads for r in run.results if r.library == "fastinit"})
    peers = _order({r.library for r in run.results
                    if r.library != "fastinit" and not r.library.startswith("ceiling")}, _bench.PEERS)
    peer_columns = [(p, t) for p in peers for t in sorted({r.threads for r in run.results if r.library == p})]
    cases = sorted({(r.distribution, r.dtype, r.nbytes) for r in run.results if r.library == "fastinit"},
                   key=lambda c: (_rank(c[0], _bench.DISTRIBUTIONS), _rank(c[1], _bench.DTYPES), c[2]))
    e = html.escape
    head = ["distribution", "dtype", "size"] + [f"fastinit {t}T GB/s" for t in fast_threads]
    head += [f"× {p} {t}T" for p, t in peer_columns] + [f"fastinit {t}T % of ceiling" for t in fast_threads]
    rows = []
    for dist, dtype, nbytes in cases:
        cells = [f"<td>{e(dist)}</td>", f"<td>{e(dtype)}</td>", f'<td class="num">{_size_text(nbytes)}</td>']
        mine = {t: table.get(("fastinit", dist, dtype, nbytes, t)) for t in fast_threads}
        for t in fast_threads:
            r = mine[t]
            cells.append('<td class="na">-</td>' if r is None else f'<td class="num">{r.gbps:.2f}</td>')
        for p, t in peer_columns:
            other, me = table.get((p, dist, dtype, nbytes, t)), mine.get(t)
            cells.append(_ratio_cell(None if other is None or me is None else other.seconds / me.seconds))
        for t in fast_threads:
            ceilings = [table[k] for k in table
                        if k[0].startswith("ceiling") and k[1:4] == (dist, dtype, nbytes) and k[4] == t]
            me = mine[t]
            if me is None or not ceilings:
                cells.append('<td class="na">-</td>')
            else:
                best = max(c.gbps for c in ceilings)
                cells.append(f'<td class="num">{100 * me.gbps / best:.0f}%</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        return "<p>This run has no fastinit benchmark to compare.</p>"
    header = "".join(f'<th scope="col">{e(h)}</th>' for h in head)
    return (f'<div class="scroll"><table class="data"><thead><tr>{header}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _rank(value: str, known: Sequence[str]) -> tuple[int, str]:
    return (known.index(value), "") if value in known else (len(known), value)


def _section(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    """mapping[key] when it is an object, else {} (machine_info varies between versions)."""
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def _machine_text(run: Run) -> str:
    cpu, fi = _section(run.machine, "cpu"), _section(run.machine, "fastinit")
    brand = cpu.get("brand_raw") or fi.get("cpu_model") or run.machine.get("processor") or run.machine.get("machine")
    cores = cpu.get("count") or fi.get("cpus_available")
    parts = [str(brand or "unknown CPU")]
    if cores:
        parts.append(f"{cores} CPUs")
    if run.machine.get("node"):
        parts.append(f"host {run.machine['node']}")
    return ", ".join(parts)


def _software_text(run: Run) -> str:
    fi = _section(run.machine, "fastinit")
    versions = _section(fi, "versions")
    parts = []
    if fi.get("backend"):
        parts.append(f"backend {fi['backend']}")
    parts += [f"{k} {v}" for k, v in versions.items()]
    if not versions and run.machine.get("python_version"):
        parts.append(f"python {run.machine['python_version']}")
    return ", ".join(parts) or "-"


def _runs_table(runs: list[Run]) -> str:
    e = html.escape
    rows = []
    for i, run in enumerate(runs, 1):
        c = run.commit
        commit = "-" if not c.get("id") else (
            f'<code>{e(str(c["id"])[:10])}</code> on {e(str(c.get("branch") or "?"))}'
            + (' <span class="dirty">dirty</span>' if c.get("dirty") else " clean"))
        rows.append(f"<tr><td class=\"num\">{i}</td><td>{e(run.date)}</td><td>{commit}</td>"
                    f"<td>{e(_machine_text(run))}</td><td>{e(_software_text(run))}</td>"
                    f"<td class=\"num\">{len(run.results)}</td><td><code>{e(run.path.name)}</code></td></tr>")
    head = "".join(f'<th scope="col">{h}</th>' for h in
                   ("#", "date (UTC)", "commit", "machine", "software", "benchmarks", "file"))
    return (f'<div class="scroll"><table class="data"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _history(runs: list[Run]) -> str:
    """fastinit's GB/s per run on the main cases, at the reference size, on each thread count."""
    sizes = {r.nbytes for run in runs for r in run.results if r.library == "fastinit"}
    if not sizes:
        return "<p>No fastinit results to follow across runs.</p>"
    reference = 16 * _bench.MiB if 16 * _bench.MiB in sizes else max(sizes)
    threads = sorted({r.threads for run in runs for r in run.results if r.library == "fastinit"})
    cases = [(c.distribution, c.dtype) for c in _bench.MAIN_CASES]
    present = {(r.distribution, r.dtype) for run in runs for r in run.results if r.library == "fastinit"}
    cases = [c for c in cases if c in present] or sorted(present)
    e = html.escape
    lookups = [run.lookup() for run in runs]
    head = ['<th scope="col">case</th>', '<th scope="col">threads</th>'] + [
        f'<th scope="col">#{k}<br>{e(run.date)}<br><code>{e(run.commit_label)}</code></th>'
        for k, run in enumerate(runs, 1)]
    if len(runs) > 1:
        head.append('<th scope="col">newest / oldest</th>')
    rows = []
    for d, t in cases:
        for n in threads:
            values = [table.get(("fastinit", d, t, reference, n)) for table in lookups]
            cells = [f"<td>{e(d)} {e(t)}</td>", f'<td class="num">{n}</td>']
            cells += ['<td class="na">-</td>' if r is None else f'<td class="num">{r.gbps:.2f}</td>' for r in values]
            if len(runs) > 1:
                first, last = values[0], values[-1]
                cells.append(_ratio_cell(None if first is None or last is None else last.gbps / first.gbps))
            rows.append("<tr>" + "".join(cells) + "</tr>")
    out = [(f"<p>fastinit's throughput (GB/s) on {_size_text(reference)} buffers in each stored run "
            f"(numbered as in the table of all runs, oldest first).</p>"),
           (f'<div class="scroll"><table class="data"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')]
    if len(runs) < 2:
        out.append('<p class="note">Only one run is stored: add more JSON files (for example to '
                   '<code>benchmarks/results/</code>) to see a trend.</p>')
        return "\n".join(out)
    series = []
    palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#999933"]
    n = threads[0]
    for i, (d, t) in enumerate(cases):
        points = []
        for k, (run, table) in enumerate(zip(runs, lookups), 1):
            r = table.get(("fastinit", d, t, reference, n))
            if r is not None:
                points.append((float(k), r.gbps, f"{d} {t} {n}T, run #{k} ({run.label}): {r.gbps:.2f} GB/s"))
        series.append(Series(f"{d} {t}", palette[i % len(palette)], points))
    ticks = [(float(k + 1), f"#{k + 1}") for k in range(len(runs))]
    out.append('<figure class="single">' + line_chart(f"fastinit {n}T on {_size_text(reference)}, run by run",
                          "fastinit's throughput per stored run for the main cases.", series,
                          "run (numbered as in the table of runs)", "GB/s (log scale)", ticks,
                          log_x=False, chart_id="history") + "</figure>")
    return "\n".join(out)


_CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1b1f24; background: #f6f7f9; margin: 0; }
main { max-width: 1440px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #d0d5dc; }
h3 { font-size: 16px; margin: 20px 0 6px; }
p { margin: 6px 0; max-width: 980px; }
nav a { margin-right: 14px; color: #0b5cad; }
.lead { color: #47505a; }
.note { color: #5b6470; font-size: 14px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; white-space: nowrap; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 14px; }
figure.single { max-width: 720px; margin-top: 12px; }
figure { margin: 0; background: #fff; border: 1px solid #d9dde3; border-radius: 6px; padding: 8px; }
svg.chart { width: 100%; height: auto; display: block; font-family: inherit; }
svg .plot { fill: #fcfcfd; stroke: #b9c0c9; }
svg .grid { stroke: #e3e7ec; stroke-width: 1; }
svg .tick { font-size: 11px; fill: #4a525c; }
svg .axis { font-size: 12px; fill: #1b1f24; font-weight: 600; }
svg .legend { font-size: 11.5px; fill: #1b1f24; }
svg .ctitle { font-size: 14px; font-weight: 700; fill: #1b1f24; }
.scroll { overflow-x: auto; }
table.data { border-collapse: collapse; background: #fff; font-size: 13px; margin: 8px 0; }
table.data th, table.data td { border: 1px solid #d9dde3; padding: 4px 8px; text-align: left; vertical-align: top; }
table.data th { background: #eef1f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.win { background: #e3f4e8; color: #145c2c; }
td.loss { background: #fbe5e3; color: #8a1c12; }
td.even { background: #f3f3f3; }
td.na { color: #9aa1aa; text-align: center; }
.dirty { color: #8a1c12; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
"""


def render(runs: list[Run]) -> str:
    """The whole page for ``runs`` (oldest first; the charts and ratios show the newest)."""
    if not runs:
        raise BenchmarkFileError(f"no runs to show ({_HOW_TO_MAKE})")
    e = html.escape
    latest = runs[-1]
    distributions = _order({r.distribution for r in latest.results}, _bench.DISTRIBUTIONS)
    figures: list[str] = []
    for dist in distributions:
        for dtype in _order({r.dtype for r in latest.results if r.distribution == dist}, _bench.DTYPES):
            chart = _chart_for(latest, dist, dtype, f"c{len(figures) + 1}")
            figures.append(f'<figure id="{e(dist)}-{e(dtype)}">{chart}</figure>')
    libraries = _order({r.library for r in latest.results}, _bench.LIBRARIES)
    threads = sorted({r.threads for r in latest.results})
    body = f"""
<main>
<h1>fastinit fill throughput</h1>
<p class="lead">Each benchmark fills one preallocated, already-touched buffer in place. <strong>Throughput
= buffer bytes / fastest call</strong> (pytest-benchmark's <code>stats.min</code>), in
<strong>GB/s = 10<sup>9</sup> bytes per second</strong>; higher is better. The write ceiling is the
same buffer filled with a constant (<code>ndarray.fill</code>, <code>Tensor.fill_</code>): no
generator can write faster.</p>
<nav aria-label="sections"><a href="#latest">Newest run</a><a href="#charts">Throughput against size</a>
<a href="#ratios">fastinit against each peer</a><a href="#history">History</a><a href="#runs">All runs</a></nav>

<h2 id="latest">Newest run</h2>
<dl class="facts">
<dt>date (UTC)</dt><dd>{e(latest.date)}</dd>
<dt>commit</dt><dd><code>{e(str(latest.commit.get("id") or "-")[:10])}</code>
 on {e(str(latest.commit.get("branch") or "-"))}{" (dirty working tree)" if latest.commit.get("dirty") else ""}</dd>
<dt>machine</dt><dd>{e(_machine_text(latest))}</dd>
<dt>software</dt><dd>{e(_software_text(latest))}</dd>
<dt>libraries</dt><dd>{e(", ".join(libraries))}</dd>
<dt>threads</dt><dd>{e(", ".join(map(str, threads)))}</dd>
<dt>file</dt><dd><code>{e(str(latest.path))}</code> ({len(latest.results)} benchmarks)</dd>
</dl>

<h2 id="charts">Throughput against buffer size</h2>
<p>One chart per distribution and dtype, both axes on log scales. Solid lines with dots: one thread;
long dashes with open squares: all threads. Grey dashed lines without markers: the write ceiling.
Hover a point for its value.</p>
<div class="charts">{"".join(figures)}</div>

<h2 id="ratios">fastinit against each peer</h2>
<p>× peer = the peer's fastest time / fastinit's fastest time on the same buffer and the same number of
threads: above 1 (green) fastinit is faster, below 1 (red) slower. “% of ceiling” is fastinit's
throughput as a share of the fastest constant fill of the same buffer on the same threads. Peers without
a bfloat16/float16 generator (NumPy, mkl_random) generate float32 and round into the buffer.</p>
{_ratio_table(latest)}

<h2 id="history">History</h2>
{_history(runs)}

<h2 id="runs">All runs</h2>
<p>Every JSON file read, oldest first; the sections above show run {len(runs)}.</p>
{_runs_table(runs)}
</main>"""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>fastinit benchmarks: {e(latest.label)}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>{body}\n</body>\n</html>\n")
