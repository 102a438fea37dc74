"""A project's commands: init (a company's own), demo (the demo company's), import (an extract into inputs/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sop_lib.cli.common import InputsOpt, RootOpt, app
from sop_lib.cli.common import echo as _echo
from sop_lib.cli.cycle_commands import validate_for_cycle as _validate_for_cycle
from sop_lib.core.cycle import Cycle


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="the new project folder (created if missing)")],
    company: Annotated[str, typer.Option(help="the company's name, shown on every page")] = "Our company",
    currency: Annotated[str, typer.Option(help="currency of prices and budget, e.g. EUR, GBP, USD")] = "EUR",
) -> None:
    """Start a project of your own: neutral params/defaults.yaml (every key commented), header-only input
    templates in inputs/, a commented mapping.yaml for `sop import`, and a README of the folder."""
    from sop_lib.data.project import init_project

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
    from sop_lib.core.errors import SopError
    from sop_lib.data.project import find_root

    if root is not None:
        return root.expanduser().resolve()
    try:
        return find_root(None)
    except SopError:
        return Path.cwd().resolve()


@app.command()
def demo(
    root: RootOpt = None,
    cycles: Annotated[str, typer.Option(help="comma-separated cycles to run in order (months YYYY-MM or quarters "
                                        "YYYY-Qn, e.g. 2026-Q3,2026-Q4)")] = "2026-09,2026-10,2026-11",
    skus: Annotated[int, typer.Option(help="number of SKUs of the demo company")] = 56,
    inputs_only: Annotated[bool, typer.Option(help="only write the demo inputs of the last cycle")] = False,
) -> None:
    """Run the built-in demo company in a project of its own (made on the first run, with the demo's
    parameters): for each cycle, write its extract to <root>/inputs/ and run the cycle (replacing earlier demo
    runs of those cycles). Prints where the newest pack is. Refuses a project that is not the demo's."""
    from sop_lib.data.store import Store
    from sop_lib.demo import write_demo_inputs
    from sop_lib.demo.meeting import hold_demo_meeting
    from sop_lib.demo.project import ensure_demo_project, set_demo_cadence
    from sop_lib.pack.run import run_cycle

    wanted = [Cycle.parse(c.strip()) for c in cycles.split(",") if c.strip()]  # before anything is written
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
            set_demo_cadence(folder, cycle)  # a quarter (2026-Q4) in the monthly demo: cadence in its own file
            last = run_cycle(store, cycle, force=True, fresh_snapshot=True, echo=_echo)
        if i + 1 < len(wanted):  # the meeting decides; the next cycle's pack follows the decisions through
            decided = hold_demo_meeting(store, cycle, review_cycle=wanted[i + 1])
            if decided:
                _echo(f"Demo S&OP meeting of {cycle} decided {', '.join(decided)} (review in {wanted[i + 1]})")
    if last is not None:
        _echo(f"\nThe newest pack: {last.report_dir / 'index.html'}")


@app.command("import")
def import_(
    mapping: Annotated[
        Path | None, typer.Option("--map", help="the mapping file (default: <root>/mapping.yaml); docs/import.md")
    ] = None,
    cycle: Annotated[
        Cycle | None,
        typer.Option("--cycle", "-c", help="validate for this cycle, YYYY-MM (default: the month after the last "
                                           "sales month)", parser=Cycle.parse, metavar="YYYY-MM"),
    ] = None,
    root: RootOpt = None,
    inputs: InputsOpt = None,
) -> None:
    """Turn your own extracts (order lines, Excel, Parquet, a database) into the contract's input files as the
    mapping file says, then validate them as `sop validate` does. Nothing is written if a table has a problem."""
    from sop_lib.core.errors import ParamsError
    from sop_lib.data.importer import build_tables, load_mapping, write_inputs
    from sop_lib.data.importer.write import cycle_after_sales
    from sop_lib.data.store import Store

    store = Store(root)
    mapping_file = (mapping or store.root / "mapping.yaml").expanduser().resolve()
    inputs_dir = inputs or store.inputs_dir
    result = build_tables(load_mapping(mapping_file), mapping_file.parent, echo=_echo)
    _echo("")
    write_inputs(result, inputs_dir, echo=_echo)
    from sop_lib.data.params import default_cadence

    cadence = default_cadence(store.params_dir)
    chosen = cycle or cycle_after_sales(result, inputs_dir, cadence)
    if chosen is None:
        raise ParamsError(f"The inputs were written, but {inputs_dir} has no sales_history with months to tell "
                          "the cycle: pass --cycle YYYY-MM to validate them.")
    _echo(f"\nValidating the inputs in {inputs_dir} for cycle {chosen} …")
    if cycle is None:
        what = "the month after" if cadence == "monthly" else "the quarter of the month after"
        _echo(f"(cycle {chosen}: {what} the last sales month; pass --cycle to choose)")
    _validate_for_cycle(store, inputs_dir, chosen)
