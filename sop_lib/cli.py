"""The ``sop`` command. Errors the suite raises on purpose print as a message (no traceback) and exit
with the error's code: 2 invalid input or parameters, 3 cycle already published, 4 a workbook failed,
5 another command is writing the cycle's data; 130 / 143 interrupted (SIGINT / SIGTERM), nothing published.

A cycle id is checked when the option is read, before any file named after it is opened."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .errors import SopError
from .runs import RunInterrupted

if TYPE_CHECKING:
    from .store import Store

app = typer.Typer(
    help="S&OP workbook suite: snapshot the month's data, run the four workbooks, publish the HTML pack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _cycle(value: str | None) -> str | None:
    """Option callback: a cycle id must be YYYY-MM within the supported years (``store.parse_cycle``)."""
    if value is not None:
        from .cycle_id import parse_cycle

        parse_cycle(value)
    return value


CycleOpt = Annotated[str, typer.Option("--cycle", "-c", help="planning cycle, YYYY-MM (e.g. 2026-11)",
                                       callback=_cycle)]
RootOpt = Annotated[
    Path | None,
    typer.Option("--root", help="project folder (default: $SOP_HOME, else the folder above with params/defaults.yaml)"),
]
InputsOpt = Annotated[
    Path | None, typer.Option("--inputs", "-i", help="folder with the input files (default: <root>/inputs)")
]


def _echo(msg: str) -> None:
    typer.echo(msg)


def _validate_for_cycle(store: Store, inputs_dir: Path, cycle: str) -> None:
    """Validate ``inputs_dir`` and the planners' inputs for ``cycle`` and say what passed, which defaults the
    data makes the pack take, and the warnings. Problems raise (exit 2); the full list goes to data/validation/."""
    from .cycle import check_planner_inputs
    from .cycle_id import parse_cycle
    from .params import load_params
    from .validate import validate_inputs

    start = parse_cycle(cycle)  # before params/<cycle>.yaml is opened
    params = load_params(store.params_dir, cycle)
    result = validate_inputs(inputs_dir, start, report_dir=store.validation_dir,
                             allow_stale_months=params.forecast.allow_stale_months,
                             horizon_months=params.forecast.horizon_months)
    n_overrides = check_planner_inputs(store, cycle, result.tables, params)
    given = [n for n, t in result.tables.items() if len(t)]
    rows = sum(len(t) for t in result.tables.values())
    _echo(f"OK: {len(given)} of {len(result.tables)} tables given, {rows:,} rows valid for cycle {cycle}; "
          f"{n_overrides} override(s) in {store.overrides_file(cycle)}; {len(params.scenarios)} scenario(s).")
    if result.assumptions:
        _echo("Defaults taken (listed in the pack too):\n" + "\n".join(
            f"  {a['table']}: {a['assumption']}" for a in result.assumptions))
    if len(result.warnings):
        shown = result.warnings.astype({"row": "Int64"}).astype("string").fillna("")
        _echo(f"{len(result.warnings)} warning(s):\n" + shown.to_string(index=False))


@app.command()
def validate(cycle: CycleOpt, inputs: InputsOpt = None, root: RootOpt = None) -> None:
    """Check the input files against the data contract (and the cycle's parameters) without writing anything
    but, when there are problems, their full list in data/validation/."""
    from .store import Store

    store = Store(root)
    _validate_for_cycle(store, inputs or store.inputs_dir, cycle)


@app.command()
def snapshot(
    cycle: CycleOpt,
    inputs: InputsOpt = None,
    root: RootOpt = None,
    force: Annotated[bool, typer.Option(help="replace the snapshot of a published cycle")] = False,
) -> None:
    """Validate the inputs and freeze them as the cycle's snapshot (Parquet + manifest with SHA-256)."""
    from .cycle import take_snapshot
    from .params import load_params
    from .store import Store

    store = Store(root)
    load_params(store.params_dir, cycle)
    with store.cycle_lock(cycle, command="sop snapshot"):
        snap = take_snapshot(store, cycle, inputs, force=force)
    _echo(f"Snapshot of cycle {cycle}: {snap.folder}\nfingerprint {snap.fingerprint}")
    for name, entry in snap.manifest["tables"].items():
        _echo(f"  {name:<18} {entry['rows']:>8,} rows  sha256 {entry['sha256'][:16]}")
    if snap.manifest["warnings"]:
        _echo(f"{len(snap.manifest['warnings'])} warning(s); see the pack's data-quality page.")


@app.command()
def run(
    cycle: CycleOpt,
    inputs: InputsOpt = None,
    root: RootOpt = None,
    force: Annotated[bool, typer.Option(help="re-run a cycle that is already published")] = False,
    fresh_snapshot: Annotated[
        bool, typer.Option(help="take a new snapshot of the inputs even if the cycle has one")
    ] = False,
) -> None:
    """Snapshot (if needed), run the four workbooks with papermill, render and publish reports/<cycle>/."""
    from .pack import run_cycle
    from .store import Store

    outcome = run_cycle(Store(root), cycle, inputs, force=force, fresh_snapshot=fresh_snapshot, echo=_echo)
    _echo(f"Published the pack of cycle {cycle}: {outcome.report_dir / 'index.html'}")


@app.command()
def forecast(
    cycle: CycleOpt,
    root: RootOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="folder for the result tables (default: the cycle's scratch folder)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
) -> None:
    """Run the statistical forecast of a cycle's snapshot (the same engine as the demand workbook), with a
    progress bar; writes forecast, selection, backtest, scores and hierarchy tables."""
    from .cycle import open_cycle
    from .forecast import build_forecast, model_counts
    from .store import Store

    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter(f"{fmt!r}: use parquet or csv (a CSV's text cells that begin like a formula are "
                                 "written with a leading ' so spreadsheets show them as text).", param_hint="--format")
    with Store(root).cycle_lock(cycle, command="sop forecast"):  # it reads the snapshot and writes to the cycle
        ctx = open_cycle(cycle, root=str(root) if root else "")
        fp = ctx.params.forecast
        result = build_forecast(ctx.table("sales_history"), ctx.table("promotions"), ctx.table("products"),
                                ctx.table("prices"), ctx.cycle_start, fp, progress=True)
        folder = out or (ctx.run_dir / "results")
        tables = {"forecast": result.forecast, "forecast_selection": result.selection,
                  "forecast_backtest": result.backtest, "forecast_scores": result.scores,
                  "forecast_levels": result.levels, "forecast_level_accuracy": result.level_accuracy}
        ctx.store.write_tables(folder, tables, fmt)
    _echo(f"{len(result.selection)} series forecast for cycle {ctx.cycle} (snapshot {ctx.snapshot.short_fingerprint}); "
          f"tables in {folder}")
    _echo(model_counts(result.selection).to_string(index=False))
    _echo(result.level_accuracy.to_string(index=False))


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="the new project folder (created if missing)")],
    company: Annotated[str, typer.Option(help="the company's name, shown on every page")] = "Our company",
    currency: Annotated[str, typer.Option(help="currency of prices and budget, e.g. EUR, GBP, USD")] = "EUR",
) -> None:
    """Start a project of your own: neutral params/defaults.yaml (every key commented), header-only input
    templates in inputs/, a commented mapping.yaml for `sop import`, and a README of the folder."""
    from .project import init_project

    written = init_project(folder, company, currency)
    root = folder.expanduser().resolve()
    _echo(f"New S&OP project for {company} in {root} ({len(written)} files):")
    for path in written:
        _echo(f"  {path.relative_to(root)}")
    _echo(f"\nNext: describe your extract in {root / 'mapping.yaml'}, then\n"
          f"  sop import --root {root} --cycle YYYY-MM\n  sop run --root {root} --cycle YYYY-MM")


def _demo_root(root: Path | None) -> Path:
    """Where the demo runs: ``--root``, else ``$SOP_HOME``, else the project above the working directory, else
    the working directory itself."""
    from .errors import SopError
    from .store import find_root

    if root is not None:
        return root.expanduser().resolve()
    try:
        return find_root(None)
    except SopError:
        return Path.cwd().resolve()


@app.command()
def demo(
    root: RootOpt = None,
    cycles: Annotated[str, typer.Option(help="comma-separated cycles to run in order")] = "2026-09,2026-10,2026-11",
    skus: Annotated[int, typer.Option(help="number of SKUs of the demo company")] = 56,
    inputs_only: Annotated[bool, typer.Option(help="only write the demo inputs of the last cycle")] = False,
) -> None:
    """Run the built-in demo company in a project of its own (made on the first run, with the demo's
    parameters): for each cycle, write its extract to <root>/inputs/ and run the cycle (replacing earlier demo
    runs of those cycles). Prints where the newest pack is. Refuses a project that is not the demo's."""
    from .cycle_id import parse_cycle
    from .demo import write_demo_inputs
    from .demo.meeting import hold_demo_meeting
    from .demo.project import ensure_demo_project
    from .pack import run_cycle
    from .store import Store

    wanted = [c.strip() for c in cycles.split(",") if c.strip()]
    for cycle in wanted:  # every id checked before anything is written
        parse_cycle(cycle)
    if not wanted:
        raise typer.BadParameter("give at least one cycle, e.g. --cycles 2026-10,2026-11", param_hint="--cycles")
    folder = _demo_root(root)
    if ensure_demo_project(folder):
        _echo(f"Demo project made in {folder} (the demo company's parameters in params/)")
    store = Store(folder)
    last = None
    for i, cycle in enumerate(wanted):
        with store.cycle_lock(cycle, command="sop demo"):  # the inputs it writes are the run's
            write_demo_inputs(cycle, store.inputs_dir, n_skus=skus)
            _echo(f"Demo inputs for {cycle} written to {store.inputs_dir}")
            if inputs_only:
                continue
            last = run_cycle(store, cycle, force=True, fresh_snapshot=True, echo=_echo)
        if i + 1 < len(wanted):  # the meeting decides; the next cycle's pack follows the decisions through
            decided = hold_demo_meeting(store, cycle, review_cycle=wanted[i + 1])
            if decided:
                _echo(f"Demo S&OP meeting of {cycle} decided {', '.join(decided)} (review in {wanted[i + 1]})")
    if last is not None:
        _echo(f"\nThe newest pack: {last.report_dir / 'index.html'}")


decision_app = typer.Typer(help="The decision priority log: add, list, update, close, history.", no_args_is_help=True)
app.add_typer(decision_app, name="decision")


def _warn_damaged(damaged: list[dict[str, object]]) -> None:
    """The decision log's damaged lines, on stderr: the command goes on with the lines that could be read."""
    for d in damaged:
        typer.echo(f"Warning: {d['file']} line {d['line']}: {d['problem']}. Fix or delete that line; the other "
                   "lines are read.", err=True)


def _author(author: str | None) -> str:
    import getpass

    return author or os.environ.get("SOP_AUTHOR") or getpass.getuser()


AuthorOpt = Annotated[str | None, typer.Option(help="who makes the change (default: $SOP_AUTHOR, else the login)")]


@decision_app.command("add")
def decision_add(
    title: Annotated[str, typer.Option(help="what must be decided")],
    owner: Annotated[str, typer.Option(help="who owns the decision")],
    function: Annotated[str, typer.Option(help="sales, operations, finance or executive")],
    priority: Annotated[str, typer.Option(help="high, medium or low")],
    cycle: Annotated[str, typer.Option("--cycle", "-c", help="cycle in which it is raised, YYYY-MM", callback=_cycle)],
    context: Annotated[str | None, typer.Option(help="why it comes up")] = None,
    options: Annotated[str | None, typer.Option(help="the options on the table")] = None,
    due: Annotated[str | None, typer.Option(help="due date YYYY-MM-DD")] = None,
    expected_kpi: Annotated[str | None, typer.Option(help="the KPI it should move")] = None,
    expected_value: Annotated[str | None, typer.Option(help="by how much (a number, in the KPI's unit)")] = None,
    review_cycle: Annotated[str | None, typer.Option(help="cycle in which to check its effect, YYYY-MM",
                                                     callback=_cycle)] = None,
    author: AuthorOpt = None,
    root: RootOpt = None,
) -> None:
    """Raise a new decision in the log."""
    from .decisions import add_event
    from .store import Store

    fields = {"raised_cycle": cycle, "title": title, "owner": owner, "function": function, "priority": priority,
              "context": context, "options": options, "due": due, "expected_kpi": expected_kpi,
              "expected_value": expected_value, "review_cycle": review_cycle}
    with Store(root).decision_log() as events:
        _warn_damaged(events.damaged)
        ev = add_event(events, fields, _author(author))
        events.append(ev)
    _echo(f"{ev['id']} added: {ev['fields']['title']}")


@decision_app.command("list")
def decision_list(
    all_: Annotated[bool, typer.Option("--all", help="closed and dropped ones too")] = False,
    root: RootOpt = None,
) -> None:
    """Open decisions by priority and due date (age in days, overdue flagged); --all for every decision."""
    import datetime as dt

    from .decisions import open_items, replay
    from .store import Store

    events, damaged = Store(root).read_decision_log()
    _warn_damaged(damaged)
    log = replay(events)
    if log.empty:
        _echo("The decision log is empty. Add one with `sop decision add`.")
        return
    shown = log if all_ else open_items(log, dt.date.today())
    cols = ["id", "priority", "status", "title", "owner", "function", "due", "raised_cycle"]
    cols += [c for c in ("age_days", "overdue") if c in shown]
    _echo(shown[cols].fillna("").to_string(index=False))


@decision_app.command("update")
def decision_update(
    decision_id: Annotated[str, typer.Argument(help="e.g. D-001")],
    set_: Annotated[list[str], typer.Option("--set", help="field=value; repeat for several fields")],
    author: AuthorOpt = None,
    root: RootOpt = None,
) -> None:
    """Change fields of a decision (e.g. --set status=decided --set due=2026-12-20); the change is logged."""
    from .decisions import DecisionError, update_event
    from .store import Store

    fields: dict[str, str] = {}
    for item in set_:
        if "=" not in item:
            raise DecisionError(f"--set takes field=value (got '{item}').")
        key, value = item.split("=", 1)
        fields[key.strip()] = value
    with Store(root).decision_log() as events:
        _warn_damaged(events.damaged)
        ev = update_event(events, decision_id, fields, _author(author))
        events.append(ev)
    _echo(f"{decision_id} updated: " + ", ".join(f"{k}={v}" for k, v in ev["fields"].items()))


@decision_app.command("close")
def decision_close(
    decision_id: Annotated[str, typer.Argument(help="e.g. D-001")],
    decision: Annotated[str, typer.Option(help="what was decided")],
    rationale: Annotated[str, typer.Option(help="why")],
    author: AuthorOpt = None,
    root: RootOpt = None,
) -> None:
    """Close a decision with what was decided and why."""
    from .decisions import close_event
    from .store import Store

    with Store(root).decision_log() as events:
        _warn_damaged(events.damaged)
        events.append(close_event(events, decision_id, decision, rationale, _author(author)))
    _echo(f"{decision_id} closed.")


@decision_app.command("history")
def decision_history(
    decision_id: Annotated[str, typer.Argument(help="e.g. D-001")], root: RootOpt = None
) -> None:
    """Every change of one decision, with time and author."""
    from .decisions import DecisionError, history
    from .store import Store

    events, damaged = Store(root).read_decision_log()
    _warn_damaged(damaged)
    h = history(events, decision_id)
    if h.empty:
        raise DecisionError(f"No decision {decision_id} in the log.")
    _echo(h.to_string(index=False))


@app.command()
def status(root: RootOpt = None) -> None:
    """List cycles: snapshot fingerprint, published or not."""
    from .store import Store

    store = Store(root)
    cycles = store.cycles()
    if not cycles:
        _echo("No cycles yet. Start with `sop run --cycle YYYY-MM` or `make demo`.")
    from .runs import find_interrupted

    for c in cycles:
        try:
            fingerprint = str(store.read_manifest(c)["fingerprint"])[:12]
            published = str(store.published_info(c).get("fingerprint", ""))[:12]
        except SopError as exc:  # one damaged cycle does not hide the others
            _echo(f"{c}  damaged: {exc}")
            continue
        if not published:
            line = f"{c}  snapshot {fingerprint}  not published"
        elif published == fingerprint:
            line = f"{c}  snapshot {fingerprint}  published"
        else:  # `sop snapshot --force` since: the pack still shows the published one until the cycle is re-run
            line = f"{c}  snapshot {published}  published (a newer snapshot {fingerprint} is not run yet)"
        stale = find_interrupted(store.runs_dir(c))
        if stale:
            line += f"  ({len(stale)} interrupted run(s): the next `sop run` clears them)"
        _echo(line)


@app.command("import")
def import_(
    mapping: Annotated[
        Path | None, typer.Option("--map", help="the mapping file (default: <root>/mapping.yaml); docs/import.md")
    ] = None,
    cycle: Annotated[
        str | None,
        typer.Option("--cycle", "-c", help="validate for this cycle, YYYY-MM (default: the month after the last "
                                           "sales month)"),
    ] = None,
    root: RootOpt = None,
    inputs: InputsOpt = None,
) -> None:
    """Turn your own extracts (order lines, Excel, Parquet, a database) into the contract's input files as the
    mapping file says, then validate them as `sop validate` does. Nothing is written if a table has a problem."""
    from .cycle_id import parse_cycle
    from .errors import ParamsError
    from .importer import build_tables, load_mapping, write_inputs
    from .importer.write import cycle_after_sales
    from .store import Store

    store = Store(root)
    if cycle is not None:
        parse_cycle(cycle)  # a malformed --cycle stops before anything is written
    mapping_file = (mapping or store.root / "mapping.yaml").expanduser().resolve()
    inputs_dir = inputs or store.inputs_dir
    result = build_tables(load_mapping(mapping_file), mapping_file.parent, echo=_echo)
    _echo("")
    write_inputs(result, inputs_dir, echo=_echo)
    chosen = cycle or cycle_after_sales(result, inputs_dir)
    if chosen is None:
        raise ParamsError(f"The inputs were written, but {inputs_dir} has no sales_history with months to tell "
                          "the cycle: pass --cycle YYYY-MM to validate them.")
    _echo(f"\nValidating the inputs in {inputs_dir} for cycle {chosen} …")
    if cycle is None:
        _echo(f"(cycle {chosen}: the month after the last sales month; pass --cycle to choose)")
    _validate_for_cycle(store, inputs_dir, chosen)


def main() -> None:
    try:
        app(standalone_mode=False)
    except SopError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("Interrupted; nothing was published.", err=True)
        sys.exit(130)
    except RunInterrupted as exc:
        typer.echo(f"{exc}: the run's processes were stopped and its partial folder removed; nothing was published.",
                   err=True)
        sys.exit(128 + exc.signum)
    except Exception as exc:  # usage errors come here in non-standalone mode, from click or typer's own copy
        import click
        from typer import exceptions as typer_exceptions

        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()  # a ClickException: bad or missing option, with the usage line
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit | typer_exceptions.Exit):
            sys.exit(getattr(exc, "exit_code", 0))
        if isinstance(exc, click.exceptions.Abort | typer_exceptions.Abort):
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        if os.environ.get("SOP_DEBUG"):
            raise
        typer.echo(f"Error: unexpected {exc.__class__.__name__}: {exc}\nThis is a bug in the suite, not in your "
                   "data: please report it with the command you ran (SOP_DEBUG=1 shows the traceback).", err=True)
        sys.exit(1)
