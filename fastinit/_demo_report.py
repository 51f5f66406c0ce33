"""The offline HTML page of ``python -m fastinit demo``.

Self-contained like the benchmark dashboard (and drawn with its chart code and style sheet):
inline CSS and SVG, no JavaScript, nothing fetched, so it opens offline and needs no plotting
library. Per activation: activation std per layer, weight-gradient norm per layer and the
training loss of every initializer (log scales), the activation histograms of every layer, and
the decision boundary each initializer reaches; then the whole table.
"""
from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

from . import _dashboard
from ._demo import HIST_BINS, Case, Config, legend, table

# one colour per initializer (Okabe-Ito first); the cautionary ones are drawn dashed
_COLORS = {
    "zeros": "#999999", "constant": "#000000", "small": "#56B4E9", "large": "#D55E00",
    "glorot_uniform": "#0072B2", "glorot_normal": "#009E73", "he_uniform": "#E69F00",
    "he_normal": "#CC79A7", "lecun_normal": "#882255",
}
_CLASS_COLORS = ((230, 159, 0), (0, 114, 178))  # class 0 orange, class 1 blue (as the points)


def _color(name: str) -> str:
    return _COLORS.get(name, "#444444")


def _finite_positive(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    return [p for p in points if math.isfinite(p[1]) and p[1] > 0]


def _series(case: Case, points: list[tuple[float, float, str]]) -> _dashboard.Series:
    kept = _finite_positive(points)
    name = case.initializer.label + ("" if kept else " (all 0: no line)")
    sound = case.initializer.sound
    return _dashboard.Series(name, _color(case.initializer.name), kept, dash="" if sound else "6 3",
                             marker="circle" if sound else "square", width=2.2 if sound else 1.6)


def _layer_ticks(n: int) -> list[tuple[float, str]]:
    step = max(1, math.ceil(n / 12))
    return [(float(k), str(k)) for k in range(1, n + 1, step)]


def _std_chart(cases: Sequence[Case], act: str) -> str:
    series = [_series(c, [(float(k), s.std, f"{c.initializer.label}, layer {k}: std {s.std:.3g}, mean {s.mean:.3g}")
                          for k, s in enumerate(c.layers, 1)]) for c in cases]
    return _dashboard.line_chart(f"{act}: activation std per layer", f"Standard deviation of the {act} "
                                 "activations of each layer, one line per initializer.", series, "layer",
                                 "std of activations (log scale)", _layer_ticks(len(cases[0].layers)),
                                 log_x=False, chart_id=f"{act}-std")


def _grad_chart(cases: Sequence[Case], act: str) -> str:
    series = [_series(c, [(float(k), s.grad_norm, f"{c.initializer.label}, layer {k}: |dL/dW| {s.grad_norm:.3g}")
                          for k, s in enumerate(c.layers, 1)]) for c in cases]
    return _dashboard.line_chart(f"{act}: weight-gradient norm per layer", "Frobenius norm of each layer's "
                                 "weight gradient, for a random upstream gradient.", series, "layer",
                                 "‖dL/dW‖ (log scale)", _layer_ticks(len(cases[0].layers)), log_x=False,
                                 chart_id=f"{act}-grad")


def _loss_chart(cases: Sequence[Case], act: str) -> str:
    trained = [c for c in cases if c.training is not None]
    steps = max(len(c.training.losses) for c in trained) - 1  # type: ignore[union-attr]
    stride = max(1, math.ceil((steps + 1) / 120))  # at most ~120 points a line
    series = []
    for c in trained:
        losses = c.training.losses  # type: ignore[union-attr]
        picked = sorted(set(range(0, len(losses), stride)) | {len(losses) - 1})
        series.append(_series(c, [(float(i), losses[i], f"{c.initializer.label}, step {i}: loss {losses[i]:.4g}")
                                  for i in picked]))
    ticks = [(float(round(steps * q)), str(round(steps * q))) for q in (0, 0.25, 0.5, 0.75, 1)]
    return _dashboard.line_chart(f"{act}: training loss", "Binary cross-entropy on the training set at each "
                                 "step, one line per initializer.", series, "step", "loss (log scale)",
                                 sorted(set(ticks)), log_x=False, chart_id=f"{act}-loss")


def _histograms(cases: Sequence[Case], act: str) -> str:
    """One row per initializer, one small histogram per layer (bar heights scaled per panel)."""
    n = len(cases[0].layers)
    label_w, panel_h, gap, width = 130, 46, 4, 900
    panel_w = (width - label_w) / n
    height = 22 + len(cases) * (panel_h + 12)
    e = html.escape
    lo, hi = cases[0].layers[0].hist_range
    out = [f'<svg class="chart hist" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{act}-h-t">',
           f'<title id="{act}-h-t">{e(act)}: histograms of every layer\'s activations per initializer</title>']
    for k in range(n):
        x = label_w + k * panel_w + panel_w / 2
        out.append(f'<text x="{x:.1f}" y="14" class="tick" text-anchor="middle">L{k + 1}</text>')
    for row, c in enumerate(cases):
        top = 22 + row * (panel_h + 12)
        out.append(f'<text x="{label_w - 8}" y="{top + panel_h / 2 + 4:.1f}" class="legend" '
                   f'text-anchor="end">{e(c.initializer.label)}</text>')
        for k, s in enumerate(c.layers):
            left = label_w + k * panel_w
            inner = panel_w - gap
            tip = (f"{c.initializer.label}, layer {k + 1}: mean {s.mean:.3g}, std {s.std:.3g}, "
                   f"saturated/dead {100 * s.saturated:.0f}%" + (f", zeros {100 * s.zeros:.0f}%" if act == "relu" else "")
                   + f"; x from {s.hist_range[0]:.3g} to {s.hist_range[1]:.3g}")
            out.append(f'<g><title>{e(tip)}</title><rect x="{left:.1f}" y="{top}" width="{inner:.1f}" '
                       f'height="{panel_h}" class="plot"/>')
            counts = np.asarray(s.hist, dtype=float)
            peak = counts.max()
            if peak > 0:
                bar_w = inner / len(counts)
                d = []
                for i, count in enumerate(counts):
                    if count > 0:
                        bh = max(0.6, (panel_h - 2) * count / peak)
                        d.append(f"M{left + i * bar_w:.1f} {top + panel_h:.1f}h{bar_w:.2f}v{-bh:.1f}h{-bar_w:.2f}z")
                out.append(f'<path d="{"".join(d)}" fill="{_color(c.initializer.name)}"/>')
            out.append("</g>")
    out.append("</svg>")
    span = (f"x from {lo:g} to {hi:g} in every panel" if act != "relu" else
            "x from 0 to 3× the largest layer std of that initializer (so growth and decay show along a row; "
            "the range is in the tooltip), exact zeros left out (their share is in the tooltip too), larger "
            "values in the last bar")
    empty = " An empty panel: every value is 0." if act == "relu" else ""
    return ("\n".join(out) + f'<p class="note">Each panel: {HIST_BINS} equal bins, {e(span)}; bar heights '
            f"are scaled to the tallest bar of the panel.{empty}</p>")


def _blend(p: float) -> str:
    """Colour of P(class 1) = p: white at 0.5, towards the class colour with |p - 0.5|."""
    target = _CLASS_COLORS[1] if p >= 0.5 else _CLASS_COLORS[0]
    t = 0.15 + 0.7 * min(1.0, abs(p - 0.5) * 2)
    r, g, b = (round(255 + (c - 255) * t) for c in target)
    return f"#{r:02x}{g:02x}{b:02x}"


def _boundary(case: Case, panel_id: str) -> str:
    t = case.training
    assert t is not None
    size, pad = 168, 2
    grid = t.boundary
    cells = grid.shape[0]
    cell = (size - 2 * pad) / cells
    levels: dict[str, list[str]] = {}
    probs = np.nan_to_num(grid, nan=0.5)
    for r in range(cells):
        for col in range(cells):
            level = round(float(probs[r, col]) * 10) / 10  # 11 shades
            levels.setdefault(_blend(level), []).append(
                f"M{pad + col * cell:.1f} {pad + r * cell:.1f}h{cell:.2f}v{cell:.2f}h{-cell:.2f}z")
    lo, hi = t.extent
    e = html.escape
    out = [f'<svg class="boundary" viewBox="0 0 {size} {size}" role="img" aria-labelledby="{panel_id}-t">',
           f'<title id="{panel_id}-t">{e(case.activation.name)}, {e(case.initializer.label)}: decision boundary, '
           f'test accuracy {100 * t.accuracy:.1f}%</title>']
    out += [f'<path d="{"".join(d)}" fill="{color}"/>' for color, d in sorted(levels.items())]
    scale = (size - 2 * pad) / (hi - lo)
    for label in (0, 1):
        pts = t.points[t.labels == label]
        fill = "#%02x%02x%02x" % tuple(int(c * 0.75) for c in _CLASS_COLORS[label])
        circles = "".join(f'<circle cx="{pad + (x - lo) * scale:.1f}" cy="{pad + (hi - y) * scale:.1f}" r="1.7"/>'
                          for x, y in pts)
        out.append(f'<g fill="{fill}" stroke="#fff" stroke-width="0.4">{circles}</g>')
    out.append(f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" fill="none" '
               f'stroke="#b9c0c9"/></svg>')
    verdict = "diverged" if t.diverged else f"test acc. {100 * t.accuracy:.1f}%"
    return (f'<figure class="db">{"".join(out)}<figcaption><b>{e(case.initializer.label)}</b><br>{e(verdict)}'
            f'{" · units identical" if t.symmetric else ""}</figcaption></figure>')


def _table_html(cases: Sequence[Case]) -> str:
    lines = table(cases).splitlines()
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    e = html.escape
    out = ['<div class="scroll"><table class="data"><thead><tr>']
    out += [f'<th scope="col">{e(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        cells = (f"<td>{e(v)}</td>" if i < 2 else f'<td class="num">{e(v)}</td>' for i, v in enumerate(r))
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


_CSS = _dashboard._CSS + """
.charts3 { display: grid; grid-template-columns: repeat(auto-fill, minmax(430px, 1fr)); gap: 12px; }
svg.hist { max-width: 1100px; }
.dbs { display: flex; flex-wrap: wrap; gap: 10px; }
figure.db { padding: 5px; width: 120px; }
figure.db svg { width: 120px; height: 120px; display: block; }
figure.db figcaption { font-size: 12px; line-height: 1.3; margin-top: 4px; }
"""


def render(cases: Sequence[Case], config: Config) -> str:
    """The whole page."""
    if not cases:
        raise ValueError("no demo cases to show")
    e = html.escape
    acts = list(dict.fromkeys(c.activation.name for c in cases))
    nav = "".join(f'<a href="#{a}">{a}</a>' for a in acts) + '<a href="#table">all numbers</a>'
    sections = []
    for act in acts:
        mine = [c for c in cases if c.activation.name == act]
        charts = [_std_chart(mine, act), _grad_chart(mine, act)]
        if any(c.training is not None for c in mine):
            charts.append(_loss_chart(mine, act))
        parts = [f'<h2 id="{act}">{act}</h2>',
                 '<div class="charts3">' + "".join(f"<figure>{c}</figure>" for c in charts) + "</div>",
                 f"<h3>Activation histograms, layer by layer ({act})</h3>",
                 f"<figure>{_histograms(mine, act)}</figure>"]
        if all(c.training is not None for c in mine):
            parts.append(f"<h3>Decision boundary after training ({act})</h3>")
            parts.append('<div class="dbs">' + "".join(_boundary(c, f"{act}-db{i}") for i, c in enumerate(mine))
                         + "</div>")
        sections.append("\n".join(parts))
    inits = list(dict.fromkeys(c.initializer.name for c in cases))
    formulas = "; ".join(f"<b>{e(c.initializer.label)}</b>: {e(c.initializer.formula)}"
                         for c in [next(x for x in cases if x.initializer.name == i) for i in inits])
    body = f"""
<main>
<h1>Why initialization matters</h1>
<p class="lead">A deep fully connected network in NumPy, its weights filled by fastinit. Zeros or a
constant never break the symmetry between the units of a layer; random weights that are too small make
the activations and gradients shrink layer after layer; too large, and they blow up (ReLU) or saturate
(tanh, sigmoid). Glorot/Xavier keeps the variance steady for tanh, He/Kaiming for ReLU.</p>
<p class="note">{e(legend(config))}</p>
<p class="note">Initializers (W stored as (fan_in, fan_out), biases 0): {formulas}. Dashed lines and open
squares: the cautionary initializers; solid lines: the variance-scaling ones. A line missing from a log
chart is all zeros. Hover a point for its value.</p>
<nav aria-label="sections">{nav}</nav>
{"".join(sections)}
<h2 id="table">All numbers</h2>
{_table_html(cases)}
<p class="note">Made by <code>python -m fastinit demo</code>; docs/demo.md explains every plot.</p>
</main>"""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>fastinit demo: why initialization matters</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>{body}\n</body>\n</html>\n")
