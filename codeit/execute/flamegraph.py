"""The picture of a profile: a flame graph (SVG), alone or in a self-contained HTML page.

The tree is :func:`codeit.execute.profiling.flame_tree`'s: the root (all runs) at the bottom, its
outcomes above it, then what the lines call, then the programs. A frame's width is its share of
the root's time; hovering it shows its name, time, share and runs. Frames narrower than half a
pixel are left out of the SVG file; the HTML page holds them all, and a click on a frame zooms into
it (a short inline script). Colours follow the outcome (green ok, red timeout, orange and yellow
errors, purple limits, blue bad output), shaded by a checksum of the frame's name so that
neighbours differ the same way every time.
"""

from __future__ import annotations

import zlib
from html import escape
from pathlib import Path

ROW = 18
"""Height of one frame row, pixels."""
CHAR_PX = 6.6
"""Rough width of one character of the 11 px monospace label font."""

HUES = {"ok": 120, "timeout": 0, "step limit": 275, "size limit": 300, "type error": 28, "runtime error": 48,
        "bad output": 205}


def _layout(tree: dict) -> list[tuple[int, float, float, dict, str]]:
    """(depth, left, width, node, outcome) of every frame; left and width as shares of the root."""
    total = tree["ns"]
    frames: list[tuple[int, float, float, dict, str]] = []
    if total <= 0:
        return frames

    def visit(node: dict, depth: int, left: float, outcome: str) -> None:
        width = node["ns"] / total
        frames.append((depth, left, width, node, outcome))
        x = left
        for child in node["children"]:
            visit(child, depth + 1, x, child["name"] if depth == 0 else outcome)
            x += child["ns"] / total

    visit(tree, 0, 0.0, "")
    return frames


def _colour(name: str, outcome: str) -> str:
    shade = zlib.crc32(name.encode()) % 1000 / 1000.0
    if outcome not in HUES:
        return f"hsl(0, 0%, {70 + 10 * shade:.0f}%)"
    return f"hsl({HUES[outcome]}, {55 + 20 * shade:.0f}%, {62 + 14 * shade:.0f}%)"


def _ms(ns: float) -> str:
    return f"{ns / 1e6:,.2f} ms"


def flame_svg(tree: dict, title: str, notes: list[str] = (), width: int = 1200, zoomable: bool = False) -> str:
    """The flame graph of ``tree`` as SVG text; ``notes``: lines printed under the title.
    ``zoomable``: every frame is drawn (a hidden one too narrow for now) with its place in
    ``data-`` attributes, for :data:`ZOOM_SCRIPT` to lay out again when a frame is clicked."""
    frames = [f for f in _layout(tree) if zoomable or f[2] * width >= 0.5]
    depth = max((f[0] for f in frames), default=0) + 1
    head = 24 + 16 * len(notes) + 8
    height = head + depth * ROW + 8
    total = tree["ns"]
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11"'
            + (' class="flame">' if zoomable else ">")),
           '<rect width="100%" height="100%" fill="#fbfbf8"/>',
           f'<text x="6" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    for k, note in enumerate(notes):
        out.append(f'<text x="6" y="{38 + 16 * k}" fill="#333">{escape(note)}</text>')
    for d, left, w, node, outcome in frames:
        x, px = left * width, w * width
        y = head + (depth - 1 - d) * ROW
        share = node["ns"] / total if total > 0 else 0.0
        tip = f'{node["name"]}: {_ms(node["ns"])}, {share:.1%} of all run time'
        if "runs" in node:
            tip += f', {node["runs"]} runs'
        if outcome and d > 1:
            tip += f" (in {outcome} runs)"
        place = ""
        if zoomable:
            hidden = ' style="display:none"' if px < 0.5 else ""
            place = f' data-l="{left!r}" data-w="{w!r}" data-d="{d}" data-n="{escape(node["name"])}"{hidden}'
        out.append(f'<g{place}><title>{escape(tip)}</title>'
                   f'<rect x="{x:.2f}" y="{y}" width="{max(px - 0.6, 0.3):.2f}" height="{ROW - 1}" rx="2" '
                   f'fill="{_colour(node["name"], outcome)}"/>')
        room = int((px - 6) / CHAR_PX)
        label = node["name"] if len(node["name"]) <= room else node["name"][: room - 2] + ".."
        if room >= 3 or zoomable:
            out.append(f'<text x="{x + 3:.2f}" y="{y + ROW - 5}">{escape(label if room >= 3 else "")}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


ZOOM_SCRIPT = """
(function () {
  // Click a frame: it fills the width, its ancestors stay (full width), everything beside it hides.
  // Click the root (or a frame already zoomed into) to go back. Data only, no page beyond this one.
  var svg = document.querySelector("svg.flame");
  if (!svg) return;
  var W = +svg.getAttribute("width"), CHAR = @CHAR@, frames = svg.querySelectorAll("g[data-w]");
  function zoom(l, w, d) {
    for (var i = 0; i < frames.length; i++) {
      var g = frames[i], gl = +g.dataset.l, gw = +g.dataset.w, gd = +g.dataset.d, x, px, show;
      if (gd < d) { show = gl <= l + 1e-12 && gl + gw >= l + w - 1e-12; x = 0; px = W; }
      else { x = (gl - l) / w * W; px = gw / w * W; show = gl >= l - 1e-12 && gl + gw <= l + w + 1e-12 && px >= 0.5; }
      g.style.display = show ? "" : "none";
      if (!show) continue;
      var rect = g.querySelector("rect"), text = g.querySelector("text"), name = g.dataset.n;
      rect.setAttribute("x", x.toFixed(2));
      rect.setAttribute("width", Math.max(px - 0.6, 0.3).toFixed(2));
      var room = Math.floor((px - 6) / CHAR);
      text.setAttribute("x", (x + 3).toFixed(2));
      text.textContent = room < 3 ? "" : (name.length <= room ? name : name.slice(0, room - 2) + "..");
    }
  }
  var current = null;
  for (var i = 0; i < frames.length; i++) {
    frames[i].style.cursor = "pointer";
    frames[i].addEventListener("click", function () {
      var g = this, d = +g.dataset.d;
      if (d === 0 || g === current) { current = null; zoom(0, 1, 0); }
      else { current = g; zoom(+g.dataset.l, +g.dataset.w, d); }
    });
  }
})();
""".replace("@CHAR@", str(CHAR_PX))


def _notes(summary: dict) -> list[str]:
    w, nat = summary["workload"], summary["native"]
    lines = [(f'{w["description"]}; {w["runs"]} runs, {nat["run_ns"] / 1e6:,.1f} ms of run time '
              f'({nat["threads"]} thread(s), {"fastest" if nat.get("job_time") == "min" else "mean"} '
              f'of {nat["reps"]} repetition(s))')]
    shares = [f'{o["outcome"]} {o["time_share"]:.1%}' for o in summary["outcomes"] if o["runs"]]
    lines.append("time by outcome: " + ", ".join(shares))
    top = summary["primitives"][:6]
    if top:
        lines.append(f'top primitives (inclusive, mean of {nat["reps"]}): ' +
                     ", ".join(f'{p["name"]} {_ms(p["ns"])}' for p in top))
    lines.append("bottom to top: all runs, outcome, what each line calls, program; width = wall time")
    return lines


def write_svg(path: str | Path, summary: dict) -> Path:
    """The flame graph of a :func:`codeit.execute.profiling.summarize` result, as an SVG file."""
    path = Path(path)
    path.write_text(flame_svg(summary["flame"], "codeit profile: flame graph", _notes(summary)), encoding="utf-8")
    return path


def _bars(rows: list[dict]) -> str:
    top = max((r["runs"] for r in rows), default=0) or 1
    total = sum(r["runs"] for r in rows) or 1
    cells = "".join(
        f'<tr><td>{escape(r["bin"])}</td><td class="n">{r["runs"]}</td><td class="n">{r["runs"] / total:.1%}</td>'
        f'<td><div class="bar" style="width:{300 * r["runs"] / top:.1f}px"></div></td></tr>' for r in rows)
    return f'<table><tr><th>bin</th><th>runs</th><th>share</th><th></th></tr>{cells}</table>'


def write_html(path: str | Path, summary: dict, top_primitives: int = 40) -> Path:
    """A self-contained HTML page (no outside files): the flame graph, zoomable by a click, the
    outcome table, the histograms and the primitive table."""
    path = Path(path)
    outcome_rows = "".join(
        f'<tr><td>{escape(o["outcome"])}</td><td class="n">{o["runs"]}</td><td class="n">{o["run_share"]:.1%}</td>'
        f'<td class="n">{o["ns"] / 1e6:,.2f}</td><td class="n">{o["time_share"]:.1%}</td>'
        f'<td class="n">{o["mean_us"]:,.1f}</td></tr>' for o in summary["outcomes"] if o["runs"])
    prim_rows = "".join(
        f'<tr><td>{escape(p["name"])}</td><td class="n">{p["calls"]:,.0f}</td><td class="n">{p["ns"] / 1e6:,.2f}</td>'
        f'<td class="n">{p["ns"] / max(p["calls"], 1):,.0f}</td><td>'
        + escape(", ".join(f'{k} {v["ns"] / 1e6:,.2f} ms' for k, v in p["by_outcome"].items())) + "</td></tr>"
        for p in summary["primitives"][:top_primitives])
    h = summary["histograms"]
    failed = summary["failed"]
    graph = flame_svg(summary["flame"], "flame graph (click a frame to zoom in, the root to zoom out)",
                      _notes(summary), zoomable=True)
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>codeit profile</title>
<style>
body {{ font-family: sans-serif; margin: 16px; color: #222; }}
table {{ border-collapse: collapse; margin: 6px 0 18px; }}
td, th {{ padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; font-size: 13px; }}
td.n {{ text-align: right; font-family: monospace; }}
.bar {{ height: 10px; background: #6a8fc7; }}
.row {{ display: flex; gap: 40px; flex-wrap: wrap; }}
svg g:hover rect {{ stroke: #000; stroke-width: 0.8; }}
</style></head><body>
<h1>codeit profile</h1>
<p>{escape(summary["workload"]["description"])}: {summary["workload"]["runs"]} runs;
{summary["native"]["run_ns"] / 1e6:,.1f} ms of run time, {failed["time_share"]:.1%} of it in the
{failed["runs"]} runs that did not end OK (timeout, limit, error, bad output).
Native interpreter, {summary["native"]["threads"]} thread(s), {summary["native"]["reps"]} repetition(s): run and
line times {"each run's fastest" if summary["native"].get("job_time") == "min" else "means"}, primitive times means.</p>
{graph}
<script>{ZOOM_SCRIPT}</script>
<h2>Outcomes</h2>
<table><tr><th>outcome</th><th>runs</th><th>share of runs</th><th>time ms</th><th>share of time</th>
<th>mean us</th></tr>{outcome_rows}</table>
<div class="row">
<div><h2>Run time</h2>{_bars(h["run_time"])}</div>
<div><h2>Output grid cells (OK runs)</h2>{_bars(h["output_cells"])}</div>
<div><h2>Output value size (finished runs)</h2>{_bars(h["output_value_size"])}</div>
</div>
<h2>Primitives</h2>
<p>Inclusive time: a higher-order primitive's time holds the calls it makes; a call that fails is not timed.</p>
<table><tr><th>primitive</th><th>calls</th><th>ms</th><th>ns/call</th><th>by outcome</th></tr>{prim_rows}</table>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
