"""Cycle parameters: ``params/defaults.yaml`` overlaid with ``params/<cycle>.yaml``.

Anything a planner may want to change lives here, not in code. Unknown keys are errors (a typo in a
threshold must not be silently ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ParamsError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForecastParams(_Strict):
    horizon_months: int = Field(18, ge=1, le=60)
    backtest_windows: int = Field(3, ge=1, le=12, description="rolling origins of the backtest")
    backtest_horizon: int = Field(6, ge=1, le=24, description="months ahead scored at each origin")
    backtest_step: int = Field(3, ge=1, le=12, description="months between origins")
    interval_levels: tuple[int, ...] = Field((80, 95), min_length=1, description="prediction intervals, in %")
    calibrate_intervals: bool = Field(True, description="widen intervals to their backtest coverage")
    min_history_months: int = Field(24, ge=13, description="shorter series are new items: family profile")
    combine_best: int = Field(4, ge=0, le=9, description="candidate 'combo' combines each series' k best; 0 = none")
    combine_method: Literal["mean", "median"] = "mean"
    prophet_classes: tuple[Literal["A", "B", "C"], ...] = ("A", "B")
    auto_arima_classes: tuple[Literal["A", "B", "C"], ...] = ()
    prophet_algorithm: Literal["LBFGS", "Newton", "BFGS"] = "LBFGS"
    prophet_uncertainty_samples: int = Field(300, ge=0)
    executor: Literal["local", "dask"] = "local"
    scheduler: str = Field("", description="Dask scheduler address (tcp://host:8786) when executor is dask")
    workers: int = Field(0, ge=0, description="local processes; 0 = all cores")
    batch_size: int = Field(0, ge=0, description="series per parallel task; 0 = automatic")
    top_skus: int = Field(6, ge=1, description="largest SKUs charted one by one")

    @model_validator(mode="after")
    def _backtest_fits_history(self) -> ForecastParams:
        span = self.backtest_horizon + (self.backtest_windows - 1) * self.backtest_step
        if self.min_history_months < span + 12:
            raise ValueError(
                f"min_history_months ({self.min_history_months}) must be at least the backtest span ({span}) + 12, "
                "so every backtested series has a year of history before its first origin"
            )
        return self

    @property
    def interval_level(self) -> int:
        """The interval shown in charts (the first of ``interval_levels``)."""
        return self.interval_levels[0]


class CapacityParams(_Strict):
    warn_utilisation: float = Field(0.9, gt=0, description="utilisation from which a month is 'tight'")
    max_utilisation: float = Field(1.0, gt=0, description="utilisation above which a month is over capacity")


class FinanceParams(_Strict):
    currency: str = "EUR"
    budget_gap_threshold_pct: float = Field(5.0, ge=0, description="flag plan vs budget gaps beyond ± this %")


class Overtime(_Strict):
    """Extra hours a resource can work in a month, and what an hour of them costs."""

    max_hours: float = Field(ge=0, description="overtime hours available per month")
    cost_per_hour: float = Field(ge=0, description="cost of one overtime hour, in the currency")


class SupplyParams(_Strict):
    """The constrained supply plan (a linear programme) and the inventory projection."""

    holding_cost_pct_per_year: float = Field(20.0, ge=0, description="cost of holding stock, % of unit cost a year")
    service_level: float = Field(0.95, gt=0.5, lt=1, description="cycle service level the safety stock targets")
    lead_time_months: float = Field(1.0, gt=0, description="replenishment lead time, in months")
    build_ahead: bool = Field(True, description="may produce in earlier months and hold the stock")
    max_build_ahead_months: int | None = Field(3, ge=0, description="stock at a month's end covers at most the next "
                                               "this many months' demand (shelf life); None = no limit")
    safety_stock_weight: float = Field(0.5, ge=0, description="penalty per unit-month below safety stock, as a "
                                       "share of the unit's margin; 0 = the plan ignores safety stock")
    overtime: dict[str, Overtime] = Field(default_factory=dict, description="overtime per resource")
    solver_time_limit_s: float = Field(120.0, gt=0, description="stop the solver after this long")


class DecisionParams(_Strict):
    tracking_signal_limit: float = Field(4.0, gt=0, description="raise a bias item outside ± this tracking signal")


class ScenarioSpec(_Strict):
    """A what-if on top of the consensus plan: demand, price and capacity changes (all optional)."""

    description: str = ""
    demand_pct: float = Field(0.0, gt=-100, description="% change of every SKU's demand")
    demand_pct_by_family: dict[str, float] = Field(default_factory=dict,
                                                   description="% change per family, compounded with demand_pct")
    price_pct: float = Field(0.0, gt=-100, description="% change of every unit price (unit costs unchanged)")
    capacity_pct: dict[str, float] = Field(default_factory=dict,
                                           description="% change of available hours, per resource")
    extra_hours: dict[str, float] = Field(default_factory=dict,
                                          description="hours added every month, per resource (e.g. an extra shift)")

    @model_validator(mode="after")
    def _no_negative_capacity(self) -> ScenarioSpec:
        bad = [f"{r} ({v:+g} %)" for r, v in self.capacity_pct.items() if v < -100]
        bad += [f"{r} ({v:+g} h)" for r, v in self.extra_hours.items() if v < 0]
        bad += [f"{f} ({v:+g} %)" for f, v in self.demand_pct_by_family.items() if v <= -100]
        if bad:
            raise ValueError("capacity cannot go below zero and demand cannot fall by 100 % or more: " + ", ".join(bad))
        return self


class Band(_Strict):
    """Status thresholds of one KPI: ``good`` and ``warn`` limits; which side is better is the KPI's own."""

    good: float
    warn: float


class KpiParams(_Strict):
    """Thresholds that give each scorecard KPI a status (good / watch / act)."""

    accuracy: Band = Band(good=0.80, warn=0.70)  # 1 − WAPE, higher is better
    abs_bias_pct: Band = Band(good=5.0, warn=10.0)  # |Σ(F − A) / ΣA| in %, lower is better
    abs_tracking_signal: Band = Band(good=3.0, warn=4.0)  # lower is better
    peak_utilisation: Band = Band(good=0.90, warn=1.00)  # next 6 months, lower is better
    days_of_supply_low: Band = Band(good=5.0, warn=2.0)  # fewer projected month-end days risk stock-outs
    days_of_supply_high: Band = Band(good=45.0, warn=90.0)  # more ties up cash
    revenue_vs_budget_pct: Band = Band(good=-2.0, warn=-5.0)  # higher is better
    margin_vs_budget_pct: Band = Band(good=-2.0, warn=-5.0)  # higher is better


class RunParams(_Strict):
    notebook_timeout_s: int = Field(1800, ge=10, description="a cell running longer than this fails the run")


class CycleParams(_Strict):
    company: str = "Demo company"
    forecast: ForecastParams = ForecastParams()
    capacity: CapacityParams = CapacityParams()
    finance: FinanceParams = FinanceParams()
    supply: SupplyParams = SupplyParams()
    decisions: DecisionParams = DecisionParams()
    kpi: KpiParams = KpiParams()
    scenarios: dict[str, ScenarioSpec] = Field(default_factory=dict, description="named what-ifs; baseline is implicit")
    run: RunParams = RunParams()


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of parameter names to values")
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if value is None:  # None = "not set here": keep the value from below
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_params(params_dir: Path, cycle: str, overrides: dict[str, Any] | None = None) -> CycleParams:
    """Defaults, then the cycle's file if present, then ``overrides`` (e.g. from a notebook's
    parameters cell; ``None`` values are ignored). Raises ``ParamsError`` naming file and key."""
    defaults = params_dir / "defaults.yaml"
    merged: dict[str, Any] = _read_yaml(defaults) if defaults.exists() else {}
    sources = [str(defaults)]
    cycle_file = params_dir / f"{cycle}.yaml"
    if cycle_file.exists():
        merged = _merge(merged, _read_yaml(cycle_file))
        sources.append(str(cycle_file))
    if overrides:
        merged = _merge(merged, overrides)
    try:
        return CycleParams.model_validate(merged)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        ]
        raise ParamsError("Invalid parameters in " + " + ".join(sources) + ":\n" + "\n".join(lines)) from None
