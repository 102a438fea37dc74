"""Accuracy metrics (a registry) and the post-cycle comparison of published plans with actuals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Metric = Callable[[pd.Series, pd.Series], float]
METRICS: dict[str, Metric] = {}


def register(name: str) -> Callable[[Metric], Metric]:
    def deco(fn: Metric) -> Metric:
        METRICS[name] = fn
        return fn

    return deco


@register("wape")
def wape(actual: pd.Series, forecast: pd.Series) -> float:
    """WAPE = Σ|A − F| / Σ|A| (primer); NaN when there is no actual demand."""
    denom = float(np.abs(actual).sum())
    return float(np.abs(actual - forecast).sum() / denom) if denom else float("nan")


@register("bias_pct")
def bias_pct(actual: pd.Series, forecast: pd.Series) -> float:
    """Bias % = Σ(F − A) / ΣA × 100; positive = over-forecast."""
    denom = float(actual.sum())
    return float((forecast - actual).sum() / denom * 100) if denom else float("nan")


@register("accuracy")
def accuracy(actual: pd.Series, forecast: pd.Series) -> float:
    """Forecast accuracy = 1 − WAPE, floored at 0."""
    w = wape(actual, forecast)
    return float(max(0.0, 1 - w)) if not np.isnan(w) else float("nan")


def score(frame: pd.DataFrame, by: list[str], actual: str = "actual", forecast: str = "forecast") -> pd.DataFrame:
    """Every registered metric per group, plus the summed actual and forecast."""
    rows = []
    groups = frame.groupby(by, dropna=False) if by else [((), frame)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row[actual] = float(g[actual].sum())
        row[forecast] = float(g[forecast].sum())
        for name, fn in METRICS.items():
            row[name] = fn(g[actual], g[forecast])
        rows.append(row)
    return pd.DataFrame(rows)


def plan_vs_actual(
    plans: pd.DataFrame, actuals: pd.DataFrame, products: pd.DataFrame, prices: pd.DataFrame, cycle_start: pd.Timestamp
) -> pd.DataFrame:
    """Published plans against what happened, for months closed before ``cycle_start``.

    ``plans``: ``plan_cycle`` (YYYY-MM), ``sku``, ``region``, ``period``, ``forecast`` as each cycle published it.
    ``actuals``: ``sku``, ``region``, ``period``, ``units``. A planned series with no sales row in a closed
    month had zero demand. Revenue at the price in force in the month (so this variance is pure volume).

    Returns ``plan_cycle``, ``lag`` (months from the plan's cycle to the month), ``family``, ``sku``,
    ``region``, ``period``, ``forecast``, ``actual``, ``plan_revenue``, ``actual_revenue``, ``revenue_variance``.
    """
    closed = plans[plans["period"] < cycle_start].copy()
    if closed.empty:
        return pd.DataFrame(columns=["plan_cycle", "lag", "family", "sku", "region", "period", "forecast", "actual",
                                     "plan_revenue", "actual_revenue", "revenue_variance"])
    act = actuals.rename(columns={"units": "actual"})[["sku", "region", "period", "actual"]]
    out = closed.merge(act, on=["sku", "region", "period"], how="left")
    out["actual"] = out["actual"].fillna(0.0)
    start = pd.to_datetime(out["plan_cycle"] + "-01")
    out["lag"] = (out["period"].dt.year - start.dt.year) * 12 + (out["period"].dt.month - start.dt.month)
    out["family"] = out["sku"].map(products.set_index("sku")["family"])
    from .finance import prices_for

    priced = prices_for(out[["sku", "period"]], prices)
    out["plan_revenue"] = out["forecast"].to_numpy() * priced["unit_price"].to_numpy()
    out["actual_revenue"] = out["actual"].to_numpy() * priced["unit_price"].to_numpy()
    out["revenue_variance"] = out["actual_revenue"] - out["plan_revenue"]
    cols = ["plan_cycle", "lag", "family", "sku", "region", "period", "forecast", "actual", "plan_revenue",
            "actual_revenue", "revenue_variance"]
    return out[cols].sort_values(["plan_cycle", "period", "sku", "region"], ignore_index=True)


def stack_plans(plans: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Archived forecasts by cycle → one long frame with ``plan_cycle``, ``sku``, ``region``, ``period``,
    ``forecast`` (empty, with those columns, when there is no earlier plan)."""
    cols = ["plan_cycle", "sku", "region", "period", "forecast"]
    frames = [p.assign(plan_cycle=c)[cols] for c, p in sorted(plans.items())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
