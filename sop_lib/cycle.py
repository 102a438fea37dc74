"""A planning cycle as the workbooks see it: parameters, the frozen snapshot, and where results go."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import CycleAlreadyPublished, SopError
from .params import CycleParams, load_params
from .store import Snapshot, Store, parse_cycle
from .validate import validate_inputs


@dataclass
class CycleContext:
    """Everything a workbook needs. ``run_dir`` receives this run's results; earlier steps' results are
    read from it first, then from the cycle's published results."""

    store: Store
    cycle: str
    params: CycleParams
    snapshot: Snapshot
    run_dir: Path

    @property
    def cycle_start(self) -> pd.Timestamp:
        return parse_cycle(self.cycle)

    def table(self, name: str) -> pd.DataFrame:
        """An input table from the snapshot (a copy: the snapshot itself stays frozen)."""
        return self.snapshot[name].copy()

    def result(self, name: str) -> pd.DataFrame:
        return self.store.read_result(self.cycle, self.run_dir, name)

    def save(self, name: str, frame: pd.DataFrame) -> Path:
        return self.store.write_result(self.run_dir, name, frame)

    def published_plans(self, name: str = "forecast", fallback: str | None = None) -> dict[str, pd.DataFrame]:
        """Result ``name`` as each earlier cycle published it, by cycle id (the archive). A cycle published
        without it gives its ``fallback`` result instead, or is left out."""
        out = {}
        for c in self.store.published_cycles(before=self.cycle):
            for n in (name, fallback):
                if n and (self.store.published_dir(c) / f"{n}.parquet").exists():
                    out[c] = self.store.read_published(c, n)
                    break
        return out

    def earlier_inputs(self, name: str) -> dict[str, pd.DataFrame]:
        """Input table ``name`` as each earlier published cycle's snapshot froze it, by cycle id (e.g. the price
        list a plan was made with)."""
        out = {}
        for c in self.store.published_cycles(before=self.cycle):
            try:
                out[c] = self.store.read_snapshot(c)[name]
            except (KeyError, SopError):
                continue  # a snapshot without it (or gone): that plan is valued at today's table
        return out


def open_cycle(
    cycle: str = "", root: str = "", run_dir: str = "", overrides: dict[str, Any] | None = None
) -> CycleContext:
    """Open a cycle for a workbook. Empty ``cycle`` = the latest cycle with a snapshot; empty ``run_dir``
    = the cycle's scratch folder (so hand runs in JupyterLab never touch published results)."""
    store = Store(root or None)
    cycle = cycle or store.latest_cycle()
    params = load_params(store.params_dir, cycle, overrides)
    snapshot = store.read_snapshot(cycle)
    folder = Path(run_dir) if run_dir else store.scratch_dir(cycle)
    (folder / "results").mkdir(parents=True, exist_ok=True)
    return CycleContext(store, cycle, params, snapshot, folder)


def take_snapshot(store: Store, cycle: str, inputs_dir: Path | None = None, force: bool = False) -> Snapshot:
    """Validate the inputs folder and freeze it as the cycle's snapshot.

    Raises ``InputInvalid`` (every problem listed) before writing anything, and ``CycleAlreadyPublished``
    when the cycle was published and ``force`` is not set.
    """
    start = parse_cycle(cycle)
    if store.is_published(cycle) and not force:
        raise CycleAlreadyPublished(
            f"Cycle {cycle} is already published; its snapshot is what its pack shows. "
            "Pass --force to take a new snapshot and re-run it (the published version is kept under superseded/)."
        )
    folder = inputs_dir or store.inputs_dir
    validated = validate_inputs(folder, start)
    return store.write_snapshot(cycle, validated.tables, validated.sources, validated.warnings)


def check_planner_inputs(store: Store, cycle: str, tables: dict[str, pd.DataFrame], params: CycleParams) -> int:
    """Check what planners add to the data before anything runs: the cycle's overrides file against the
    series and horizon the forecast will have, and every scenario's resources and families. Returns the
    number of overrides; raises ``OverridesInvalid`` or ``ScenarioError`` (exit code 2) naming each problem."""
    from .overrides import validate_overrides
    from .scenarios import apply_scenario

    start = parse_cycle(cycle)
    products = tables["products"]
    keys = tables["sales_history"][["sku", "region"]].drop_duplicates()
    months = pd.DataFrame({"period": pd.date_range(start, periods=params.forecast.horizon_months, freq="MS")})
    skeleton = keys.merge(months, how="cross")
    skeleton["family"] = skeleton["sku"].map(products.set_index("sku")["family"])
    skeleton["forecast"] = 0.0
    overrides = validate_overrides(store.read_overrides(cycle), skeleton, products,
                                   source=str(store.overrides_file(cycle)))
    empty_plan = pd.DataFrame(columns=["sku", "region", "period", "units"])
    for name, spec in params.scenarios.items():
        apply_scenario(empty_plan, tables["capacity"], tables["prices"], products, spec, name=name)
    known = set(tables["capacity"]["resource"]) | set(tables.get("bill_of_resources", pd.DataFrame(
        columns=["resource"]))["resource"])
    unknown = sorted(set(params.supply.overtime) - known)
    if unknown:
        from .supply import SupplyError

        raise SupplyError(f"supply.overtime in params/ names unknown resource(s) {', '.join(unknown)}; the capacity "
                          f"table and bill of resources know: {', '.join(sorted(known))}.")
    return len(overrides)
