"""What goes into a cycle's overrides workbook (``sop overrides template``): the lists its input sheet is
validated against, the statistical forecast to read while filling it, and the rows already entered.

Everything here comes from files the suite already has at template time, read through the ``Store``:

- the cycle's snapshot (its SKUs, families and regions; its fingerprint names what the template was made from)
  and its parameters (the forecast horizon: the months an override may name);
- the statistical forecast, the newest the cycle has (a finished or running ``sop run``, ``sop forecast``, or a
  workbook run in JupyterLab); without one, the last published cycle's forecast of the months it shares with
  this cycle's horizon (a month older, but the best there is without running the forecast), and the sheet
  says which it is and how to get the cycle's own;
- the rows of the cycle's overrides file (a CSV, or the workbook itself when it is rewritten with ``--force``);
- the owners named in earlier published cycles' overrides, offered as a list (there is no owner list in
  ``params/``: any name is accepted).

The workbook itself is written by ``overrides_xlsx``. No demand code runs here: the forecast is read as a result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sop_lib.core.cycle import Cycle
from sop_lib.core.errors import SopError
from sop_lib.core.labels import ALL_FAMILIES, ALL_REGIONS
from sop_lib.data.overrides import LEVELS, OVERRIDE_COLUMNS
from sop_lib.data.overrides_file import read_overrides_file
from sop_lib.data.params import load_params
from sop_lib.data.store import Store


@dataclass(frozen=True)
class TemplateContent:
    """Everything the overrides workbook shows; ``forecast`` is wide (family, region, one column per month
    ``YYYY-MM``, total), empty when there is no forecast to show, and ``forecast_note`` says where it is from."""

    cycle: str
    fingerprint: str
    captured_at: str
    months: list[str]
    regions: list[str]
    skus: list[str]
    families: list[str]
    owners: list[str]
    forecast: pd.DataFrame
    forecast_note: str
    rows: pd.DataFrame  # text cells, OVERRIDE_COLUMNS: the rows the input sheet starts with
    rows_from: str = ""  # the file they were copied from
    dropped_columns: list[str] = field(default_factory=list)  # columns of that file the input sheet has not

    @property
    def targets(self) -> list[str]:
        """Every name a ``target`` may take: SKUs, families and regions."""
        return list(dict.fromkeys([*self.skus, *self.families, *self.regions]))

    @property
    def region_choices(self) -> list[str]:
        """The region list of the input sheet: every region, and the label for all of them (as a blank cell)."""
        return [ALL_REGIONS, *self.regions]

    @property
    def levels(self) -> list[str]:
        return list(LEVELS)


def template_content(store: Store, cycle: Cycle | str, prefill: Path | None = None) -> TemplateContent:
    """Gather a cycle's template from its snapshot, parameters, forecast and ``prefill`` (an overrides file,
    ``.csv`` or ``.xlsx``, whose rows the input sheet starts with; None: none). ``CycleNotFound`` when the
    cycle has no snapshot yet (the message says how to take one)."""
    cycle = Cycle.parse(cycle)
    snapshot = store.read_snapshot(cycle)
    horizon = load_params(store.params_dir, cycle).forecast.horizon_months
    months = list(pd.date_range(cycle.start, periods=horizon, freq="MS"))
    products = snapshot["products"]
    forecast, note = reference_forecast(store, cycle, months)
    rows, dropped = _prefill_rows(prefill)
    return TemplateContent(
        cycle=cycle.id, fingerprint=snapshot.fingerprint, captured_at=str(snapshot.manifest.get("captured_at", "")),
        months=[f"{m:%Y-%m}" for m in months],
        regions=sorted(str(r) for r in snapshot["sales_history"]["region"].unique()),
        skus=sorted(str(s) for s in products["sku"].unique()),
        families=sorted(str(f) for f in products["family"].unique()),
        owners=_known_owners(store, cycle, rows), forecast=forecast, forecast_note=note, rows=rows,
        rows_from=str(prefill) if prefill is not None and prefill.exists() else "", dropped_columns=dropped,
    )


def forecast_by_family_region(forecast: pd.DataFrame, months: list[pd.Timestamp]) -> pd.DataFrame:
    """The statistical forecast summed to family × region × month, wide: one row per family and region, then
    each family over all regions (region ``All regions``), each region over all families (family
    ``All families``) and the total; one column per month of ``months`` the forecast has (``YYYY-MM``), then
    ``total``. ``forecast`` needs ``family``, ``region``, ``period``, ``forecast``."""
    frame = forecast.assign(period=pd.to_datetime(forecast["period"]).dt.to_period("M").dt.to_timestamp())
    frame = frame[frame["period"].isin(months)]
    cols = [f"{m:%Y-%m}" for m in months if m in set(frame["period"])]
    if frame.empty:
        return pd.DataFrame(columns=["family", "region", *cols, "total"])
    frame = frame.assign(family=frame["family"].astype(str), region=frame["region"].astype(str),
                         month=frame["period"].dt.strftime("%Y-%m"))

    def wide(keys: dict[str, str | None]) -> pd.DataFrame:
        by = [k for k, v in keys.items() if v is None]
        part = frame.assign(**{k: v for k, v in keys.items() if v is not None})
        out = part.pivot_table(index=list(keys), columns="month", values="forecast", aggfunc="sum", fill_value=0.0)
        return out.reindex(columns=cols, fill_value=0.0).reset_index().sort_values(by or list(keys))

    pieces = [wide({"family": None, "region": None}), wide({"family": None, "region": ALL_REGIONS}),
              wide({"family": ALL_FAMILIES, "region": None}), wide({"family": ALL_FAMILIES, "region": ALL_REGIONS})]
    table = pd.concat(pieces[:2], ignore_index=True)
    families = {f: i for i, f in enumerate(sorted(frame["family"].unique()))}
    table = table.assign(_f=table["family"].map(families), _t=table["region"].eq(ALL_REGIONS))
    table = table.sort_values(["_f", "_t", "region"], kind="stable").drop(columns=["_f", "_t"])
    table = pd.concat([table, *pieces[2:]], ignore_index=True)
    table["total"] = table[cols].sum(axis=1)
    table.columns.name = None
    return table[["family", "region", *cols, "total"]]


def reference_forecast(store: Store, cycle: Cycle, months: list[pd.Timestamp]) -> tuple[pd.DataFrame, str]:
    """The forecast to show, by family × region × month, and a sentence saying where it is from (see the
    module's docstring for the order in which the sources are tried)."""
    own = _own_forecasts(store, cycle)
    if own:
        path, made, current = own[0]
        when = f"{made:%Y-%m-%d %H:%M}"
        note = f"Statistical forecast of cycle {cycle}, from {path} (made {when})."
        if not current:
            note += (" It was made from an earlier snapshot than the one this template lists: to refresh it run "
                     f"`sop forecast --cycle {cycle}`, then `sop overrides template --cycle {cycle} --force` "
                     "(your rows are kept).")
        return forecast_by_family_region(pd.read_parquet(path), months), note
    how = (f"To see cycle {cycle}'s own forecast here, run `sop forecast --cycle {cycle}` (or `sop run`), then "
           f"`sop overrides template --cycle {cycle} --force` (the rows you entered are kept).")
    for earlier in reversed(store.published_cycles(before=cycle)):
        path = store.published_dir(earlier) / "forecast.parquet"
        if path.exists():
            table = forecast_by_family_region(pd.read_parquet(path), months)
            if len(table):
                return table, (f"Cycle {cycle} has no statistical forecast yet. Shown: the statistical forecast "
                               f"of the last published cycle, {earlier}, for the months of {cycle}'s horizon it "
                               f"covers (made a month earlier, from older data). {how}")
    return pd.DataFrame(columns=["family", "region", "total"]), f"No statistical forecast exists yet. {how}"


def _own_forecasts(store: Store, cycle: Cycle) -> list[tuple[Path, dt.datetime, bool]]:
    """The cycle's forecast files, newest first: (path, when written, made from the current snapshot). A
    published forecast knows its snapshot's fingerprint; another is taken as current when it was written after
    the snapshot was captured."""
    manifest = store.read_manifest(cycle)
    fingerprint = str(manifest["fingerprint"])
    captured = pd.Timestamp(str(manifest.get("captured_at") or "1970-01-01T00:00:00+00:00"))
    paths = [store.published_dir(cycle) / "forecast.parquet", store.scratch_dir(cycle) / "results" / "forecast.parquet",
             *sorted(store.runs_dir(cycle).glob("*/results/forecast.parquet"))]
    found = []
    for path in (p for p in paths if p.exists()):
        made = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc)
        if path.parent == store.published_dir(cycle):
            current = str(store.published_info(cycle).get("fingerprint", "")) == fingerprint
        else:
            current = pd.Timestamp(made) >= captured
        found.append((path, made, current))
    return sorted(found, key=lambda f: (f[2], f[1]), reverse=True)  # a current one first, then the newest


def _prefill_rows(path: Path | None) -> tuple[pd.DataFrame, list[str]]:
    """The non-blank rows of an overrides file as text cells in ``OVERRIDE_COLUMNS``, and the file's other
    columns (which the input sheet does not have)."""
    if path is None or not path.exists():
        return pd.DataFrame(columns=OVERRIDE_COLUMNS), []
    cells = read_overrides_file(path).cells
    text = cells.map(lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v).strip())
    text = text[text.ne("").any(axis=1)]
    dropped = [str(c) for c in text.columns if c not in OVERRIDE_COLUMNS and text[c].ne("").any()]
    return text.reindex(columns=OVERRIDE_COLUMNS, fill_value="").reset_index(drop=True), dropped


def _known_owners(store: Store, cycle: Cycle, rows: pd.DataFrame) -> list[str]:
    """Owners of the rows entered and of earlier published cycles' overrides."""
    names = set(rows["owner"]) if len(rows) else set()
    for earlier in store.published_cycles(before=cycle):
        path = store.published_dir(earlier) / "overrides.parquet"
        try:
            names |= set(pd.read_parquet(path, columns=["owner"])["owner"].astype(str)) if path.exists() else set()
        except (OSError, ValueError, SopError):
            continue  # an unreadable old result only loses its names from a suggestion list
    return sorted(n for n in names if n.strip())
