"""The published record cannot change by accident; no traceback from the decision log or a cycle id; every
value that reaches a page or a spreadsheet stays text (issue 10, parts 2–4).

Fast tests work on files and small processes; the ``e2e`` ones run ``sop run`` on an 8-SKU demo cycle, kill it,
race it, and open a pack made from hostile names in headless Chromium.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml

from sop_lib.core.cycle import parse_cycle
from sop_lib.core.exports import neutralise_formulas
from sop_lib.data.store import Store
from tests.conftest import NO_PDF, PROJECT, SOP, make_root, set_params, sop

CYCLE = "2026-11"


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


def _hashes(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folders`` (or of the file itself), by path."""
    out = {}
    for folder in folders:
        files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        for path in files:
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _record(root: Path) -> dict[str, str]:
    """Everything a run must leave alone unless it publishes."""
    cycle = root / "data" / "cycles" / CYCLE
    return _hashes(cycle / "snapshot", cycle / "published", root / "reports" / CYCLE, root / "reports" / "index.html",
                   root / "data" / "decisions" / "events.jsonl")


def _status_fingerprint(root: Path) -> str:
    line = next(x for x in sop("status", "--root", str(root), check=True).stdout.splitlines() if x.startswith(CYCLE))
    return line.split()[2]


# --- cycle ids ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["2026-1", "2026-13", "2026-00", "9999-12", "0001-01", "1989-12", "2101-01", "26-11",
                                 "2026-11 ", "2026/11", "../../secret", "２０２６-11", ""])
def test_a_cycle_id_is_strictly_yyyy_mm_in_a_sane_range(bad: str) -> None:
    from sop_lib.core.errors import ParamsError

    with pytest.raises(ParamsError, match="YYYY-MM|out of range"):
        parse_cycle(bad)


def test_good_cycle_ids_parse() -> None:
    assert parse_cycle("2026-11") == pd.Timestamp("2026-11-01")
    assert parse_cycle("1990-01") == pd.Timestamp("1990-01-01") and parse_cycle("2100-12").year == 2100


@pytest.mark.parametrize("args", [
    ["validate", "--cycle", "{bad}"], ["snapshot", "--cycle", "{bad}"], ["run", "--cycle", "{bad}"],
    ["forecast", "--cycle", "{bad}"], ["demo", "--cycles", "2026-10,{bad}", "--inputs-only"],
    ["import", "--cycle", "{bad}"],
    ["decision", "add", "--cycle", "{bad}", "--title", "t", "--owner", "o", "--function", "sales", "--priority", "low"],
    ["decision", "add", "--cycle", "2026-11", "--review-cycle", "{bad}", "--title", "t", "--owner", "o",
     "--function", "sales", "--priority", "low"],
], ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("bad", ["2026-1", "9999-12", "../../secret"])
def test_every_command_refuses_a_bad_cycle_before_it_opens_a_file(tmp_path: Path, args: list[str], bad: str) -> None:
    root = make_root(tmp_path / "p")
    # params/../../secret.yaml: a command that opened params/<cycle>.yaml first would print its keys
    (tmp_path / "secret.yaml").write_text("api_key: SECRET-42\n", encoding="utf-8")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    proc = sop(*[a.format(bad=bad) for a in args], "--root", str(root))
    assert proc.returncode == 2, proc.stderr
    _no_traceback(proc)
    assert "YYYY-MM" in proc.stderr or "out of range" in proc.stderr
    assert "SECRET" not in proc.stdout + proc.stderr and "api_key" not in proc.stdout + proc.stderr
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing written


def test_cli_usage_errors_and_a_missing_root_are_messages(tmp_path: Path) -> None:
    for args, text in ((["run", "--bogus"], "No such option"), (["run"], "Missing option"),
                       (["forecast", "--cycle", CYCLE, "--format", "xlsx"], "use parquet or csv"),
                       (["decision", "list", "--root", str(tmp_path / "missing")], "does not exist")):
        proc = sop(*args)
        assert proc.returncode == 2 and text in proc.stderr, (args, proc.stderr)
        _no_traceback(proc)
    assert not (tmp_path / "missing").exists()


# --- the decision log ----------------------------------------------------------------------------------------------
def _add(root: Path, title: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return sop("decision", "add", "--root", str(root), "--cycle", CYCLE, "--title", title, "--owner", "o",
               "--function", "sales", "--priority", "low", "--author", "t", *extra)


def test_a_damaged_line_is_named_skipped_and_the_rest_of_the_log_still_reads(tmp_path: Path) -> None:
    root = make_root(tmp_path / "p")
    for title in ("first", "second", "third"):
        assert _add(root, title).returncode == 0
    log = root / "data/decisions/events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    damaged = lines[0] + b'{"id": "D-002", "action": "ad' + b"\n" + lines[2][:-20]  # line 2 garbled, line 3 cut short
    log.write_bytes(damaged)

    listed = sop("decision", "list", "--root", str(root))
    assert listed.returncode == 0, listed.stderr
    _no_traceback(listed)
    assert f"{log} line 2: not a complete JSON object" in listed.stderr
    assert f"{log} line 3: not a complete JSON object" in listed.stderr and "cut short" in listed.stderr
    assert "D-001" in listed.stdout and "first" in listed.stdout

    added = _add(root, "after the damage")
    assert added.returncode == 0 and "line 3" in added.stderr, added.stderr
    after = log.read_bytes()
    assert after.startswith(damaged)  # nothing rewritten, nothing lost
    new_line = after[len(damaged):]
    assert new_line.startswith(b"\n{") and new_line.count(b"\n") == 2  # on a line of its own, not glued on
    assert json.loads(new_line)["fields"]["title"] == "after the damage"
    assert "after the damage" in sop("decision", "list", "--root", str(root), check=True).stdout
    hist = sop("decision", "history", "D-001", "--root", str(root))
    assert hist.returncode == 0 and "first" in hist.stdout and "line 2" in hist.stderr


def test_parse_log_keeps_every_good_line() -> None:
    from sop_lib.data.decision_log import parse_log

    good = [{"id": "D-001", "action": "add", "at": "t", "author": "a", "fields": {"title": "x", "expected_value": 5}},
            {"id": "D-001", "action": "update", "at": "t", "author": "a", "fields": {"status": "decided"}}]
    lines = [json.dumps(good[0]).encode(), b"[1, 2]", b"\xff\xfe not text", json.dumps(good[1]).encode(),
             b'{"id": "D-009", "action": "close", "at": "t", "author": "a", "fields": {}}',
             b'{"id": "D-002", "action": "add", "at": "t", "author": "a", "fields": {"expected_value": Infinity}}',
             b'{"id": "../x", "action": "add", "at": "t", "author": "a", "fields": {}}', b"", b"  "]
    events, damaged = parse_log(lines)
    assert [(e["id"], e["action"]) for e in events] == [("D-001", "add"), ("D-001", "update"), ("D-002", "add")]
    assert "expected_value" not in events[2]["fields"]  # Infinity dropped, the event kept
    assert [d["line"] for d in damaged] == [2, 3, 5, 6, 7]
    assert "not an event" in damaged[0]["problem"] and "not UTF-8" in damaged[1]["problem"]
    assert "which no earlier line adds" in damaged[2]["problem"] and "not a finite number" in damaged[3]["problem"]


@pytest.mark.parametrize("value", ["1e999", "-1e999", "inf", "nan", "Infinity", "1e13"])
def test_expected_values_must_be_finite_and_plausible(tmp_path: Path, value: str) -> None:
    root = make_root(tmp_path / "p")
    proc = _add(root, "x", "--expected-value", value)
    assert proc.returncode == 2 and "expected_value" in proc.stderr, proc.stderr
    _no_traceback(proc)
    log = root / "data/decisions/events.jsonl"
    assert not log.exists() or log.read_text() == ""


def test_decision_fields_are_checked_for_size_and_range(tmp_path: Path) -> None:
    from sop_lib.review.decisions import DecisionError, add_event

    base = {"raised_cycle": CYCLE, "owner": "o", "function": "sales", "priority": "low"}
    for fields, text in (({"title": "x" * 301}, "at most 300"), ({"title": "a\x1b[31m"}, "control characters"),
                         ({"title": "two\nlines"}, "line break"), ({"title": "t", "due": "0001-01-01"}, "out of range"),
                         ({"title": "t", "review_cycle": "2026-10"}, "before raised_cycle"),
                         ({"title": "t", "review_cycle": "2026-1"}, "YYYY-MM")):
        with pytest.raises(DecisionError, match=text):
            add_event([], {**base, **fields}, "t")
    assert add_event([], {**base, "title": "t", "context": "line one\nline two", "expected_value": "-1e6"}, "t")


def test_the_decisions_page_lists_damaged_lines(tmp_path: Path) -> None:
    from sop_lib.pack.run import _env

    html = _env().get_template("decisions.html.j2").render(
        cycle=CYCLE, fingerprint="abc", company="C", pages=[], failed="", currency="EUR", current="decisions.html",
        candidates=[], known=set(), items=[], closed=[], follow=[],
        log_damaged=[{"file": "/p/data/decisions/events.jsonl", "line": 7, "problem": "not a complete JSON object"}])
    assert re.search(r"1 line\s+of the decision log could not be read", html)
    assert "<code>/p/data/decisions/events.jsonl</code> line 7: not a complete JSON object" in html


# --- CSV exports -----------------------------------------------------------------------------------------------------
def test_csv_exports_write_formulas_as_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "sku": ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "PLAIN-1", "-12", "+3.5"],
        "units": [1.0, -2.0, 3.0, -4.5, 0.0, 6.0, 7.0, 8.0],
    })
    path = Store(make_root(tmp_path / "p")).write_tables(tmp_path / "out", {"t": frame}, fmt="csv")[0]
    back = pd.read_csv(path, keep_default_na=False)
    assert back["sku"].tolist() == ['\'=HYPERLINK("http://x","y")', "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)",
                                    "'\tTAB", "PLAIN-1", "-12", "+3.5"]
    assert back["units"].tolist() == frame["units"].tolist()  # numbers stay numbers
    assert neutralise_formulas(frame)["units"].dtype == frame["units"].dtype
    assert neutralise_formulas(frame.astype({"sku": "category"}))["sku"].iloc[0].startswith("'=")
    assert neutralise_formulas(frame.astype({"sku": "string"}))["sku"].iloc[3] == "'@SUM(A1)"


# --- escaping ---------------------------------------------------------------------------------------------------------
HOSTILE = "EUR<img src=x onerror=\"window.__xss=1\"><script>window.__xss=1</script>[a](javascript:window.__xss=1) *b*"


def test_markdown_and_chart_text_are_escaped() -> None:
    from nbconvert.filters.markdown import markdown2html

    from sop_lib import report

    rendered = markdown2html(f"**{report.md_escape(HOSTILE)}** in total")
    assert "<img" not in rendered and "<script" not in rendered and "<a " not in rendered and "<em>" not in rendered
    assert "&lt;img src=x" in rendered
    assert report.plot_text('<b>x</b> & "q"') == '&lt;b&gt;x&lt;/b&gt; &amp; "q"'


def test_charts_escape_names_from_data_and_parameters() -> None:
    from sop_lib import report

    comparison = pd.DataFrame({"scenario": ["baseline", "<b>up</b>"], "revenue": [1.0, 2.0], "gross_margin": [1.0, 1.0],
                               "unmet_revenue": [0.0, 0.0], "peak_utilisation": [0.9, 1.1]})
    fig = report.scenario_chart(comparison, HOSTILE)
    assert list(fig.data[0].x) == ["baseline", "&lt;b&gt;up&lt;/b&gt;"]
    assert fig.layout.yaxis.title.text.startswith("EUR&lt;img src=x") and "<" not in fig.data[0].hovertemplate[:40]
    gap = pd.DataFrame({"family": ["<i>Juice</i>"], "period": [pd.Timestamp("2026-11-01")], "plan_revenue": [1.0],
                        "budget_revenue": [1.0], "flag": [False]})
    fig = report.budget_chart(gap, HOSTILE)
    assert fig.layout.annotations[0].text == "&lt;i&gt;Juice&lt;/i&gt;" and "EUR&lt;img" in fig.layout.title.text
    sentence = report.supply_sentence("s", {"lost_margin": 0, "holding_cost": 0, "overtime_cost": 0}, HOSTILE,
                                      True, {"seconds": 0, "variables": 0, "constraints": 0}).data
    assert "<img" not in sentence and "EUR&lt;img" in sentence


def test_workbook_pages_escape_the_nav_bar(tmp_path: Path) -> None:
    """nbconvert's Jinja does not autoescape: the company and cycle in the workbook pages' nav bar are escaped."""
    import nbformat
    from nbconvert import HTMLExporter

    from sop_lib.pack.run import TEMPLATES

    exporter = HTMLExporter(template_name="sop_page", extra_template_basedirs=[str(TEMPLATES / "nbconvert")],
                            exclude_input=True)
    resources = {"sop": {"cycle": CYCLE, "fingerprint": "abc", "company": HOSTILE, "current": "x.html", "status": "ok",
                         "pages": [{"href": "x.html", "title": "<b>t</b>"}]}, "metadata": {"name": "x"}}
    body, _ = exporter.from_notebook_node(nbformat.v4.new_notebook(), resources=resources)
    assert "<img src=x" not in body and "<script>window" not in body and "<b>t</b>" not in body
    assert "EUR&lt;img src=x" in body


# --- locks ------------------------------------------------------------------------------------------------------------
def test_every_command_that_writes_a_cycle_is_refused_while_another_holds_it(tmp_path: Path) -> None:
    root = make_root(tmp_path / "p")
    store = Store(root)
    with store.cycle_lock(CYCLE, command="sop run"), store.cycle_lock(CYCLE):  # re-entrant in one process
        for args in (["snapshot", "--cycle", CYCLE, "--force"], ["run", "--cycle", CYCLE], ["forecast", "--cycle", CYCLE],
                     ["demo", "--cycles", CYCLE, "--inputs-only"]):
            proc = sop(*args, "--root", str(root))
            assert proc.returncode == 5, (args, proc.stderr)
            assert f"Another run of cycle {CYCLE} is in progress: `sop run` (process {os.getpid()})" in proc.stderr
            _no_traceback(proc)
        assert not (root / "inputs" / "sales_history.csv").exists()  # the refused demo wrote nothing
    with store.cycle_lock(CYCLE):  # released
        pass


# --- what an interrupted run leaves ------------------------------------------------------------------------------
def _dead_pid() -> tuple[int, float]:
    proc = psutil.Popen([sys.executable, "-c", "pass"])
    started = proc.create_time()
    proc.wait()
    return proc.pid, started


def test_the_next_run_clears_what_a_killed_run_left(tmp_path: Path) -> None:
    from sop_lib.pack import runs
    from sop_lib.pack.run import clear_interrupted_runs

    root = make_root(tmp_path / "p")
    store = Store(root)
    run_dir = store.new_run_dir(CYCLE)
    (run_dir / "01_demand_forecast.ipynb").write_text("{}")
    pid, started = _dead_pid()
    (run_dir / runs.RUNNING).write_text(json.dumps({"pid": pid, "pid_started": started, "phase": "running"}))
    staging = store.reports_dir / f".staging-{CYCLE}-{run_dir.name}"
    staging.mkdir(parents=True)
    conn = runs.connection_file(run_dir, "01_demand_forecast")
    conn.write_text("{}")
    ipc = conn.with_name(conn.stem + "-ipc-1")
    ipc.write_text("")
    # an orphaned pool worker: its command line carries the kernel's connection file
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", str(conn)])
    stray = store.cycle_dir(CYCLE) / ".snapshot-123-456"
    stray.mkdir()
    said: list[str] = []
    found = clear_interrupted_runs(store, CYCLE, said.append)
    assert [f.run_dir for f in found] == [run_dir]
    assert said[0].startswith(f"Found an interrupted run {run_dir.name} of cycle {CYCLE} (process {pid}, running): ")
    assert "stopped 1 process it had left running" in said[0] and "removed its partial folder and staging pack" in said[0]
    assert orphan.wait(timeout=10) is not None
    assert not run_dir.exists() and not staging.exists() and not conn.exists() and not ipc.exists()
    assert not stray.exists() and any(".snapshot-123-456" in s for s in said)
    assert clear_interrupted_runs(store, CYCLE, said.append) == []


def test_a_run_killed_while_publishing_is_completed_by_the_next(tmp_path: Path) -> None:
    from sop_lib.pack import runs
    from sop_lib.pack.run import clear_interrupted_runs

    root = make_root(tmp_path / "p")
    store = Store(root)
    store.write_snapshot(CYCLE, {"products": pd.DataFrame({"sku": ["A"]})}, {}, pd.DataFrame())
    old = store.new_run_dir(CYCLE)
    store.write_result(old, "forecast", pd.DataFrame({"x": [1]}))
    store.publish_results(CYCLE, old, {"run_id": old.name, "fingerprint": "old"})
    run_dir = store.new_run_dir(CYCLE)
    store.write_result(run_dir, "forecast", pd.DataFrame({"x": [2]}))
    new = store.with_snapshot(CYCLE, run_dir / "snapshot").write_snapshot(
        CYCLE, {"products": pd.DataFrame({"sku": ["B"]})}, {}, pd.DataFrame())
    staged = store.stage_published(CYCLE, run_dir, {"run_id": run_dir.name, "fingerprint": new.fingerprint})
    staging = store.reports_dir / f".staging-{CYCLE}-{run_dir.name}"
    staging.mkdir(parents=True)
    (staging / "index.html").write_text("new pack")
    pd.DataFrame(columns=["key", "raised_cycle", "function", "priority", "title", "context", "options",
                          "expected_kpi", "expected_value"]).to_parquet(staging / "decision_candidates.parquet")
    pid, started = _dead_pid()
    runs.mark_running(run_dir, CYCLE, phase="publishing", staging=str(staging), published=str(staged))
    marker = json.loads((run_dir / runs.RUNNING).read_text())
    (run_dir / runs.RUNNING).write_text(json.dumps({**marker, "pid": pid, "pid_started": started}))
    store.swap_snapshot(CYCLE, run_dir / "snapshot")  # killed after the first of the renames

    said: list[str] = []
    clear_interrupted_runs(store, CYCLE, said.append)
    assert "completed its publication" in said[0]
    assert store.published_info(CYCLE)["run_id"] == run_dir.name
    assert store.read_manifest(CYCLE)["fingerprint"] == new.fingerprint
    assert (store.report_dir(CYCLE) / "index.html").read_text() == "new pack"
    assert (store.cycle_dir(CYCLE) / "superseded" / old.name).is_dir()
    assert json.loads((run_dir / runs.RECORD).read_text())["status"] == "published"
    assert not (run_dir / runs.RUNNING).exists() and not staging.exists()


def test_pool_workers_end_with_the_process_that_made_the_pool(tmp_path: Path) -> None:
    """``kill -9`` of the pool's parent: its forked workers end too (PR_SET_PDEATHSIG on Linux; a parent poll
    elsewhere) instead of waiting on the queue for ever."""
    code = ("import time; from sop_lib.demand.forecast.executors import map_batches; "
            "map_batches(time.sleep, [120, 120, 120], workers=2)")
    parent = psutil.Popen([sys.executable, "-c", code], cwd=PROJECT)
    deadline = time.monotonic() + 60
    while len(parent.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = parent.children()
    assert len(workers) >= 2
    parent.kill()
    parent.wait(timeout=10)
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == [], f"pool workers outlived their parent: {alive}"


# --- end to end ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8-SKU demo project with cycle 2026-11 published; forecast on two worker processes."""
    root = make_root(tmp_path_factory.mktemp("robust") / "project")
    set_params(root, run=NO_PDF)
    params = root / "params" / f"{CYCLE}.yaml"
    data = yaml.safe_load(params.read_text(encoding="utf-8")) or {}
    data.setdefault("forecast", {})["workers"] = 2
    params.write_text(yaml.safe_dump(data), encoding="utf-8")
    sop("demo", "--root", str(root), "--skus", "8", "--cycles", CYCLE, check=True)
    return root


@pytest.fixture
def project(published: Path, tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(published, root, symlinks=True)
    return root


def _start_run(root: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOP_HOME"}
    return subprocess.Popen([*SOP, "run", "--cycle", CYCLE, "--root", str(root), "--force", *extra], cwd=PROJECT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _run_processes_when_forecasting(root: Path, timeout_s: float = 90) -> tuple[str, list[psutil.Process]]:
    """The running run's id and its processes, once the forecast's pool workers are up (kernel + 2 workers)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        markers = list((root / "data" / "cycles" / CYCLE / "runs").glob("*/running.json"))
        if markers:
            run_id = markers[0].parent.name
            token = f"sop-kernel-{CYCLE}-{run_id}-"
            procs = [p for p in psutil.process_iter(["cmdline"]) if any(token in a for a in p.info["cmdline"] or ())]
            if len(procs) >= 3:
                return run_id, procs
        time.sleep(0.1)
    raise AssertionError("the run never reached the forecast's worker processes")


def _gone(procs: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """The processes still alive (not zombies) after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    alive = procs
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.05)
    return alive


def _kernel_files(run_id: str) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"sop-kernel-{CYCLE}-{run_id}-*"))


@pytest.mark.e2e
def test_a_failed_forced_rerun_leaves_the_published_record_byte_identical(project: Path, tmp_path: Path) -> None:
    from sop_lib.demo import write_demo_inputs

    before = _record(project)
    published_fp = json.loads((project / f"data/cycles/{CYCLE}/published/published.json").read_text())["fingerprint"]
    assert _status_fingerprint(project) == published_fp[:12]
    other = tmp_path / "other-inputs"  # a different extract: its snapshot has another fingerprint
    write_demo_inputs(CYCLE, other, n_skus=9)
    params = project / "params" / f"{CYCLE}.yaml"  # a workbook that fails: the forecast's cluster is unreachable
    data = yaml.safe_load(params.read_text(encoding="utf-8"))
    data["forecast"].update({"executor": "dask", "scheduler": "tcp://127.0.0.1:9"})
    params.write_text(yaml.safe_dump(data), encoding="utf-8")

    proc = sop("run", "--cycle", CYCLE, "--root", str(project), "--force", "--inputs", str(other))
    assert proc.returncode == 4, proc.stderr
    assert "Cannot reach the Dask scheduler" in proc.stderr
    assert _record(project) == before  # snapshot, published results, pack, cycles index, decision log
    assert _status_fingerprint(project) == published_fp[:12]
    failed_run = next(p for p in (project / f"data/cycles/{CYCLE}/runs").iterdir() if (p / "run.json").exists()
                      and json.loads((p / "run.json").read_text())["status"] == "failed")
    own = json.loads((failed_run / "snapshot" / "manifest.json").read_text())["fingerprint"]
    assert own != published_fp  # the run worked on its own snapshot, which stays in its folder
    assert not list((project / "reports").glob(".staging-*"))


@pytest.mark.e2e
def test_a_snapshot_during_a_run_is_refused_and_the_pack_shows_one_snapshot(project: Path, tmp_path: Path) -> None:
    from sop_lib.demo import write_demo_inputs

    other = tmp_path / "other-inputs"
    write_demo_inputs(CYCLE, other, n_skus=9)
    run = _start_run(project, "--fresh-snapshot")
    deadline = time.monotonic() + 60
    while not list((project / f"data/cycles/{CYCLE}/runs").glob("*/running.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    snap = sop("snapshot", "--cycle", CYCLE, "--root", str(project), "--force", "--inputs", str(other))
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    assert snap.returncode == 5 and f"Another run of cycle {CYCLE} is in progress: `sop run`" in snap.stderr
    _no_traceback(snap)
    fingerprint = json.loads((project / f"data/cycles/{CYCLE}/published/published.json").read_text())["fingerprint"]
    assert _status_fingerprint(project) == fingerprint[:12]
    pages = sorted((project / "reports" / CYCLE).glob("*.html"))
    assert len(pages) == 8
    for page in pages:
        html = page.read_text(encoding="utf-8")
        shown = set(re.findall(r'class="sop-fingerprint">([0-9a-f]{12})<', html))
        assert shown == {fingerprint[:12]}, page.name


@pytest.mark.e2e
def test_sigterm_stops_every_process_of_the_run_and_removes_its_folder(project: Path) -> None:
    before = _record(project)
    run = _start_run(project)
    run_id, procs = _run_processes_when_forecasting(project)
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 128 + signal.SIGTERM, err
    assert "Interrupted by SIGTERM" in err and "nothing was published" in err
    _no_traceback(subprocess.CompletedProcess([], run.returncode, out, err))
    assert _gone(procs, 5) == []
    assert not (project / f"data/cycles/{CYCLE}/runs/{run_id}").exists()
    assert _kernel_files(run_id) == [] and not list((project / "reports").glob(".staging-*"))
    assert _record(project) == before


@pytest.mark.e2e
def test_kill_9_leaves_nothing_running_and_the_next_run_clears_what_it_left(project: Path) -> None:
    before = _record(project)
    run = _start_run(project)
    run_id, procs = _run_processes_when_forecasting(project)
    t0 = time.monotonic()
    run.kill()
    run.communicate(timeout=30)
    # the kernel sees its parent gone within a second (ipykernel's poller); the workers go with the kernel
    assert _gone(procs, 5) == [], "processes of the killed run still alive 5 s later"
    print(f"every process of the killed run gone {time.monotonic() - t0:.2f} s after kill -9")
    assert _record(project) == before
    left = project / f"data/cycles/{CYCLE}/runs/{run_id}"
    assert (left / "running.json").exists() and _kernel_files(run_id)
    assert "1 interrupted run(s)" in sop("status", "--root", str(project), check=True).stdout

    nxt = sop("run", "--cycle", CYCLE, "--root", str(project), "--force")
    assert nxt.returncode == 0, nxt.stderr
    assert f"Found an interrupted run {run_id} of cycle {CYCLE}" in nxt.stdout
    assert "removed its partial folder" in nxt.stdout and "removed its kernel connection files" in nxt.stdout
    assert not left.exists() and _kernel_files(run_id) == []


# --- hostile names, end to end, in a browser -----------------------------------------------------------------------
XSS = "window.__xss=1"
COMPANY = f"ACME <img src=x onerror=\"{XSS}\"><script>{XSS}</script> & Sons [x](javascript:{XSS})"
CURRENCY = f"EUR<img src=x onerror={XSS}>"
# keys may not hold < or > (the contract refuses them); quotes, entities and Markdown still must stay text
FAMILY = f"Juice \"{XSS}\" 'q' *b* [x](javascript:{XSS}) &lt;img src=x onerror={XSS}&gt;"
SKU = f"JUI-102 &lt;img src=x onerror={XSS}&gt; *s*"


def _rename(inputs: Path, column: str, old: str, new: str) -> None:
    for path in inputs.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if column in frame:
            frame[column] = frame[column].replace(old, new)
            frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack made from a hostile company, currency, family and SKU, with a decision log cut short on its last line."""
    from sop_lib.review.decisions import add_event

    root = make_root(tmp_path_factory.mktemp("hostile") / "project")
    defaults = root / "params" / "defaults.yaml"
    data = yaml.safe_load(defaults.read_text(encoding="utf-8"))
    data["company"] = COMPANY
    data["finance"]["currency"] = CURRENCY
    defaults.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    set_params(root, run=NO_PDF)
    sop("demo", "--root", str(root), "--skus", "8", "--cycles", CYCLE, "--inputs-only", check=True)
    _rename(root / "inputs", "family", "Juice", FAMILY)
    _rename(root / "inputs", "sku", "JUI-102", SKU)
    log = root / "data" / "decisions" / "events.jsonl"
    log.parent.mkdir(parents=True)
    good = add_event([], {"raised_cycle": CYCLE, "title": "kept", "owner": "o", "function": "sales",
                          "priority": "low"}, "t")
    log.write_text(json.dumps(good) + "\n" + json.dumps(good)[:-25], encoding="utf-8")  # last line cut short
    sop("run", "--cycle", CYCLE, "--root", str(root), check=True)
    return root


@pytest.mark.e2e
def test_a_damaged_decision_log_does_not_stop_the_run_and_the_page_says_so(hostile_root: Path) -> None:
    page = (hostile_root / "reports" / CYCLE / "decisions.html").read_text(encoding="utf-8")
    assert "could not be read" in page and "events.jsonl</code> line 2" in page
    lines = (hostile_root / "data/decisions/events.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["fields"]["title"] == "kept"
    assert all(json.loads(x)["author"] == "sop run" for x in lines[2:])  # candidates appended after the cut line
    assert not list((hostile_root / "reports").glob(".staging-*"))


@pytest.mark.e2e
@pytest.mark.browser
def test_hostile_names_show_as_text_on_every_page(hostile_root: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARGS

    pack = hostile_root / "reports" / CYCLE
    pages = sorted(pack.glob("*.html"))
    assert len(pages) == 8
    shown: dict[str, str] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        for path in pages:
            tab = browser.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            tab.goto(path.as_uri())
            tab.wait_for_timeout(300)
            found = tab.evaluate("""() => ({
                xss: window.__xss === undefined ? null : window.__xss,
                handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover]').length,
                imgs: Array.from(document.images).map(i => i.getAttribute('src')),
                js: Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href') || a.getAttribute('xlink:href') || '')
                      .filter(h => h.trim().toLowerCase().startsWith('javascript')).length,
                text: document.body.innerText,
                svg: Array.from(document.querySelectorAll('svg text')).map(t => t.textContent).join('\\n') })""")
            tab.close()
            assert found["xss"] is None, f"{path.name}: a hostile value ran as script"
            assert found["handlers"] == 0 and found["js"] == 0, (path.name, found)
            assert "x" not in found["imgs"], (path.name, found["imgs"])
            assert errors == [], (path.name, errors)
            assert COMPANY in found["text"], f"{path.name}: the company name is not shown as typed"
            shown[path.name] = found["text"] + "\n" + found["svg"]  # plotly draws titles and labels as SVG text
        browser.close()
    # where they appear, the currency, family and SKU are shown exactly as typed: text, not markup
    for name in ("02_capacity_review.html", "03_financial_reconciliation.html", "index.html"):
        assert CURRENCY in shown[name], name
    assert FAMILY in shown["01_demand_forecast.html"] and FAMILY in shown["03_financial_reconciliation.html"]
    assert SKU in shown["01_demand_forecast.html"]
