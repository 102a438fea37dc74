"""Cycle parameters: ``params/defaults.yaml`` overlaid with ``params/<cycle>.yaml``.

Anything a planner may want to change lives here, not in code. Unknown keys are errors (a typo in a
threshold must not be silently ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sop_lib.core.cycle import Cadence, Cycle, check_cadence
from sop_lib.core.errors import ParamsError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForecastParams(_Strict):
    """The forecast's settings: the one object ``build_forecast``, ``forecast_core`` and the models take."""

    horizon_months: int = Field(default=18, ge=1, le=60)
    backtest_windows: int = Field(default=3, ge=1, le=12, description="rolling origins of the backtest")
    backtest_horizon: int = Field(default=6, ge=1, le=24, description="months ahead scored at each origin")
    backtest_step: int = Field(default=3, ge=1, le=12, description="months between origins")
    interval_levels: tuple[int, ...] = Field(default=(80, 95), min_length=1, description="prediction intervals, in %")
    calibrate_intervals: bool = Field(default=True, description="widen intervals to their backtest coverage")
    min_history_months: int = Field(default=24, ge=13, description="shorter series are young or new items")
    young_min_months: int = Field(
        default=17, ge=9, description="series with this many months or more, but fewer than min_history_months, are "
        "young: simple methods, the seasonal naive and the family profile compete on a short backtest of their own "
        "(3 origins × 3 months); shorter ones are new items (family profile). 17: a year of history before that "
        "backtest's first origin, so a seasonal forecast can be judged there (below it the backtest sees no season "
        "and would favour flat methods over the profile's). min_history_months turns the tier off")
    combine_best: int = Field(default=4, ge=0, le=9, description="candidate 'combo' combines each series' k best; "
                              "0 = none")
    combine_method: Literal["mean", "median"] = "mean"
    smooth_models: tuple[Literal["seasonal_naive", "theta", "dyn_theta", "ets", "ces", "arima",
                                 "historic_average"], ...] = Field(
        default=("seasonal_naive", "theta", "dyn_theta", "ets", "ces", "arima"),
        description="statistical models that compete for smooth and erratic series (the airline 'arima' only "
                    "where 26+ months precede the first origin); Prophet and AutoARIMA by class, below")
    strategy: Literal["auto", "select", "combine"] = Field(
        default="auto", description="select: each series keeps its best model; combine: every series gets the "
        "first of 'combinations'; auto: the strategy with the lowest error on the held-out last backtest origin")
    combinations: tuple[str, ...] = Field(
        default=("mean:ets+dyn_theta", "mean:ets+dyn_theta+ces", "median:ets+theta+dyn_theta+ces+arima"),
        description="fixed combinations, '<mean|median>:<model>+<model>…', for strategies 'combine' and 'auto'")
    strategy_scope: Literal["portfolio", "segment"] = Field(
        default="portfolio", description="auto chooses one strategy for all series, or one per Syntetos–Boylan "
        "class")
    strategy_metric: Literal["wape", "mase"] = Field(
        default="wape", description="what auto ranks strategies by (WAPE over the group, or mean MASE)")
    interval_method: Literal["conformal", "scaled"] = Field(
        default="conformal", description="with calibrate_intervals: conformal bounds per horizon step from the "
        "backtest errors, or the model's own intervals scaled to their backtest coverage")
    interval_growth: Literal["flat", "trend", "auto"] = Field(
        default="auto", description="conformal intervals beyond the backtest horizon: its last step's width (flat), "
        "that width grown as the backtest's steps grew (trend: q ∝ h^b, b fitted on steps 1 … backtest_horizon), "
        "or (auto) the rule that, learnt on the first half of the backtest's steps, best predicts the second half")
    interval_widening: bool = Field(
        default=True, description="conformal intervals widened by what the held-out last backtest origin needed "
        "to hold their level (the chosen strategy's evidence, widen_<L>; never narrowed, at most 3×)")
    screen_candidates: bool = Field(
        default=True, description="in a large portfolio, backtest every candidate on a sample first and leave out "
        "the models the held-out score does not need (screen.py); a portfolio under 3 × screen_min_series is not "
        "screened")
    screen_share: float = Field(default=0.25, gt=0, le=1, description="share of the established series screened on")
    screen_min_series: int = Field(default=60, ge=10, description="at least this many series screened on")
    screen_tolerance_pct: float = Field(
        default=1.0, ge=0, le=20, description="the models left out may together worsen the sample's held-out score "
        "(strategy_metric) by at most this many %")
    prophet_classes: tuple[Literal["A", "B", "C"], ...] = ("A", "B")
    auto_arima_classes: tuple[Literal["A", "B", "C"], ...] = ()
    prophet_algorithm: Literal["LBFGS", "Newton", "BFGS"] = "LBFGS"
    prophet_uncertainty_samples: int = Field(default=300, ge=0)
    executor: Literal["local", "dask"] = "local"
    scheduler: str = Field(default="", description="Dask scheduler address (tcp://host:8786) when executor is dask")
    workers: int = Field(default=0, ge=0, description="local processes; 0 = all cores")
    batch_size: int = Field(default=0, ge=0, description="series per parallel task; 0 = automatic")
    top_skus: int = Field(default=6, ge=1, description="largest SKUs charted one by one")
    allow_stale_months: int = Field(default=0, ge=0, le=12, description="months the history may end before the "
                                    "month before the cycle (a known late extract); 0 = it must reach it")

    @model_validator(mode="after")
    def _backtest_fits_history(self) -> ForecastParams:
        span = self.backtest_span
        if self.min_history_months < span + 12:
            raise ValueError(
                f"min_history_months ({self.min_history_months}) must be at least the backtest span ({span}) + 12, "
                "so every backtested series has a year of history before its first origin"
            )
        return self

    @model_validator(mode="after")
    def _combinations_read(self) -> ForecastParams:
        for text in self.combinations:
            how, _, members = text.partition(":")
            if how not in ("mean", "median") or len([m for m in members.split("+") if m]) < 2:
                raise ValueError(f"combination '{text}' must read '<mean|median>:<model>+<model>…' (two models or more)")
        if self.strategy == "combine" and not self.combinations:
            raise ValueError("strategy 'combine' needs at least one entry in 'combinations'")
        return self

    @property
    def backtest_span(self) -> int:
        """Months at the end of the history that the backtest forecasts (its first origin is this many months
        before the history's last month)."""
        return self.backtest_horizon + (self.backtest_windows - 1) * self.backtest_step

    @property
    def interval_level(self) -> int:
        """The interval shown in charts (the first of ``interval_levels``)."""
        return self.interval_levels[0]


class CapacityParams(_Strict):
    warn_utilisation: float = Field(default=0.9, gt=0, description="utilisation from which a month is 'tight'")
    max_utilisation: float = Field(default=1.0, gt=0, description="utilisation above which a month is over capacity")

    @model_validator(mode="after")
    def _warn_before_max(self) -> CapacityParams:
        if self.warn_utilisation > self.max_utilisation:
            raise ValueError(f"warn_utilisation ({self.warn_utilisation:g}) is above max_utilisation "
                             f"({self.max_utilisation:g}): a month would be over capacity before it is tight")
        return self


class FinanceParams(_Strict):
    currency: str = "EUR"
    budget_gap_threshold_pct: float = Field(default=5.0, ge=0, description="flag plan vs budget gaps beyond ± this %")


class Overtime(_Strict):
    """Extra hours a resource can work in a month, and what an hour of them costs."""

    max_hours: float = Field(ge=0, description="overtime hours available per month")
    cost_per_hour: float = Field(ge=0, description="cost of one overtime hour, in the currency")


class SupplyParams(_Strict):
    """The constrained supply plan (a linear programme) and the inventory projection."""

    holding_cost_pct_per_year: float = Field(default=20.0, ge=0, description="cost of holding stock, % of unit "
                                             "cost a year")
    service_level: float = Field(default=0.95, gt=0.5, lt=1, description="cycle service level the safety stock "
                                 "targets")
    lead_time_months: float = Field(default=1.0, gt=0, description="replenishment lead time, in months")
    build_ahead: bool = Field(default=True, description="may produce in earlier months and hold the stock")
    max_build_ahead_months: int | None = Field(default=3, ge=0, description="stock at a month's end covers at most "
                                               "the next this many months' demand (shelf life); None = no limit")
    safety_stock_weight: float = Field(default=0.5, ge=0, description="penalty per unit-month below safety stock, "
                                       "as a share of the unit's margin; 0 = the plan ignores safety stock")
    no_stock_families: tuple[str, ...] = Field(default=(), description="families that cannot be held in stock "
                                               "(services, fresh lines): made in the month they are sold, no "
                                               "build-ahead")
    no_stock_resources: tuple[str, ...] = Field(default=(), description="the same for every SKU routed through "
                                                "these")
    overtime: dict[str, Overtime] = Field(default_factory=dict, description="overtime per resource")
    solver_time_limit_s: float = Field(default=120.0, gt=0, description="stop the solver after this long")


class DecisionParams(_Strict):
    tracking_signal_limit: float = Field(default=4.0, gt=0, description="raise a bias item outside ± this tracking "
                                         "signal")


class ScenarioSpec(_Strict):
    """A what-if on top of the consensus plan: demand, price and capacity changes (all optional)."""

    description: str = ""
    demand_pct: float = Field(default=0.0, gt=-100, description="% change of every SKU's demand")
    demand_pct_by_family: dict[str, float] = Field(default_factory=dict,
                                                   description="% change per family, compounded with demand_pct")
    price_pct: float = Field(default=0.0, gt=-100, description="% change of every unit price (unit costs unchanged)")
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
    notebook_timeout_s: int = Field(default=1800, ge=10, description="a cell running longer than this fails the run")
    board_pdf: bool = Field(default=True, description="print the board PDF into the pack when Chromium is installed "
                            "(≈ 15 s a cycle); `sop pdf` prints it on demand either way")


class CycleParams(_Strict):
    company: str = Field(default="", description="the company's name, shown on every page")
    cadence: Cadence = Field(default="monthly", description="the S&OP cycle's length: monthly cycles are "
                             "YYYY-MM, quarterly ones YYYY-Qn; history and plans stay monthly either way")
    forecast: ForecastParams = ForecastParams()
    capacity: CapacityParams = CapacityParams()
    finance: FinanceParams = FinanceParams()
    supply: SupplyParams = SupplyParams()
    decisions: DecisionParams = DecisionParams()
    kpi: KpiParams = KpiParams()
    scenarios: dict[str, ScenarioSpec] = Field(default_factory=dict, description="named what-ifs; baseline is implicit")
    run: RunParams = RunParams()


def _read_yaml(path: Path) -> dict[str, Any]:
    """A parameter file as a mapping; ``ParamsError`` naming the file when it is not UTF-8, not YAML or not a
    mapping."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParamsError(f"{path}: not UTF-8 text (saved as UTF-16 or latin-1?). Save it as UTF-8 and run again.") from None
    try:
        data = yaml.safe_load(text) or {}
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


REMOVE_KEY = "remove"


def _remove(merged: dict[str, Any], paths: object, source: str) -> tuple[dict[str, Any], list[str]]:
    """Drop inherited entries named by dotted paths (``scenarios.upside``, ``supply.overtime.Bottling``): a
    cycle's file can take away what ``defaults.yaml`` gives. Returns the result and the problems."""
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list):
        return merged, [f"  {REMOVE_KEY}: expected a list of dotted names, e.g. [scenarios.upside] ({source})"]
    problems = []
    for path in paths:
        *parents, last = str(path).split(".")
        node: Any = merged
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or last not in node:
            problems.append(f"  {REMOVE_KEY}: {path}: no such entry to remove ({source})")
            continue
        del node[last]
    return merged, problems


def _has_path(data: dict[str, Any], loc: tuple[Any, ...]) -> int:
    """How many leading parts of ``loc`` exist in ``data``."""
    node: Any = data
    for depth, part in enumerate(loc):
        if not isinstance(node, dict) or str(part) not in {str(k) for k in node}:
            return depth
        node = next(v for k, v in node.items() if str(k) == str(part))
    return len(loc)


def _origin(loc: tuple[Any, ...], layers: list[tuple[str, dict[str, Any]]]) -> str:
    """The file (or other layer) that set the key at ``loc``: the last that holds most of its path."""
    best, depth = layers[0][0], -1
    for name, data in layers:
        d = _has_path(data, loc)
        if d > 0 and d >= depth:
            best, depth = name, d
    return best


def load_params(params_dir: Path, cycle: Cycle | str, overrides: dict[str, Any] | None = None) -> CycleParams:
    """Defaults, then the cycle's file if present, then ``overrides`` (e.g. from a notebook's
    parameters cell; ``None`` values are ignored).

    A cycle's file may drop inherited entries with ``remove: [scenarios.upside, supply.overtime.Bottling]``.
    Raises ``ParamsError`` listing every problem at once, each with its key and the file that set it; a cycle id
    given as text is parsed first (``params/<cycle>.yaml`` is named after it: ``../../secret`` is not a cycle).
    """
    cycle = Cycle.parse(cycle)
    defaults = params_dir / "defaults.yaml"
    layers: list[tuple[str, dict[str, Any]]] = []
    read_errors = []
    for path in (defaults, params_dir / f"{cycle}.yaml"):
        if path.exists():
            try:
                layers.append((str(path), _read_yaml(path)))
            except ParamsError as exc:
                read_errors.append(str(exc))
    if read_errors:
        raise ParamsError("\n".join(read_errors))
    merged: dict[str, Any] = {}
    problems: list[str] = []
    for i, (name, data) in enumerate(layers):
        data = dict(data)
        removal = data.pop(REMOVE_KEY, None)
        if removal is not None and i == 0:
            problems.append(f"  {REMOVE_KEY}: only a cycle's own file can remove inherited entries ({name})")
        merged = _merge(merged, data)
        if removal is not None and i > 0:
            merged, found = _remove(_deep_copy(merged), removal, name)
            problems += found
    if overrides:
        layers.append(("the notebook's parameters", overrides))
        merged = _merge(merged, overrides)
    try:
        params = CycleParams.model_validate(merged)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"  {key}: {err['msg']} ({_origin(tuple(err['loc']), layers) if layers else 'defaults'})")
    if problems:
        sources = " + ".join(name for name, _ in layers) or str(defaults)
        raise ParamsError(f"Invalid parameters in {sources} ({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n"
                          + "\n".join(problems))
    check_cadence(cycle, params.cadence, _origin(("cadence",), layers) if layers else "the defaults")
    return params


def param_origin(params_dir: Path, cycle: Cycle | str, key: str) -> str:
    """The parameter file that sets the dotted ``key`` for ``cycle`` (the cycle's file when it holds the key,
    else ``defaults.yaml``), for messages that must name where to fix a value."""
    cycle = Cycle.parse(cycle)
    layers = [(str(p), _read_yaml(p)) for p in (params_dir / "defaults.yaml", params_dir / f"{cycle}.yaml")
              if p.exists()]
    return _origin(tuple(key.split(".")), layers) if layers else str(params_dir / "defaults.yaml")


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}



def default_cadence(params_dir: Path) -> Cadence:
    """The cadence ``params/defaults.yaml`` sets (``monthly`` when it sets none or is unreadable: the full
    parameter check comes with the cycle)."""
    path = params_dir / "defaults.yaml"
    try:
        value = _read_yaml(path).get("cadence") if path.exists() else None
    except ParamsError:
        return "monthly"
    return "quarterly" if value == "quarterly" else "monthly"
