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


class DecisionParams(_Strict):
    tracking_signal_limit: float = Field(4.0, gt=0, description="raise a bias item outside ± this tracking signal")


class RunParams(_Strict):
    notebook_timeout_s: int = Field(1800, ge=10, description="a cell running longer than this fails the run")


class CycleParams(_Strict):
    company: str = "Demo company"
    forecast: ForecastParams = ForecastParams()
    capacity: CapacityParams = CapacityParams()
    finance: FinanceParams = FinanceParams()
    decisions: DecisionParams = DecisionParams()
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
