"""Run a cycle's workbooks through papermill, render the HTML pack with nbconvert, publish it.

Nothing half-written is ever published. A run works in its own folder (``data/cycles/<cycle>/runs/<id>/``) on
its own snapshot when it takes a new one (``runs/<id>/snapshot/``; else on the cycle's, which its lock keeps
still), and builds the pack in a staging folder. Only when every workbook succeeded is the run published: its
snapshot, its results and its pack replace the cycle's in three renames, with signals held off, and a run killed
in between is completed by the next run of the cycle (``clear_interrupted_runs``). A failed run is rendered to
``reports/_failed/<cycle>-<run_id>/`` (so the error can be read) and leaves the cycle's snapshot, published
results and pack byte-identical. ``runs`` handles the processes and a run that was interrupted.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from sop_lib.core.cycle import Cycle
from sop_lib.core.errors import CycleAlreadyPublished, SopError, WorkbookFailed
from sop_lib.data.context import check_planner_inputs, take_snapshot
from sop_lib.data.params import CycleParams, load_params
from sop_lib.data.snapshot import Snapshot
from sop_lib.data.store import Store
from sop_lib.pack import runs
from sop_lib.pack.assets import copy_assets
from sop_lib.pack.pdf import add_board_pdf
from sop_lib.pack.summary import gather_summary
from sop_lib.pack.workbook import write_cycle_workbook

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
NOTEBOOKS: list[tuple[str, str]] = [
    ("01_demand_forecast", "Demand forecast"),
    ("02_capacity_review", "Capacity review"),
    ("03_financial_reconciliation", "Financial reconciliation"),
    ("04_post_cycle_variance", "Post-cycle variance"),
]


@dataclass
class StepRecord:
    name: str
    title: str
    status: str = "not run"  # ok | failed | not run
    seconds: float | None = None
    cell_seconds: float | None = None  # time spent in cells; the rest is kernel start and papermill
    error: str = ""

    @property
    def href(self) -> str:
        return f"{self.name}.html"


@dataclass
class RunOutcome:
    cycle: Cycle
    run_dir: Path
    report_dir: Path
    published: bool
    steps: list[StepRecord]
    timings: dict[str, float] = field(default_factory=dict)


def execute_notebooks(
    store: Store, cycle: Cycle, run_dir: Path, timeout_s: int, echo: Callable[[str], None] = print
) -> list[StepRecord]:
    """Execute the four workbooks in order, each in its own kernel. Stops at the first failure (later
    steps depend on it); the failed notebook is kept with its error for the pack and the audit."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    steps = [StepRecord(name, title) for name, title in NOTEBOOKS]
    for step in steps:
        # Local kernels talk over Unix sockets: no TCP ports opened, and no "running over TCP without encryption"
        # warning from each kernel in the scheduler's log. The connection file is named after the run: its ipc
        # sockets then are too (not `kernel-ipc-*` in the notebooks folder, shared by every run), and the run's
        # processes can be found by it (runs.py).
        kernel_config = Config({"KernelManager": {
            "transport": "ipc", "connection_file": str(runs.connection_file(run_dir, step.name))}})
        source = store.notebooks_dir / f"{step.name}.ipynb"
        target = run_dir / f"{step.name}.ipynb"
        echo(f"  running {step.name} …")
        t0 = time.perf_counter()
        parameters: dict[str, object] = {"cycle": cycle.id, "root": str(store.root), "run_dir": str(run_dir)}
        declared = pm.inspect_notebook(str(source))
        if "progress" in declared:
            parameters["progress"] = False  # a progress bar is for people watching, not for the pack
        if "interactive" in declared:
            parameters["interactive"] = False  # widgets need a live kernel; the pack shows static tables
        try:
            pm.execute_notebook(
                str(source), str(target),
                parameters=parameters,
                kernel_name="python3", cwd=str(store.notebooks_dir), progress_bar=False,
                execution_timeout=timeout_s, log_output=False, config=kernel_config,
            )
            step.status = "ok"
        except PapermillExecutionError as exc:
            step.status = "failed"
            step.error = f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # kernel died, timeout, unreadable notebook: still a failed step, not a crash
            step.status = "failed"
            step.error = f"{exc.__class__.__name__}: {exc}"
        step.seconds = time.perf_counter() - t0
        if target.exists():
            nb = nbformat.read(target, as_version=4)
            step.cell_seconds = sum(
                float(c.metadata.get("papermill", {}).get("duration") or 0) for c in nb.cells
            )
        echo(f"    {step.status} in {step.seconds:.1f} s" + (f" — {step.error}" if step.error else ""))
        if step.status == "failed":
            break
    return steps


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES / "pack")), autoescape=select_autoescape(["html", "j2"]))


def _strip_stderr(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The pack shows results, not library chatter: stderr streams are dropped from the HTML (the executed
    .ipynb kept beside it still has them)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    return nb


def render_pack(
    store: Store, cycle: Cycle, run_dir: Path, snapshot: Snapshot, params: CycleParams, steps: list[StepRecord], target: Path
) -> Path:
    """Write the whole pack for ``run_dir`` into ``target`` (a new folder)."""
    from nbconvert import HTMLExporter

    target.mkdir(parents=True)
    copy_assets(target / "assets")  # the stylesheet, the print script, the partial plotly.js (1 MB, not 4.8)
    (target / "notebooks").mkdir()
    shutil.copy(snapshot.folder / "manifest.json", target / "snapshot-manifest.json")

    pages = [{"href": s.href, "title": s.title} for s in steps if s.status != "not run"]
    common = {"cycle": cycle.id, "fingerprint": snapshot.short_fingerprint, "company": params.company, "pages": pages}
    exporter = HTMLExporter(template_name="sop_page", extra_template_basedirs=[str(TEMPLATES / "nbconvert")],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    for step in steps:
        executed = run_dir / f"{step.name}.ipynb"
        if step.status == "not run" or not executed.exists():
            continue
        nb = nbformat.read(executed, as_version=4)
        shutil.copy(executed, target / "notebooks" / executed.name)
        resources = {"sop": {**common, "current": step.href, "status": step.status},
                     "metadata": {"name": f"{step.title} · {cycle}"}}
        body, _ = exporter.from_notebook_node(_strip_stderr(nb), resources=resources)
        (target / step.href).write_text(body, encoding="utf-8")

    failed = next((f"{s.title}: {s.error}" for s in steps if s.status == "failed"), "")
    page_ctx = {**common, "failed": failed, "currency": params.finance.currency,
                "log_damaged": store.read_decision_log()[1]}  # damaged lines of the decision log, skipped
    summary = gather_summary(store, cycle.id, run_dir, snapshot, params)
    store.write_tables(target, {"decision_candidates": summary.candidates})
    write_cycle_workbook(store, run_dir, summary, target)  # sop_<cycle>.xlsx, published with the pages
    for page, context in summary.pages(steps).items():
        (target / page).write_text(_env().get_template(f"{page}.j2").render(**page_ctx, current=page, **context),
                                   encoding="utf-8")
    (target / "headlines.json").write_text(json.dumps(summary.headlines, indent=2, default=str), encoding="utf-8")
    return target


def _log_candidates(store: Store, path: Path) -> None:
    """On publication only: the cycle's candidate decisions join the log (once per key)."""
    from sop_lib.review.decisions import candidate_events

    candidates = pd.read_parquet(path)
    with store.decision_log() as events:
        events.extend(candidate_events(events, candidates, author="sop run"))


def _candidates_to_log(store: Store, staging: Path) -> None:
    """The events publication will add to the log, made now without writing them: a value the log refuses stops
    the run before anything is replaced."""
    from sop_lib.review.decisions import candidate_events

    candidate_events(store.read_decision_events(), pd.read_parquet(staging / "decision_candidates.parquet"), "sop run")


def write_cycles_index(store: Store) -> Path:
    """``reports/index.html``: every published pack, newest first, with its headline KPIs and their trend across
    cycles (``pack.archive``)."""
    from sop_lib.pack.archive import write_index

    return write_index(store, TEMPLATES / "pack")


def run_cycle(
    store: Store,
    cycle: Cycle | str,
    inputs_dir: Path | None = None,
    force: bool = False,
    fresh_snapshot: bool = False,
    echo: Callable[[str], None] = print,
) -> RunOutcome:
    """Snapshot (if the cycle has none, or ``fresh_snapshot``, or ``inputs_dir`` is given), execute, render and
    publish one cycle, under the cycle's lock; first clear away what interrupted runs of the cycle left.

    Raises ``CycleAlreadyPublished`` without ``force``; ``CycleLocked`` while another command writes the cycle;
    ``InputInvalid`` before anything runs; ``WorkbookFailed`` after rendering the failed run to
    ``reports/_failed/``; ``runs.RunInterrupted`` on SIGTERM or SIGINT, after stopping the run's processes and
    removing its folder.
    """
    cycle = Cycle.parse(cycle)  # once: the steps below take it as it is
    if store.is_published(cycle) and not force:
        raise CycleAlreadyPublished(
            f"Cycle {cycle} is already published (reports/{cycle}/). Its plan is part of the archive that later "
            "cycles compare against. Pass --force to re-run it; the published version is kept under superseded/."
        )
    params = load_params(store.params_dir, cycle)
    with store.cycle_lock(cycle, command="sop run"):
        clear_interrupted_runs(store, cycle, echo)
        run_dir = store.new_run_dir(cycle)
        runs.mark_running(run_dir, cycle.id)
        staging = store.reports_dir / f".staging-{cycle}-{run_dir.name}"
        with runs.interrupt_guard(runs.kernel_token(run_dir)) as guard:
            try:
                return _run_locked(store, cycle, params, run_dir, staging, inputs_dir, fresh_snapshot, guard, echo)
            except WorkbookFailed:
                raise  # its folder (with the failed notebook) and its failed pack are kept
            except BaseException as exc:
                _abandon(run_dir, staging, interrupted=isinstance(exc, runs.RunInterrupted) or bool(guard.interrupted))
                raise


def _run_locked(
    store: Store, cycle: Cycle, params: CycleParams, run_dir: Path, staging: Path, inputs_dir: Path | None,
    fresh_snapshot: bool, guard: runs.Guard, echo: Callable[[str], None],
) -> RunOutcome:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    run_store = store
    if fresh_snapshot or inputs_dir is not None or not (store.snapshot_dir(cycle) / "manifest.json").exists():
        echo(f"Snapshot of {inputs_dir or store.inputs_dir} for cycle {cycle} …")
        run_store = store.with_snapshot(cycle, run_dir / "snapshot")  # the cycle's own is replaced on publication
        take_snapshot(run_store, cycle, inputs_dir, force=True, params=params)
    snapshot = run_store.read_snapshot(cycle)
    check_planner_inputs(run_store, cycle, {n: snapshot[n] for n in ("products", "sales_history", "capacity", "prices",
                                                                     "bill_of_resources")}, params)
    timings["snapshot"] = time.perf_counter() - t0
    echo(f"Cycle {cycle}: snapshot {snapshot.short_fingerprint} ({snapshot.manifest['captured_at']})")
    changed = store.changed_inputs(snapshot, store.inputs_dir) if run_store is store else []
    if changed:
        echo(f"Note: {', '.join(changed)} in {store.inputs_dir} changed since this snapshot was taken; the run uses "
             "the snapshot. Pass --fresh-snapshot to snapshot the new files.")

    steps = execute_notebooks(store, cycle, run_dir, params.run.notebook_timeout_s, echo)
    if guard.interrupted:  # the signal ended a kernel but its exception was swallowed on the way
        raise runs.RunInterrupted(guard.interrupted)
    for s in steps:
        timings[s.name] = s.seconds or 0.0

    t0 = time.perf_counter()
    render_pack(run_store, cycle, run_dir, snapshot, params, steps, staging)
    timings["render"] = time.perf_counter() - t0
    if damaged := store.read_decision_log()[1]:
        echo(f"Warning: {len(damaged)} line(s) of {damaged[0]['file']} could not be read and were skipped (line "
             f"{', '.join(str(d['line']) for d in damaged)}); the decisions page lists them.")

    failed = [s for s in steps if s.status != "ok"]
    if failed:
        dest = store.reports_dir / "_failed" / f"{cycle}-{run_dir.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(dest)
        runs.mark_ended(run_dir, "failed", failed_pack=str(dest))
        runs.remove_kernel_files(run_dir)
        first = failed[0]
        raise WorkbookFailed(
            f"Workbook {first.name} failed: {first.error or 'did not run'}.\n"
            f"Nothing was published; the failed pack is at {dest / 'index.html'} and the executed notebook with "
            f"the error at {run_dir / (first.name + '.ipynb')}."
        )

    add_board_pdf(staging, cycle.id, params.company, echo, params.run.board_pdf)  # or says why there is none
    info = {"cycle": cycle.id, "run_id": run_dir.name, "fingerprint": snapshot.fingerprint,
            "published_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    staged = store.stage_published(cycle, run_dir, info)
    _candidates_to_log(store, staging)  # a log that refuses them says so now, before anything is replaced
    runs.mark_running(run_dir, cycle.id, phase="publishing", staging=str(staging), published=str(staged))
    with guard.defer():  # a signal now waits for the few renames that publish
        _publish(store, cycle, run_dir, staging, echo)
        runs.mark_ended(run_dir, "published", fingerprint=snapshot.fingerprint)
    if guard.pending:
        echo("A stop signal came while publishing: the publication was completed first.")
    return RunOutcome(cycle, run_dir, store.report_dir(cycle), True, steps, timings)


def _publish(store: Store, cycle: Cycle, run_dir: Path, staging: Path, echo: Callable[[str], None]) -> None:
    """Replace the cycle's snapshot (if the run took one), published results and pack with the run's, then log the
    cycle's candidate decisions and rewrite the cycles index. Each step does nothing if already done, so a run
    killed half-way is completed by the next run of the cycle with the same call."""
    store.swap_snapshot(cycle, run_dir / "snapshot")
    store.swap_published(cycle, store.staged_published_dir(cycle, run_dir.name))
    final = store.report_dir(cycle)
    try:
        _log_candidates(store, (staging if staging.exists() else final) / "decision_candidates.parquet")
    except SopError as exc:  # the plan is published; the log is the planners' to mend
        echo(f"Warning: the cycle's candidate decisions were not added to the decision log: {exc}")
    if staging.exists():
        if final.exists():
            old = store.reports_dir / "_superseded" / f"{cycle}-{dt.datetime.now():%Y%m%dT%H%M%S%f}"
            old.parent.mkdir(parents=True, exist_ok=True)
            final.rename(old)
        staging.rename(final)
    write_cycles_index(store)


def _abandon(run_dir: Path, staging: Path, interrupted: bool) -> None:
    """After an interruption or an unexpected error: stop the run's processes, remove its kernels' files and
    staging pack, and its folder (kept, marked failed, if an unexpected error came after a workbook ran)."""
    runs.stop_processes(runs.kernel_token(run_dir))
    runs.remove_kernel_files(run_dir)
    shutil.rmtree(staging, ignore_errors=True)
    if interrupted or not any(run_dir.glob("*.ipynb")):
        shutil.rmtree(run_dir, ignore_errors=True)
        for folder in (run_dir.parent, run_dir.parent.parent):  # runs/, then the cycle's folder, if left empty
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    else:
        runs.mark_ended(run_dir, "failed")


def clear_interrupted_runs(store: Store, cycle: Cycle | str, echo: Callable[[str], None] = print
                           ) -> list[runs.Leftover]:
    """What runs of ``cycle`` that were killed left behind (the caller holds the cycle's lock, so no live run owns
    any of it): processes, kernel files, partial run folders and staging packs are removed, and a run killed while
    publishing is completed. Each is reported."""
    cycle = Cycle.parse(cycle)
    found = []
    for left in runs.find_interrupted(store.runs_dir(cycle)):
        staging = store.reports_dir / f".staging-{cycle}-{left.run_dir.name}"

        def finish(leftover: runs.Leftover, staging: Path = staging) -> None:
            _publish(store, cycle, leftover.run_dir, staging, echo)
            runs.mark_ended(leftover.run_dir, "published", completed_by=os.getpid())

        runs.clear_leftover(left, staging, finish)
        echo(f"Found an interrupted run {left.run_dir.name} of cycle {cycle} (process {left.marker.get('pid', '?')}, "
             f"{left.marker.get('phase', 'running')}): {'; '.join(left.done)}.")
        found.append(left)
    strays = [*store.reports_dir.glob(f".staging-{cycle}-*"), *store.cycle_dir(cycle).glob(".snapshot-*"),
              *store.cycle_dir(cycle).glob(".old-.snapshot-*"), *store.cycle_dir(cycle).glob(".published-*")]
    for stray in strays:
        shutil.rmtree(stray, ignore_errors=True)
        echo(f"Removed {stray.name}, left by an interrupted run or snapshot of cycle {cycle}.")
    return found
