"""A planning cycle as the workbooks see it: parameters, the frozen snapshot, and where results go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sop_lib.core.cycle import Cycle
from sop_lib.core.errors import CycleAlreadyPublished, InputInvalid, ParamsError, SopError
from sop_lib.data.health import describe_months, months_between, uncovered_capacity
from sop_lib.data.params import CycleParams, load_params
from sop_lib.data.snapshot import Snapshot
from sop_lib.data.store import Store
from sop_lib.data.validate import validate_inputs


@dataclass
class CycleContext:
    """Everything a workbook needs. ``current`` is the cycle (``cycle`` its id, ``cycle_start`` its first day).
    ``run_dir`` receives this run's results; earlier steps' results are read from it first, then from the cycle's
    published results."""

    store: Store
    current: Cycle
    params: CycleParams
    snapshot: Snapshot
    run_dir: Path

    @property
    def cycle(self) -> str:
        return self.current.id

    @property
    def cycle_start(self) -> pd.Timestamp:
        return self.current.start

    def table(self, name: str) -> pd.DataFrame:
        """An input table from the snapshot (a copy: the snapshot itself stays frozen)."""
        return self.snapshot[name].copy()

    def result(self, name: str) -> pd.DataFrame:
        return self.store.read_result(self.current, self.run_dir, name)

    def save(self, name: str, frame: pd.DataFrame) -> Path:
        return self.store.write_result(self.run_dir, name, frame)

    def published_plans(self, name: str = "forecast", fallback: str | None = None) -> dict[str, pd.DataFrame]:
        """Result ``name`` as each earlier cycle published it, by cycle id (the archive). A cycle published
        without it gives its ``fallback`` result instead, or is left out."""
        out = {}
        for c in self.store.published_cycles(before=self.current):
            for n in (name, fallback):
                if n and (self.store.published_dir(c) / f"{n}.parquet").exists():
                    out[c] = self.store.read_published(c, n)
                    break
        return out

    def earlier_inputs(self, name: str) -> dict[str, pd.DataFrame]:
        """Input table ``name`` as each earlier published cycle's snapshot froze it, by cycle id (e.g. the price
        list a plan was made with)."""
        out = {}
        for c in self.store.published_cycles(before=self.current):
            try:
                out[c] = self.store.read_snapshot(c)[name]
            except (KeyError, SopError):
                continue  # a snapshot without it (or gone): that plan is valued at today's table
        return out


def open_cycle(
    cycle: Cycle | str = "", root: str = "", run_dir: str = "", overrides: dict[str, Any] | None = None
) -> CycleContext:
    """Open a cycle for a workbook. Empty ``cycle`` = the latest cycle with a snapshot; empty ``run_dir``
    = the cycle's scratch folder (so hand runs in JupyterLab never touch published results)."""
    store = Store(root or None)
    cycle = Cycle.parse(cycle or store.latest_cycle())  # before any file named after it is opened
    folder = Path(run_dir) if run_dir else store.scratch_dir(cycle)
    store = store.for_run(cycle, folder)  # a run that took its own snapshot reads it, not the cycle's
    params = load_params(store.params_dir, cycle, overrides)
    snapshot = store.read_snapshot(cycle)
    (folder / "results").mkdir(parents=True, exist_ok=True)
    return CycleContext(store, cycle, params, snapshot, folder)


def take_snapshot(store: Store, cycle: Cycle | str, inputs_dir: Path | None = None, force: bool = False,
                  params: CycleParams | None = None) -> Snapshot:
    """Validate the inputs folder and freeze it as the cycle's snapshot.

    Raises ``InputInvalid`` (every problem listed) before writing anything, and ``CycleAlreadyPublished``
    when the cycle was published and ``force`` is not set. The cycle's parameters (read from ``params/`` when
    not given) say how stale the history may be and how far the forecast reaches.
    """
    cycle = Cycle.parse(cycle)
    if store.is_published(cycle) and not force:
        raise CycleAlreadyPublished(
            f"Cycle {cycle} is already published; its snapshot is what its pack shows. "
            "Pass --force to take a new snapshot and re-run it (the published version is kept under superseded/)."
        )
    folder = inputs_dir or store.inputs_dir
    params = params or load_params(store.params_dir, cycle)
    validated = validate_inputs(folder, cycle.start, report_dir=store.validation_dir,
                                allow_stale_months=params.forecast.allow_stale_months,
                                horizon_months=params.forecast.horizon_months)
    return store.write_snapshot(cycle, validated.tables, validated.sources, validated.warnings,
                                assumptions=validated.assumptions)


def check_planner_inputs(store: Store, cycle: Cycle | str, tables: dict[str, pd.DataFrame], params: CycleParams
                         ) -> int:
    """Check what planners add to the data before anything runs: the cycle's overrides file against the
    series and horizon the forecast will have, and every scenario's and overtime entry's resources and
    families against the data. Returns the number of overrides.

    Raises ``PlannerInputsInvalid`` (exit code 2) listing every problem of the parameters at once, each with
    the file that set it, followed by the overrides file's problems; or ``OverridesInvalid`` when only the
    overrides file has problems."""
    cycle = Cycle.parse(cycle)
    products = tables["products"]
    keys = tables["sales_history"][["sku", "region"]].drop_duplicates()
    months = pd.DataFrame({"period": pd.date_range(cycle.start, periods=params.forecast.horizon_months, freq="MS")})
    skeleton = keys.merge(months, how="cross")
    skeleton["family"] = skeleton["sku"].map(products.set_index("sku")["family"])
    skeleton["forecast"] = 0.0
    overrides_error: InputInvalid | ParamsError | None = None
    n_overrides = 0
    try:
        n_overrides = len(store.load_overrides(cycle, skeleton, products))
    except (InputInvalid, ParamsError) as exc:  # problems of the file, or which file (a .csv and an .xlsx)
        overrides_error = exc
    problems = _parameter_problems(store, cycle, tables, params)
    if problems:
        raise PlannerInputsInvalid(problems, overrides_error)
    if overrides_error is not None:
        raise overrides_error
    return n_overrides


def _parameter_problems(store: Store, cycle: Cycle, tables: dict[str, pd.DataFrame], params: CycleParams) -> list[str]:
    """Scenario and overtime entries that name resources or families the data does not have, and a forecast
    horizon that reaches past the capacity data (see :func:`_horizon_problems`)."""
    from sop_lib.data.params import param_origin

    def origin(key: str) -> str:
        return Path(param_origin(store.params_dir, cycle, key)).name

    capacity = tables.get("capacity", pd.DataFrame(columns=["resource"]))
    routes = tables.get("bill_of_resources", pd.DataFrame(columns=["resource"]))
    resources = set(capacity["resource"].astype(str))
    families = set(tables["products"]["family"].astype(str))
    modelled = len(capacity) > 0
    problems = []
    for name, spec in params.scenarios.items():
        asked = sorted((set(spec.capacity_pct) | set(spec.extra_hours)) - resources)
        if asked and not modelled:
            problems.append(f"scenarios.{name} changes the hours of {', '.join(asked)}, but capacity is not modelled "
                            f"(the data has no capacity table): delete the scenario, or drop it for this cycle with "
                            f"`remove: [scenarios.{name}]` in params/{cycle}.yaml ({origin(f'scenarios.{name}')})")
        elif asked:
            problems.append(f"scenarios.{name} names unknown resource(s) {', '.join(asked)}; the capacity table "
                            f"knows: {', '.join(sorted(resources))} ({origin(f'scenarios.{name}')})")
        fams = sorted(set(spec.demand_pct_by_family) - families)
        if fams:
            problems.append(f"scenarios.{name}.demand_pct_by_family names unknown famil{'y' if len(fams) == 1 else 'ies'} "
                            f"{', '.join(fams)}; products know: {', '.join(sorted(families))} "
                            f"({origin(f'scenarios.{name}.demand_pct_by_family')})")
    known = resources | set(routes["resource"].astype(str))
    for fam in sorted(set(params.supply.no_stock_families) - families):
        problems.append(f"supply.no_stock_families: {fam} is not a product family; products know: "
                        f"{', '.join(sorted(families))} ({origin('supply.no_stock_families')})")
    for res in sorted(set(params.supply.no_stock_resources) - known):
        problems.append(f"supply.no_stock_resources: {res} is not a resource of the bill of resources or capacity "
                        f"({origin('supply.no_stock_resources')})")
    for res in sorted(set(params.supply.overtime) - known):
        where = "capacity is not modelled (no capacity table)" if not modelled else (
            f"the capacity table and bill of resources know: {', '.join(sorted(known))}")
        problems.append(f"supply.overtime.{res}: no such resource; {where} ({origin(f'supply.overtime.{res}')})")
    return problems + _horizon_problems(cycle, capacity, routes, params, origin)


def _horizon_problems(cycle: Cycle, capacity: pd.DataFrame, routes: pd.DataFrame, params: CycleParams,
                      origin: Callable[[str], str]) -> list[str]:
    """Months of the forecast horizon in which a resource of the bill of resources has no capacity row: the
    supply plan would take them as unconstrained without a word, so each is a problem while capacity is
    modelled. (A budget that ends before the horizon is only a warning, from validation: budgets are annual.)"""
    start = cycle.start
    horizon = params.forecast.horizon_months
    missing = uncovered_capacity(capacity, routes, start, horizon)
    if missing.empty:
        return []
    end = start + pd.DateOffset(months=horizon - 1)
    fits = months_between(start, missing["period"].min())
    fix = (f"set forecast.horizon_months: {fits} or less" if fits >= 1 else
           f"check that capacity has rows from the cycle month {start:%Y-%m} on")
    by_months = missing.groupby("resource")["period"].agg(lambda p: describe_months(p))
    return [
        f"forecast.horizon_months: {horizon} plans {start:%Y-%m} … {end:%Y-%m}, but capacity has no hours for "
        f"{', '.join(sorted(g.index))} in {months}: those months would be planned as unconstrained. Add the "
        f"capacity rows, or {fix} ({origin('forecast.horizon_months')})"
        for months, g in by_months.groupby(by_months)
    ]


class PlannerInputsInvalid(ParamsError):
    """Parameters that contradict the data (and, with them, the overrides file's problems), listed at once."""

    def __init__(self, problems: list[str], overrides: InputInvalid | ParamsError | None = None) -> None:
        self.problems = problems
        self.overrides = overrides
        n = len(problems)
        text = (f"The parameters have {n} problem{'s' if n != 1 else ''} with this cycle's data; nothing was run.\n"
                + "\n".join(f"  {p}" for p in problems))
        if overrides is not None:
            text += "\n\n" + str(overrides)
        super().__init__(text)
