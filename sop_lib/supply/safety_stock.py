"""Safety stock and the inventory projection of a supply plan: days of supply and stock-out risk per month."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from sop_lib.supply.inputs import SupplyError
from sop_lib.supply.plan import SupplyPlan

PROJECTION_COLUMNS = ["sku", "period", "opening", "production", "demand", "served", "unmet", "closing",
                      "days_of_supply", "safety_stock", "below_safety", "stockout_risk"]


def forecast_errors(backtest: pd.DataFrame) -> pd.DataFrame:
    """The forecast errors safety stock is sized on: per SKU (regions summed, as the plan makes SKUs), backtest
    cutoff and month, ``error`` = actual − forecast. ``backtest`` has ``sku``, ``cutoff``, ``period``,
    ``actual``, ``forecast`` (the forecasting engine's ``forecast_backtest`` result)."""
    bt = backtest.dropna(subset=["forecast"])
    out = bt.groupby(["sku", "cutoff", "period"], as_index=False)[["actual", "forecast"]].sum()
    out["error"] = out["actual"] - out["forecast"]
    return out[["sku", "cutoff", "period", "error"]]


def safety_stock(errors: pd.DataFrame, service_level: float, lead_time_months: float) -> pd.DataFrame:
    """Safety stock per SKU = z(service level) × σ(forecast error) × √(lead time in months) (docs/formulas.md).

    σ is the sample standard deviation (n − 1) of the SKU's errors: the spread of the forecast's misses, not
    their bias (a biased forecast is a demand-review matter, not a stock one). z is the standard normal
    quantile, ``scipy.stats.norm.ppf(service_level)`` (1.6449 at 0.95).

    Parameters
    ----------
    errors : ``sku``, ``error`` in units per month, e.g. backtest actual − forecast summed to SKU for each
        cutoff and month; other columns are ignored.
    service_level : cycle service level, between 0 and 1 (``SupplyParams.service_level``).
    lead_time_months : replenishment lead time in months, > 0.

    Returns
    -------
    DataFrame
        ``sku``, ``n_errors``, ``error_std``, ``z``, ``safety_stock`` (units), sorted by SKU. A SKU with fewer
        than two errors has ``error_std`` and ``safety_stock`` NaN: its variability is unknown.

    Raises
    ------
    SupplyError
        If ``service_level`` is not strictly between 0 and 1 or ``lead_time_months`` is not above 0.
    """
    if not 0 < service_level < 1:
        raise SupplyError(f"The service level must be between 0 and 1 (e.g. 0.95); got {service_level}.")
    if not lead_time_months > 0:
        raise SupplyError(f"The lead time must be above 0 months; got {lead_time_months}.")
    z = float(norm.ppf(service_level))
    stats = errors.groupby("sku")["error"].agg(n_errors="count", error_std=lambda e: e.std(ddof=1))
    out = stats.reset_index()
    out["n_errors"] = out["n_errors"].astype(int)
    out["z"] = z
    out["safety_stock"] = z * out["error_std"] * np.sqrt(lead_time_months)
    return out.sort_values("sku", ignore_index=True)


def project_inventory(
    plan: SupplyPlan | pd.DataFrame, safety: pd.DataFrame | None = None, days_in_month: bool = True
) -> pd.DataFrame:
    """Stock per SKU and month under the supply plan, its days of supply, and where it falls short.

    - ``opening + production − served = closing`` every month, and ``opening`` is the month before's
      ``closing`` (the plan's own balance, carried over unchanged);
    - days of supply = closing / (next month's demand per day) (docs/formulas.md); the last month uses its own demand.
      Demand per day is the month's demand / its calendar days (``days_in_month``) or / 30. With no demand
      that month it is ``inf`` when there is stock and NaN when there is none;
    - ``below_safety``: closing < safety stock (beyond a relative 1e-6, the solver's rounding);
      ``stockout_risk``: below safety stock or demand left unmet.

    Parameters
    ----------
    plan : a :class:`SupplyPlan`, or its ``plan`` frame (``sku``, ``period``, ``demand``, ``opening_stock``,
        ``production``, ``served``, ``unmet``, ``closing_stock``).
    safety : :func:`safety_stock`'s output (``sku``, ``safety_stock``); SKUs without a row, or with NaN, have
        no safety stock to fall below (NaN in the output). ``None``: none for any SKU.
    days_in_month : divide monthly demand by the calendar days of the month (True) or by 30 (False).

    Returns
    -------
    DataFrame
        ``sku``, ``period``, ``opening``, ``production``, ``demand``, ``served``, ``unmet``, ``closing``,
        ``days_of_supply``, ``safety_stock``, ``below_safety`` (bool), ``stockout_risk`` (bool), by SKU and month.
    """
    frame = plan.plan if isinstance(plan, SupplyPlan) else plan
    out = frame.rename(columns={"opening_stock": "opening", "closing_stock": "closing"})
    out = out.sort_values(["sku", "period"], ignore_index=True)
    days = out["period"].dt.days_in_month.astype(float) if days_in_month else pd.Series(30.0, index=out.index)
    per_day = out["demand"] / days
    nxt = per_day.groupby(out["sku"]).shift(-1).fillna(per_day)  # the last month: its own demand
    with np.errstate(divide="ignore", invalid="ignore"):
        dos = out["closing"].to_numpy() / nxt.to_numpy()
    out["days_of_supply"] = np.where(nxt > 0, dos, np.where(out["closing"] > 0, np.inf, np.nan))
    level = safety.set_index("sku")["safety_stock"] if safety is not None else pd.Series(dtype=float)
    out["safety_stock"] = out["sku"].map(level).astype(float)
    # a plan that ends exactly on its safety stock is not below it (the solver's last bits do not count)
    slack = 1e-6 * np.maximum(out["safety_stock"].fillna(0.0).abs(), 1.0)
    out["below_safety"] = (out["closing"] < out["safety_stock"] - slack).fillna(False).astype(bool)
    out["stockout_risk"] = out["below_safety"] | (out["unmet"] > slack)
    return out[PROJECTION_COLUMNS]
