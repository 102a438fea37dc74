"""Backtest accuracy summaries for the demand workbook."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..variance import wape


def plan_units(forecast: pd.DataFrame) -> pd.DataFrame:
    """The statistical forecast as the unconstrained demand plan: ``sku``, ``region``, ``period``, ``units``."""
    return forecast[["sku", "region", "period", "forecast"]].rename(columns={"forecast": "units"})


def backtest_accuracy(backtest: pd.DataFrame, selection: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """WAPE over the backtest months per family (and in total) for each candidate and for the model kept
    per series. Columns: ``family``, ``series``, ``actual_units``, ``wape_<model>`` …, ``wape_chosen``."""
    models = [c for c in backtest.columns if c not in ("sku", "region", "period", "actual")]
    bt = backtest.merge(selection[["sku", "region", "model"]], on=["sku", "region"], how="left")
    bt["chosen"] = np.nan
    for m in models:
        rows = bt["model"] == m
        bt.loc[rows, "chosen"] = bt.loc[rows, m]
    bt["family"] = bt["sku"].map(products.set_index("sku")["family"])
    rows = []
    for fam, g in [*bt.groupby("family"), ("All families", bt)]:
        row = {"family": fam, "series": int(g[["sku", "region"]].drop_duplicates().shape[0]),
               "actual_units": float(g["actual"].sum())}
        for m in [*models, "chosen"]:
            row[f"wape_{m}"] = wape(g["actual"], g[m])
        rows.append(row)
    return pd.DataFrame(rows)


def model_counts(selection: pd.DataFrame) -> pd.DataFrame:
    """How many series each model was kept for, and why."""
    return (selection.groupby(["model", "reason"], as_index=False).size().rename(columns={"size": "series"})
            .sort_values("series", ascending=False, ignore_index=True))


def largest_skus(sales: pd.DataFrame, n: int, months: int = 12) -> list[str]:
    """The ``n`` SKUs with the most units over the last ``months`` months of history."""
    recent = sales[sales["period"] > sales["period"].max() - pd.DateOffset(months=months)]
    return recent.groupby("sku")["units"].sum().nlargest(n).index.tolist()
