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


def tracking_signal(actual: pd.Series, forecast: pd.Series) -> float:
    """Tracking signal = Σ(A − F) / MAD with MAD = mean|A − F| (primer); alarm outside ±4."""
    err = actual - forecast
    mad = float(err.abs().mean())
    return float(err.sum() / mad) if mad > 0 else 0.0


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
    ``region``, ``period``, ``forecast``, ``actual``, ``plan_revenue``, ``actual_revenue``, ``revenue_variance``,
    then the forecasting steps the plans carry (``naive``, ``statistical``: see ``forecast_value_added``).
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
    from sop_lib.data.prices import prices_for

    priced = prices_for(out[["sku", "period"]], prices)
    out["plan_revenue"] = out["forecast"].to_numpy() * priced["unit_price"].to_numpy()
    out["actual_revenue"] = out["actual"].to_numpy() * priced["unit_price"].to_numpy()
    out["revenue_variance"] = out["actual_revenue"] - out["plan_revenue"]
    cols = ["plan_cycle", "lag", "family", "sku", "region", "period", "forecast", "actual", "plan_revenue",
            "actual_revenue", "revenue_variance"] + [c for c in STEPS if c in out.columns]
    return out[cols].sort_values(["plan_cycle", "period", "sku", "region"], ignore_index=True)


def stack_plans(plans: dict[str, pd.DataFrame], steps: tuple[str, ...] = ()) -> pd.DataFrame:
    """Archived forecasts by cycle → one long frame with ``plan_cycle``, ``sku``, ``region``, ``period``,
    ``forecast`` and the ``steps`` columns asked for (NaN for a cycle that did not keep one); empty, with those
    columns, when there is no earlier plan."""
    cols = ["plan_cycle", "sku", "region", "period", "forecast", *steps]
    frames = [p.assign(plan_cycle=c).reindex(columns=cols) for c, p in sorted(plans.items())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def stack_results(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Any archived result by cycle → one frame with a ``plan_cycle`` column first (empty when none)."""
    frames = [r.assign(plan_cycle=c) for c, r in sorted(results.items()) if len(r)]
    if not frames:
        return pd.DataFrame(columns=["plan_cycle"])
    out = pd.concat(frames, ignore_index=True)
    return out[["plan_cycle", *[c for c in out.columns if c != "plan_cycle"]]]


# --- forecast value added ----------------------------------------------------------------------------------

STEPS = ("naive", "statistical")  # the forecasting process's steps before the consensus (``forecast``)


def seasonal_naive_plan(sales: pd.DataFrame, keys: pd.DataFrame, cycle_start: pd.Timestamp) -> pd.DataFrame:
    """The benchmark every forecast must beat: each month's units as sold in the same calendar month of the
    last twelve months before ``cycle_start`` (no sales row = 0).

    ``keys`` has ``sku``, ``region``, ``period`` (the plan's rows); returns them with ``naive``.
    """
    last = sales[(sales["period"] >= cycle_start - pd.DateOffset(months=12)) & (sales["period"] < cycle_start)]
    moy = last.assign(moy=last["period"].dt.month).groupby(["sku", "region", "moy"], as_index=False)["units"].sum()
    out = keys[["sku", "region", "period"]].assign(moy=keys["period"].dt.month)
    out = out.merge(moy, on=["sku", "region", "moy"], how="left").drop(columns="moy")
    return out.rename(columns={"units": "naive"}).fillna({"naive": 0.0})


def forecast_value_added(pva: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """The stair-step FVA report: naive → statistical → consensus, each scored against actuals.

    ``pva`` is ``plan_vs_actual`` output with ``naive`` and ``statistical`` columns (``forecast`` is the
    consensus). Per group of ``by`` (e.g. ``["plan_cycle"]``; none = everything) one row per step with its
    WAPE, bias and absolute error; ``fva_points`` = WAPE of the step before − WAPE of this step, in points
    (positive: the step made the forecast better). Rows without a naive or statistical value are left out.
    """
    by = by or []
    cols = [*by, "step", "actual", "forecast", "abs_error", "wape", "bias_pct", "fva_points"]
    frame = pva.dropna(subset=[c for c in STEPS if c in pva.columns])
    if frame.empty or not all(c in frame.columns for c in STEPS):
        return pd.DataFrame(columns=cols)
    rows = []
    groups = frame.groupby(by, dropna=False) if by else [((), frame)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        previous = None
        for step, col in (("naive", "naive"), ("statistical", "statistical"), ("consensus", "forecast")):
            w = wape(g["actual"], g[col])
            rows.append({**dict(zip(by, key, strict=True)), "step": step, "actual": float(g["actual"].sum()),
                         "forecast": float(g[col].sum()), "abs_error": float((g["actual"] - g[col]).abs().sum()),
                         "wape": w, "bias_pct": bias_pct(g["actual"], g[col]),
                         "fva_points": (previous - w) * 100 if previous is not None else float("nan")})
            previous = w
    return pd.DataFrame(rows, columns=cols)


def owner_value_added(pva: pd.DataFrame, adjustments: pd.DataFrame) -> pd.DataFrame:
    """FVA of each owner's overrides: whose adjustments made the forecast better, and by how much.

    ``adjustments``: ``plan_cycle``, ``override_id``, ``owner``, ``sku``, ``region``, ``period``, ``delta`` as the
    plans published them. Within a plan cycle owners are steps in the order their first override was applied:
    before = statistical + the deltas of owners before them, after = before + their own. Scored on the
    series-months the owner changed that have closed: ``fva_points`` = WAPE before − WAPE after (points;
    negative: the override made it worse), ``units_saved`` = absolute error before − after. A last row per owner
    (``plan_cycle`` "all") sums over cycles.
    """
    cols = ["plan_cycle", "owner", "overrides", "series_months", "actual", "before", "after", "wape_before",
            "wape_after", "fva_points", "units_saved"]
    if pva.empty or adjustments.empty or "statistical" not in pva.columns:
        return pd.DataFrame(columns=cols)
    keys = ["plan_cycle", "sku", "region", "period"]
    closed = pva[[*keys, "actual", "statistical"]]
    rows: list[dict[str, object]] = []
    scored: list[pd.DataFrame] = []
    for cycle, adj in adjustments.groupby("plan_cycle", sort=True):
        owners = list(dict.fromkeys(adj.sort_values("override_id", key=_override_order)["owner"]))
        per_owner = adj.groupby(["owner", "sku", "region", "period"], as_index=False)["delta"].sum()
        base = closed[closed["plan_cycle"] == cycle].copy()
        running = base["statistical"].to_numpy(dtype=float).copy()
        for owner in owners:
            mine = per_owner[per_owner["owner"] == owner].drop(columns="owner")
            delta = base[["sku", "region", "period"]].merge(mine, how="left", on=["sku", "region", "period"])["delta"]
            delta = delta.fillna(0.0).to_numpy()
            touched = delta != 0
            before, after = running.copy(), running + delta
            running = after
            if not touched.any():
                continue
            part = pd.DataFrame({"owner": owner, "actual": base["actual"].to_numpy()[touched],
                                 "before": before[touched], "after": after[touched]})
            part["overrides"] = adj.loc[adj["owner"] == owner, "override_id"].nunique()
            scored.append(part.assign(plan_cycle=cycle))
    if not scored:
        return pd.DataFrame(columns=cols)
    allp = pd.concat(scored, ignore_index=True)
    for (cycle, owner), g in [*allp.groupby(["plan_cycle", "owner"], sort=False),
                              *((("all", o), g) for o, g in allp.groupby("owner", sort=False))]:
        wb, wa = wape(g["actual"], g["before"]), wape(g["actual"], g["after"])
        n_over = (g.drop_duplicates("plan_cycle")["overrides"].sum())
        rows.append({"plan_cycle": cycle, "owner": owner, "overrides": int(n_over), "series_months": len(g),
                     "actual": float(g["actual"].sum()), "before": float(g["before"].sum()),
                     "after": float(g["after"].sum()), "wape_before": wb, "wape_after": wa,
                     "fva_points": (wb - wa) * 100,
                     "units_saved": float((g["actual"] - g["before"]).abs().sum() - (g["actual"] - g["after"]).abs().sum())})
    return pd.DataFrame(rows, columns=cols)


def _override_order(ids: pd.Series) -> pd.Series:
    """``O2`` before ``O10``: override ids in the order they were applied."""
    return ids.astype(str).str.extract(r"(\d+)$")[0].astype(float)
