"""Forecasts for series too short for any model: new items get their family's seasonal profile, scaled
to their own recent level; series with no recent demand get zero."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd


def family_indices(series: pd.DataFrame, family: pd.Series, months: int = 36) -> pd.DataFrame:
    """Seasonal index per family and calendar month (mean of the month / mean of all months) from the
    family's total over its last ``months`` months. Columns ``family``, ``month``, ``index``."""
    fam = series.assign(family=series["unique_id"].map(family))
    total = fam.groupby(["family", "ds"], as_index=False)["y"].sum()
    rows = []
    for name, g in total.groupby("family"):
        g = g[g["ds"] > g["ds"].max() - pd.DateOffset(months=months)]
        by_month = g.groupby(g["ds"].dt.month)["y"].mean()
        base = g["y"].mean()
        for m in range(1, 13):
            idx = by_month.get(m, np.nan) / base if base > 0 else np.nan
            rows.append({"family": name, "month": m, "index": 1.0 if not np.isfinite(idx) or idx <= 0 else idx})
    return pd.DataFrame(rows, columns=["family", "month", "index"])


def family_profile(
    new: pd.DataFrame, future: pd.DataFrame, family: pd.Series, indices: pd.DataFrame, levels: tuple[int, ...]
) -> pd.DataFrame:
    """Forecast = own level × family index of the month. Level = mean of the last (up to) three months
    divided by their indices. Interval: ± z × the deseasonalised history's relative spread (50 % when
    there are fewer than three months)."""
    idx = indices.set_index(["family", "month"])["index"]
    rows = []
    for uid, g in new.groupby("unique_id", sort=False):
        fam = family.get(uid)
        g = g.sort_values("ds")
        factors = np.array([idx.get((fam, d.month), 1.0) for d in g["ds"]])
        deseason = g["y"].to_numpy(dtype=float) / factors
        level = float(deseason[-3:].mean())
        spread = float(deseason.std(ddof=1) / level) if len(deseason) >= 3 and level > 0 else 0.5
        f = future[future["unique_id"] == uid]
        point = level * np.array([idx.get((fam, d.month), 1.0) for d in f["ds"]])
        out = pd.DataFrame({"unique_id": uid, "ds": f["ds"].to_numpy(), "family_profile": point})
        for lv in levels:
            z = NormalDist().inv_cdf(0.5 + lv / 200)
            out[f"family_profile-lo-{lv}"] = np.clip(point * (1 - z * spread), 0, None)
            out[f"family_profile-hi-{lv}"] = point * (1 + z * spread)
        rows.append(out)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["unique_id", "ds", "family_profile"])


def zero_forecast(future: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    out = future[["unique_id", "ds"]].copy()
    out["zero"] = 0.0
    for lv in levels:
        out[f"zero-lo-{lv}"] = 0.0
        out[f"zero-hi-{lv}"] = 0.0
    return out
