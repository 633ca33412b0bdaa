"""codeit profile on small workloads: outcomes, shares, histograms and the flame graph add up, the
profiled native run agrees with the plain one, and each workload (.dsl files, a run's store, a
mutant set) is built as documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from codeit.dsl.program import parse, print_program

from codeit.cli import main
from codeit.execute import profiling
from codeit.execute.limits import Limits
from codeit.execute.native import NativeInterpreter
from codeit.seeds import load_seeds
from codeit.tasks import load_tasks

TASK = "67a3c6ac"  # O = vmirror(I) solves it

# One program per outcome the test can bring about quickly (a timeout would need a slow run).
PROGRAMS = {
    "ok": "O = vmirror(I)",
    "hof": "x1 = rbind(argmax, size)\nx2 = objects(I, T, F, F)\nx3 = x1(x2)\nO = subgrid(x3, I)",
    "steps": "x1 = multiply(TEN, TEN)\nx2 = multiply(x1, TEN)\nx3 = power(vmirror, x2)\nO = x3(I)",
    "type": "x1 = first(I)\nO = increment(x1)",
    "runtime": "x1 = divide(ONE, ZERO)\nO = vmirror(I)",
    "bad": "O = width(I)",
}
EXPECTED = {"ok": "ok", "hof": "ok", "steps": "step limit", "type": "type error", "runtime": "runtime error",
            "bad": "bad output"}


@pytest.fixture(scope="module")
def training():
    return {t.id: t for t in load_tasks("arc1/training")}


def write_programs(folder: Path, programs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in programs.items():
        (folder / f"{name}.dsl").write_text(text + "\n")
    return folder


def frames(node: dict, depth: int = 0):
    yield depth, node
    for child in node["children"]:
        yield from frames(child, depth + 1)


def test_profile_report_adds_up(tmp_path, training, capsys):
    folder = write_programs(tmp_path / "progs", PROGRAMS)
    pairs = len(training[TASK].pairs)
    out_json, out_svg, out_html = tmp_path / "p.json", tmp_path / "p.svg", tmp_path / "p.html"
    assert main(["profile", str(folder), "--task", TASK, "--max-steps", "1000", "--reps", "2",
                 "--json", str(out_json), "--svg", str(out_svg), "--html", str(out_html)]) == 0
    text = capsys.readouterr().out
    s = json.loads(out_json.read_text())
    n = len(PROGRAMS) * pairs
    assert s["workload"]["runs"] == n and s["workload"]["programs"] == len(PROGRAMS)
    assert f"corpus: {len(PROGRAMS)} programs, {n} runs" in text

    # Outcomes: each program's runs land where it was written to end, and everything sums.
    runs = {o["outcome"]: o["runs"] for o in s["outcomes"]}
    want: dict[str, int] = {}
    for outcome in EXPECTED.values():
        want[outcome] = want.get(outcome, 0) + pairs
    assert {k: v for k, v in runs.items() if v} == want
    assert sum(runs.values()) == n
    assert sum(o["run_share"] for o in s["outcomes"]) == pytest.approx(1.0)
    assert sum(o["time_share"] for o in s["outcomes"]) == pytest.approx(1.0)
    assert sum(o["ns"] for o in s["outcomes"]) == pytest.approx(s["native"]["run_ns"])
    failed = [o for o in s["outcomes"] if o["outcome"] != "ok"]
    assert s["failed"]["runs"] == sum(o["runs"] for o in failed) == n - want["ok"]
    assert s["failed"]["time_share"] == pytest.approx(sum(o["time_share"] for o in failed))
    for o in s["outcomes"]:
        if o["runs"]:
            assert f"\n{o['outcome']:<15s}{o['runs']:9d}" in text

    # Histograms: every run has a time; OK runs have a grid; finished runs (OK, bad output) a size.
    h = s["histograms"]
    assert sum(b["runs"] for b in h["run_time"]) == n
    assert sum(b["runs"] for b in h["output_cells"]) == want["ok"]
    assert sum(b["runs"] for b in h["output_value_size"]) == want["ok"] + want["bad output"]
    # width(I) is an int: value size 1, the first bin.
    assert h["output_value_size"][0]["runs"] >= want["bad output"]

    # Primitives: calls are counted per outcome too; failed calls are counted, not timed.
    prims = {p["name"]: p for p in s["primitives"]}
    # vmirror: once per ok run; in the step-limit runs as often as the budget of 1000 allows after
    # the three steps before it (multiply, multiply, power); never after divide's failure.
    assert set(prims["vmirror"]["by_outcome"]) == {"ok", "step limit"}
    assert prims["vmirror"]["by_outcome"]["ok"]["calls"] == pairs
    assert prims["vmirror"]["by_outcome"]["step limit"]["calls"] == (1000 - 3) * pairs
    assert prims["vmirror"]["calls"] == pairs + (1000 - 3) * pairs
    assert prims["divide"]["calls"] == pairs and prims["divide"]["ns"] == 0
    for p in s["primitives"]:
        assert sum(v["calls"] for v in p["by_outcome"].values()) == pytest.approx(p["calls"])
        assert sum(v["ns"] for v in p["by_outcome"].values()) == pytest.approx(p["ns"])

    # The flame tree: the root is all run time, outcomes are its children, no child outgrows
    # its parent, and the lines' callees are there (a function value's call named by its builder).
    root = s["flame"]
    assert root["ns"] == pytest.approx(s["native"]["run_ns"])
    assert {c["name"]: c["runs"] for c in root["children"]} == want
    for _, node in frames(root):
        assert node["ns"] >= 0
        assert sum(c["ns"] for c in node["children"]) <= node["ns"] * (1 + 1e-9) + 1e-6
    ok = next(c for c in root["children"] if c["name"] == "ok")
    assert {"vmirror", "objects", "call of rbind", "subgrid", "rbind"} <= {c["name"] for c in ok["children"]}
    steps = next(c for c in root["children"] if c["name"] == "step limit")
    top = max(steps["children"], key=lambda c: c["ns"])
    assert top["name"] == "call of power" and top["children"][0]["name"] == "steps.dsl"

    # The pictures: an SVG with a frame per node wide enough, titles to hover, the top primitive
    # named; the HTML page holds the same SVG and the tables.
    svg = out_svg.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    top_prim = s["primitives"][0]["name"]
    assert f"top primitives (inclusive, mean of 2): {top_prim} " in svg
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    assert any(t.startswith("call of power: ") and "in step limit runs" in t for t in titles)
    assert any(t.startswith("all runs: ") and f"{n} runs" in t for t in titles)
    html = out_html.read_text()
    assert "<svg" in html and f"<td>{top_prim}</td>" in html
    assert "src=" not in html and "href=" not in html  # nothing to fetch: opens offline
    # Every frame of the tree is in the page (the SVG file leaves out those under half a pixel),
    # each with its place for the zoom script.
    n_frames = sum(1 for _ in frames(root))
    assert html.count("<g data-l=") == n_frames >= svg.count("<g>")
    assert "<script>" in html and 'class="flame"' in html


def test_profiled_runs_match_plain_runs(training):
    """The profiled batch times each line in its own runner: it must run exactly as run_program."""
    seeds = load_seeds()[:60]
    mutants = profiling.mutant_workload(300, 3, seeds, training)
    w = profiling.files_workload([s.path for s in seeds], list(training.values()))
    interp = NativeInterpreter(threads=2, limits=Limits(time_limit=5.0))
    for workload in (w, mutants):
        plain = interp.run_batch(workload.programs, workload.grids, workload.jobs)
        prof = interp.run_batch(workload.programs, workload.grids, workload.jobs, profile=True)
        for field in ("status", "steps", "error_line", "shapes", "outputs"):
            assert np.array_equal(getattr(plain, field), getattr(prof, field)), field
        lengths = np.array([len(workload.programs[p].lines) for p in workload.jobs[:, 0]])
        assert prof.line_nanos.shape == (len(workload.jobs), lengths.max())
        cols = np.arange(prof.line_nanos.shape[1])[None, :]
        assert (prof.line_nanos[cols >= lengths[:, None]] == 0).all()
        failed = prof.status != 0
        failed &= prof.status != 6
        after = cols > prof.error_line[:, None]
        assert (prof.line_nanos[failed[:, None] & after] == 0).all()
        assert (prof.line_nanos.sum(1) <= prof.job_nanos).all()
        assert (prof.job_nanos > 0).all()
        ok = prof.status == 0
        h, wd = prof.shapes[ok, 0].astype(np.int64), prof.shapes[ok, 1]
        assert np.array_equal(prof.output_size[ok], 1 + h * (1 + wd))
        assert (prof.output_size[~ok & (prof.status != 6)] == -1).all()
        assert np.array_equal(prof.prim_calls_by_status.sum(0), prof.prim_calls)
        assert np.array_equal(prof.prim_nanos_by_status.sum(0), prof.prim_nanos)
        for s in range(7):  # a status without runs made no calls
            if not (prof.status == s).any():
                assert prof.prim_calls_by_status[s].sum() == 0
    assert (mutants.jobs.shape[0] > 0) and len({print_program(p) for p in mutants.programs}) == 300


def test_mutant_workload_is_deterministic(training):
    seeds = load_seeds()[:40]
    a = profiling.mutant_workload(25, 7, seeds, training)
    b = profiling.mutant_workload(25, 7, seeds, training)
    c = profiling.mutant_workload(25, 8, seeds, training)
    texts = [print_program(p) for p in a.programs]
    assert texts == [print_program(p) for p in b.programs] and a.names == b.names
    assert texts != [print_program(p) for p in c.programs]
    assert len(set(texts)) == 25 and not set(texts) & {print_program(s.program) for s in seeds}
    # Each mutant runs on every input of its seed's task.
    per_program = np.bincount(a.jobs[:, 0], minlength=25)
    for k, name in enumerate(a.names):
        task = training[name.split()[0]]
        assert per_program[k] == len(task.pairs)
        for g in a.jobs[a.jobs[:, 0] == k, 1]:
            assert any(np.array_equal(a.grids[g], p.input) for p in task.pairs)


def test_profile_a_run_folder(tmp_path, training, capsys):
    from codeit.buffer.store import Experience, ExperienceStore

    t1, t2 = training[TASK], training["68b16354"]
    rows = [
        Experience(TASK, "seed", "O = vmirror(I)\n", [p.input for p in t1.pairs], [p.input for p in t1.pairs]),
        Experience(TASK, "policy", "O = hmirror(I)\n", [p.input for p in t1.pairs], [p.input for p in t1.pairs]),
        Experience(t2.id, "policy", "O = hmirror(I)\n", [p.input for p in t2.train], [p.input for p in t2.train]),
        Experience(t2.id, "mutation", "x1 = rot90(I)\nO = hmirror(x1)\n", [p.input for p in t2.train],
                   [p.input for p in t2.train]),
    ]
    run = tmp_path / "run"
    run.mkdir()
    with ExperienceStore(run / "experience.db") as store:
        store.add_experiences(rows)
    out = tmp_path / "r.json"
    assert main(["profile", "--run", str(run), "--json", str(out), "--svg", str(tmp_path / "r.svg")]) == 0
    text = capsys.readouterr().out
    s = json.loads(out.read_text())
    n = 2 * len(t1.pairs) + 2 * len(t2.train)
    assert s["workload"]["programs"] == 4 and s["workload"]["runs"] == n
    assert s["workload"]["origins"] == {"seed": 1, "policy": 2, "mutation": 1}
    assert s["outcomes"][0]["runs"] == n and "reference:" not in text  # no reference by default
    prims = {p["name"]: p["calls"] for p in s["primitives"]}
    assert prims == {"vmirror": len(t1.pairs), "hmirror": len(t1.pairs) + 2 * len(t2.train), "rot90": len(t2.train)}

    assert main(["profile", "--run", str(run), "--origin", "policy", "--json", str(out)]) == 0
    s = json.loads(out.read_text())
    assert s["workload"]["programs"] == 2 and s["workload"]["runs"] == len(t1.pairs) + len(t2.train)
    assert main(["profile", "--run", str(run), "--limit", "1", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["workload"]["programs"] == 1

    capsys.readouterr()
    assert main(["profile", "--run", str(tmp_path / "nowhere")]) == 2
    assert "no experience.db" in capsys.readouterr().err
    assert main(["profile", "--run", str(run), "--origin", "sampled"]) == 2
    assert "'sampled' is not one of" in capsys.readouterr().err


def test_profile_a_runs_sampled_programs(tmp_path, training, capsys):
    from codeit.run.config import make_config, save_config
    from codeit.run.samples import write_samples

    run = tmp_path / "run"
    run.mkdir()
    save_config(make_config("tiny", {"search_set": "arc1/training"}), run / "config.yaml")
    t1, t2 = training[TASK], training["68b16354"]
    # What a policy writes: a solution, a type error, a text that does not parse, a bad output.
    type_error = "x1 = first(I)\nx2 = first(x1)\nO = hmirror(x2)"
    write_samples(run, 1, 0, [t1, t2], [["O = vmirror(I)", type_error], ["O = (", "O = size(I)"]])
    write_samples(run, 2, 0, [t1], [["O = hmirror(I)"]])
    out = tmp_path / "s.json"
    assert main(["profile", "--run", str(run), "--sampled", "--json", str(out)]) == 0
    s = json.loads(out.read_text())
    assert s["workload"]["programs"] == 4 and s["workload"]["unparsed"] == 1 and s["workload"]["sampled"] == 5
    assert s["workload"]["runs"] == 3 * len(t1.pairs) + len(t2.pairs)
    runs = {o["outcome"]: o["runs"] for o in s["outcomes"]}
    assert runs["ok"] == 2 * len(t1.pairs)
    assert runs["type error"] == len(t1.pairs) and runs["bad output"] == len(t2.pairs)

    assert main(["profile", "--run", str(run), "--sampled", "--limit", "2", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["workload"]["programs"] == 2
    capsys.readouterr()
    (run / "samples").rename(run / "elsewhere")
    assert main(["profile", "--run", str(run), "--sampled"]) == 2
    assert "no sampled programs" in capsys.readouterr().err
    assert main(["profile", "--sampled"]) == 2
    assert "give --run DIR" in capsys.readouterr().err


def test_profile_takes_one_workload(tmp_path, capsys):
    folder = write_programs(tmp_path / "progs", {TASK: "O = vmirror(I)"})
    assert main(["profile", str(folder), "--mutants", "3"]) == 2
    assert "one workload at a time" in capsys.readouterr().err


def test_profile_mutants_command(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["profile", "--mutants", "20", "--seed", "1", "--json", str(out), "--html",
                 str(tmp_path / "m.html")]) == 0
    s = json.loads(out.read_text())
    assert s["workload"]["programs"] == 20
    assert sum(o["runs"] for o in s["outcomes"]) == s["workload"]["runs"]
    assert (tmp_path / "m.html").read_text().count("<svg") == 1
    assert "mean of 1 repetitions" in capsys.readouterr().out


def test_a_timeout_is_timed_to_its_line(training):
    """A run stopped by its deadline: its time, and the time of the line it was stopped in, reach
    the time limit; the lines before it are short, and its summary counts it as a timeout."""
    slow = parse("x1 = multiply(TEN, TEN)\nx2 = multiply(x1, x1)\nx3 = multiply(x2, x2)\n"
                 "x4 = power(vmirror, x3)\nO = x4(I)")  # 10**8 mirrors: far past 20 ms
    quick = parse("O = vmirror(I)")
    grid = training[TASK].train[0].input
    w = profiling.Workload("two", [slow, quick], ["slow", "quick"], [grid],
                           np.array([[0, 0], [1, 0]], dtype=np.int32))
    interp = NativeInterpreter(threads=1, limits=Limits(time_limit=0.02, max_steps=10**12))
    data = profiling.profile_workload(w, interp, reps=1)
    assert data.status.tolist() == [1, 0]
    assert data.line_ns[0, 4] >= 0.02e9 and data.line_ns[0, :4].max() < 0.02e9
    assert data.job_ns[0] >= data.line_ns[0].sum()
    s = profiling.summarize(w, data)
    timeout = next(o for o in s["outcomes"] if o["outcome"] == "timeout")
    assert timeout["runs"] == 1 and timeout["time_share"] > 0.9 and s["failed"]["runs"] == 1
    node = next(c for c in s["flame"]["children"] if c["name"] == "timeout")
    assert node["children"][0]["name"] == "call of power" and node["children"][0]["children"][0]["name"] == "slow"
    assert sum(b["runs"] for b in s["histograms"]["run_time"] if b["from"] >= 0.01e9) == 1  # 10 ms and up


def test_repetitions_keep_each_runs_fastest_or_mean(training):
    seeds = load_seeds()[:30]
    w = profiling.files_workload([s.path for s in seeds], list(training.values()))
    interp = NativeInterpreter(threads=1)
    fast = profiling.profile_workload(w, interp, reps=3, job_time="min")
    mean = profiling.profile_workload(w, interp, reps=3, job_time="mean")
    for d in (fast, mean):
        assert d.reps == 3 and (d.job_ns > 0).all()
        assert (d.line_ns.sum(1) <= d.job_ns * (1 + 1e-9)).all()  # lines of the same repetition(s)
        assert np.array_equal(d.prim_calls, mean.prim_calls)  # counts do not depend on the clock
    assert fast.job_time == "min" and mean.job_time == "mean"
    with pytest.raises(ValueError, match="job_time"):
        profiling.profile_workload(w, interp, job_time="median")


ZOOM_HARNESS = r"""
// A stand-in for the page's DOM: the frames the page holds, as plain objects.
const fs = require("fs");
const page = fs.readFileSync(process.argv[2], "utf8");
const W = +/<svg[^>]*width="(\d+)"[^>]*class="flame"/.exec(page)[1];
const frames = [];
const re = /<g data-l="([^"]+)" data-w="([^"]+)" data-d="(\d+)" data-n="([^"]*)"/g;
let m;
while ((m = re.exec(page))) {
  const attrs = {};
  const node = (tag) => ({tag, attrs, textContent: "", setAttribute(k, v) { this.attrs[tag + "." + k] = v; }});
  const rect = node("rect"), text = node("text");
  frames.push({dataset: {l: m[1], w: m[2], d: m[3], n: m[4]}, style: {}, rect, text,
               querySelector: (q) => (q === "rect" ? rect : text),
               addEventListener(kind, fn) { this.click = fn; }});
}
const svg = {getAttribute: () => String(W), querySelectorAll: () => frames};
global.document = {querySelector: () => svg};
"""

# After the page's own script (pasted in between): click the widest frame of depth 2, then the root.
ZOOM_CHECK = r"""
const pick = frames.filter((f) => +f.dataset.d === 2).sort((a, b) => b.dataset.w - a.dataset.w)[0];
pick.click.call(pick);
const shown = frames.filter((f) => f.style.display !== "none").map((f) => ({
  d: +f.dataset.d, n: f.dataset.n, x: +f.rect.attrs["rect.x"], w: +f.rect.attrs["rect.width"], text: f.text.textContent}));
const root = frames.find((f) => +f.dataset.d === 0);
root.click.call(root);
const back = frames.filter((f) => f.style.display !== "none").length;
console.log(JSON.stringify({W, picked: pick.dataset.n, shown, back, total: frames.length}));
"""


def test_zoom_script_lays_out_the_clicked_frame(tmp_path):
    """Run the page's zoom script (under node, when there is one) against a stand-in DOM: after a
    click, the clicked frame and its ancestors fill the width, its descendants share it, nothing
    else shows; a click on the root brings every visible frame back."""
    import shutil
    import subprocess

    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("no node to run the script with")
    folder = write_programs(tmp_path / "progs", PROGRAMS)
    html = tmp_path / "p.html"
    assert main(["profile", str(folder), "--task", TASK, "--max-steps", "1000", "--reps", "1",
                 "--no-reference", "--html", str(html)]) == 0
    script = re.search(r"<script>(.*?)</script>", html.read_text(), re.DOTALL).group(1)
    (tmp_path / "harness.js").write_text(ZOOM_HARNESS + script + ZOOM_CHECK)
    r = subprocess.run([node, str(tmp_path / "harness.js"), str(html)], capture_output=True, text=True, timeout=60,
                       check=False)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    width = out["W"]
    shown = out["shown"]
    picked = [f for f in shown if f["d"] == 2 and f["n"] == out["picked"]]
    assert len(picked) == 1 and picked[0]["x"] == 0 and picked[0]["w"] == pytest.approx(width - 0.6, abs=0.01)
    assert [f["d"] for f in shown if f["d"] < 2] == [0, 1]  # its two ancestors, nothing beside them
    assert all(f["w"] == pytest.approx(width - 0.6, abs=0.01) for f in shown if f["d"] < 2)
    assert len([f for f in shown if f["d"] == 2]) == 1
    kids = [f for f in shown if f["d"] == 3]
    assert kids and sum(f["w"] + 0.6 for f in kids) <= width + 0.01
    assert picked[0]["text"] == out["picked"] or picked[0]["text"].endswith("..")
    assert 0 < out["back"] <= out["total"]
