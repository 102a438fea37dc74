"""The cycle's commands: validate, snapshot, run, pdf, forecast, status."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sop_lib.cli.common import CycleOpt, InputsOpt, RootOpt, app
from sop_lib.cli.common import echo as _echo
from sop_lib.core.errors import SopError

if TYPE_CHECKING:
    from sop_lib.core.cycle import Cycle
    from sop_lib.data.store import Store


def validate_for_cycle(store: Store, inputs_dir: Path, cycle: Cycle) -> None:
    """Validate ``inputs_dir`` and the planners' inputs for ``cycle`` and say what passed, which defaults the
    data makes the pack take, and the warnings. Problems raise (exit 2); the full list goes to data/validation/."""
    from sop_lib.data.context import check_planner_inputs
    from sop_lib.data.params import load_params
    from sop_lib.data.validate import validate_inputs

    params = load_params(store.params_dir, cycle)
    result = validate_inputs(inputs_dir, cycle.start, report_dir=store.validation_dir,
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
    from sop_lib.data.store import Store

    store = Store(root)
    validate_for_cycle(store, inputs or store.inputs_dir, cycle)


@app.command()
def snapshot(
    cycle: CycleOpt,
    inputs: InputsOpt = None,
    root: RootOpt = None,
    force: Annotated[bool, typer.Option(help="replace the snapshot of a published cycle")] = False,
) -> None:
    """Validate the inputs and freeze them as the cycle's snapshot (Parquet + manifest with SHA-256)."""
    from sop_lib.data.context import take_snapshot
    from sop_lib.data.params import load_params
    from sop_lib.data.store import Store

    store = Store(root)
    params = load_params(store.params_dir, cycle)  # a parameter problem stops it before the lock is taken
    with store.cycle_lock(cycle, command="sop snapshot"):
        snap = take_snapshot(store, cycle, inputs, force=force, params=params)
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
    from sop_lib.data.store import Store
    from sop_lib.pack.run import run_cycle

    outcome = run_cycle(Store(root), cycle, inputs, force=force, fresh_snapshot=fresh_snapshot, echo=_echo)
    _echo(f"Published the pack of cycle {cycle}: {outcome.report_dir / 'index.html'}")


@app.command()
def pdf(
    cycle: CycleOpt,
    root: RootOpt = None,
) -> None:
    """Print the cycle's published pack into one PDF for the board (A4 landscape, with headless Chromium): the
    executive summary, the four workbooks, the KPI scorecard and the decisions, page numbers, cycle and snapshot
    in the footer. Writes reports/<cycle>/sop_<cycle>.pdf."""
    from sop_lib.core.errors import CycleNotFound
    from sop_lib.data.params import load_params
    from sop_lib.data.store import Store
    from sop_lib.pack.pdf import link_from_index, print_pack

    store = Store(root)
    pack = store.report_dir(cycle)
    if not (pack / "index.html").exists():
        raise CycleNotFound(f"Cycle {cycle} has no published pack ({pack / 'index.html'} is missing): run "
                            f"`sop run --cycle {cycle}` first.")
    params = load_params(store.params_dir, cycle)
    with store.cycle_lock(cycle, command="sop pdf"):  # a run publishing the cycle meanwhile would replace the pack
        made = print_pack(pack, cycle.id, params.company, echo=_echo)
        link_from_index(pack, made)
    _echo(f"Board PDF of cycle {cycle}: {made.path} ({made.pages} pages: "
          + ", ".join(f"{title} p. {first}" for title, first in made.parts) + ")")


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
    from sop_lib.data.context import open_cycle
    from sop_lib.data.store import Store
    from sop_lib.demand.forecast import build_forecast, model_counts

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
def status(root: RootOpt = None) -> None:
    """List cycles: snapshot fingerprint, published or not."""
    from sop_lib.data.store import Store

    store = Store(root)
    cycles = store.cycles()
    if not cycles:
        _echo("No cycles yet. Start with `sop run --cycle YYYY-MM` or `make demo`.")
    from sop_lib.pack.runs import find_interrupted

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
