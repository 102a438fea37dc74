"""The plan in Excel: ``reports/<cycle>/sop_<cycle>.xlsx``, written into every pack beside its pages.

A cover sheet (the cycle, the snapshot's fingerprint, the plan's totals, what each sheet holds), then one Excel
table per sheet (``pack.sheets``: demand, family subtotals, overrides, supply plan, unmet demand, resources,
utilisation, plan financials, plan vs budget, the two bridges, the scorecard, the decisions). Numbers are written
as computed, unrounded; the number formats round them for display, so totals in Excel tie to the pack's.

:func:`write_plan_workbook` is pure apart from the one file it writes (tables in, workbook out);
:func:`write_cycle_workbook` gathers a run's tables through ``Store`` for ``pack.run.render_pack``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.workbook import Workbook

from sop_lib.core.errors import CycleNotFound, SopError
from sop_lib.core.files import replacing
from sop_lib.data.store import Store
from sop_lib.pack.sheets import SHEETS, TABLES, WorkbookInfo
from sop_lib.pack.summary import Summary
from sop_lib.pack.xlsx import WORKBOOK_OPTIONS, Kind, SheetSpec, Styles, write_cover, write_table
from sop_lib.review.decisions import PRIORITIES

__all__ = ["WorkbookInfo", "build_sheets", "decision_table", "workbook_name", "write_cycle_workbook",
           "write_plan_workbook"]


def workbook_name(cycle: str) -> str:
    """``sop_<cycle>.xlsx``: the file's name in the pack (the index page links to it)."""
    return f"sop_{cycle}.xlsx"


def build_sheets(tables: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> list[SheetSpec]:
    """Every sheet after the cover, in order. ``tables`` maps the names in ``sheets.TABLES`` to the run's tables
    (``None``: the step that writes it did not run; an optional table the company lacks may be empty)."""
    given = {name: tables.get(name) for name in TABLES}
    return [sheet(given, info) for sheet in SHEETS]


def _total(frame: pd.DataFrame | None, column: str) -> float | None:
    if frame is None or column not in frame.columns or frame[column].isna().all():
        return None
    return float(frame[column].sum())


def _facts(tables: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> list[tuple[str, Any, Kind]]:
    """The cover's lines: who, which cycle and snapshot, and the plan's totals (to tie against the pack)."""
    consensus = tables.get("consensus")
    months = ""
    if consensus is not None and len(consensus):
        months = f" ({consensus['period'].min():%Y-%m} – {consensus['period'].max():%Y-%m})"
    facts: list[tuple[str, Any, Kind]] = [
        ("Company", info.company or "(not named in params)", "text"),
        ("Cycle", info.cycle, "text"),
        ("Snapshot fingerprint", info.fingerprint, "text"),
        ("Snapshot captured", info.captured_at, "text"),
        ("Workbook written", dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "text"),
        ("Money in", info.currency if info.priced else f"{info.currency} (no price list: the plan is in units)",
         "text"),
        (f"Consensus demand{months}, units", _total(consensus, "consensus"), "units"),
    ]
    if info.priced:
        facts.append(("Plan revenue over the horizon", _total(tables.get("plan_financials"), "revenue"), "money"))
    facts.append(("Unmet demand, units", _total(tables.get("supply_plan"), "unmet"), "units"))
    facts.append(("Utilisation colours", f"ok below {info.warn_utilisation:.0%} · tight from "
                  f"{info.warn_utilisation:.0%} to {info.max_utilisation:.0%} · over capacity above "
                  f"{info.max_utilisation:.0%} (params: capacity.warn_utilisation, max_utilisation)", "text"))
    facts.append(("Numbers", "as computed, unrounded: the formats round them for display only", "text"))
    return facts


def write_plan_workbook(path: Path, tables: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> Path:
    """Write the workbook to ``path`` (through a temporary file beside it, renamed when complete).

    Raises ``SopError`` naming the file when it cannot be written.
    """
    sheets = build_sheets(tables, info)
    contents = pd.DataFrame({"sheet": [s.name for s in sheets], "what it holds": [s.holds for s in sheets],
                             "rows": [s.rows for s in sheets]})
    try:
        with replacing(path, suffix=".partial") as partial:
            wb = Workbook(str(partial), WORKBOOK_OPTIONS)
            styles = Styles(wb, info.currency)
            write_cover(wb, styles, f"S&OP plan — cycle {info.cycle}", _facts(tables, info), contents)
            for sheet in sheets:
                write_table(wb, sheet, styles, info.currency, info.bands)
            wb.close()  # the file is written here, in one go
    except (OSError, FileCreateError) as exc:
        raise SopError(f"Cannot write the Excel workbook {path}: {getattr(exc, 'strerror', None) or exc}.") from None
    return path


def decision_table(candidates: pd.DataFrame, known: set[str], log: pd.DataFrame, cycle: str) -> pd.DataFrame:
    """The decisions sheet's rows: this cycle's candidates not yet covered by the log (``id`` new, owner the
    function, to assign), then the log's items, open before decided before closed, each by priority and due."""
    fresh = candidates[~candidates["key"].isin(known)].assign(
        id="new", status="new", raised_cycle=cycle, owner=lambda d: d["function"] + " (to assign)")
    items = log.assign(_s=log["status"].map({"open": 0, "decided": 1}).fillna(2),
                       _p=log["priority"].map({p: i for i, p in enumerate(PRIORITIES)}))
    items = items.sort_values(["_s", "_p", "due", "id"], na_position="last").drop(columns=["_s", "_p"])
    if not len(items):  # concatenating an empty log would warn (pandas' dtype rule for empty frames is changing)
        return fresh.reset_index(drop=True)
    if not len(fresh):
        return items.reset_index(drop=True)
    # columns one side lacks are all-NA there: drop them from that side so the result's dtypes are the other's
    return pd.concat([fresh.dropna(axis=1, how="all"), items.dropna(axis=1, how="all")], ignore_index=True
                     ).reindex(columns=list(dict.fromkeys([*fresh.columns, *items.columns])))


def _read(store: Store, cycle: str, run_dir: Path, name: str) -> pd.DataFrame | None:
    try:
        return store.read_result(cycle, run_dir, name)
    except CycleNotFound:
        return None


def write_cycle_workbook(store: Store, run_dir: Path, summary: Summary, target: Path) -> Path:
    """``target / sop_<cycle>.xlsx`` from the run's results (``run_dir``, else the cycle's published ones), its
    snapshot and parameters and the decisions of ``summary``; called by ``render_pack`` while the pack is still in
    its staging folder, so the workbook is published with the pages or not at all."""
    cycle, snapshot, params = summary.cycle, summary.snapshot, summary.params
    tables: dict[str, pd.DataFrame | None] = {name: _read(store, cycle, run_dir, name) for name in TABLES
                                              if name not in ("products", "decisions")}
    tables["products"] = snapshot["products"]
    tables["decisions"] = decision_table(summary.candidates, summary.known, summary.log, cycle)
    info = WorkbookInfo(
        cycle=cycle, company=params.company, currency=params.finance.currency, fingerprint=snapshot.fingerprint,
        captured_at=str(snapshot.manifest.get("captured_at", "")), interval_level=params.forecast.interval_level,
        warn_utilisation=params.capacity.warn_utilisation, max_utilisation=params.capacity.max_utilisation,
        priced=snapshot.priced, costed=snapshot.costed, capacity=snapshot.capacity_modelled,
        budgeted=snapshot.budgeted)
    return write_plan_workbook(target / workbook_name(cycle), tables, info)
