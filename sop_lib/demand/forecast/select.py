"""Score every candidate on the rolling-origin backtest and keep the best per series.

Pure functions on the long frames ``run_batch`` returns; the metrics are ``sop_lib.core.metrics``'. MASE's
scale is the in-sample seasonal-naive MAE of the history up to the first origin (``mase_scale``). Within one
series MASE, MAE and WAPE rank models alike; MASE makes errors comparable across series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_lib.core import metrics
from sop_lib.demand.forecast.models import SEASON


def mase_scale(train: pd.DataFrame, first_cutoff: pd.Timestamp) -> pd.Series:
    """In-sample seasonal-naive mean absolute error per series, on history up to the first origin."""
    return metrics.mase_scale(train[train["ds"] <= first_cutoff], SEASON)


WILD = 10.0  # a forecast above this many times the series' largest month is a failed fit, not a forecast


def drop_wild(frame: pd.DataFrame, train: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """A model whose values for a series in ``frame`` (the backtest, or the final forecast) exceed ``WILD`` ×
    the series' largest month (e.g. an exploding CES or ETS fit) gets no value for that series, nor bounds:
    on the backtest it cannot win and no combination includes it; in the forecast the engine replaces it."""
    top = train.groupby("unique_id")["y"].max().clip(lower=1.0) * WILD
    frame = frame.copy()
    for m in [m for m in models if m in frame]:
        wild = frame.loc[frame[m] > frame["unique_id"].map(top), "unique_id"].unique()
        if len(wild):
            cols = [c for c in frame.columns if c == m or c.startswith(f"{m}-lo-") or c.startswith(f"{m}-hi-")]
            frame.loc[frame["unique_id"].isin(wild), cols] = np.nan
    return frame


def add_combination(
    cv: pd.DataFrame, fc: pd.DataFrame, models: list[str], levels: tuple[int, ...], k: int, how: str = "mean"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ``combo`` candidate: per series, the mean (or median) of its ``k`` best single models on the
    backtest; intervals: the same of their bounds. Costs no fit. The models are ranked on the same backtest
    the combo is then scored on, so its backtest error is slightly optimistic."""
    if k < 2:
        return cv, fc
    cv, fc = cv.copy(), fc.copy()
    for frame in (cv, fc):
        frame["combo"] = np.nan
        for lv in levels:
            frame[f"combo-lo-{lv}"] = np.nan
            frame[f"combo-hi-{lv}"] = np.nan
    # one update per distinct set of best models (a handful), not per series: linear in the number of series
    by_set: dict[tuple[str, ...], list[str]] = {}
    for uid, best in best_models(cv, models, k).items():
        if len(best) >= 2:
            by_set.setdefault(best, []).append(uid)
    for best, uids in by_set.items():
        cols = list(best)
        for frame in (cv, fc):
            if not set(cols) <= set(frame.columns):  # a forecast fitted only for the series that need them
                continue
            rows = frame["unique_id"].isin(uids)
            frame.loc[rows, "combo"] = frame.loc[rows, cols].agg(how, axis=1)
            for lv in levels:
                for side in ("lo", "hi"):
                    bounds = [f"{m}-{side}-{lv}" for m in cols if f"{m}-{side}-{lv}" in frame]
                    if len(bounds) == len(cols):
                        frame.loc[rows, f"combo-{side}-{lv}"] = frame.loc[rows, bounds].agg(how, axis=1)
    return cv, fc


def best_models(cv: pd.DataFrame, models: list[str], k: int) -> dict[str, tuple[str, ...]]:
    """Per series its ``k`` single models of lowest backtest MAE, best first (fewer if fewer have a value)."""
    err = metrics.mae_by(cv, [m for m in models if m in cv])
    return {uid: tuple(row.dropna().sort_values().index[:k]) for uid, row in err.iterrows()}


def score_models(cv: pd.DataFrame, models: list[str], scale: pd.Series) -> pd.DataFrame:
    """Long table: ``unique_id``, ``model``, ``mae``, ``wape``, ``mase``, ``bias_pct`` over the backtest.
    A model without a value at every backtest point of a series is not scored for it."""
    columns = ["unique_id", "model", "mae", "wape", "mase", "bias_pct"]
    present = [m for m in models if m in cv]
    if cv.empty or not present:
        return pd.DataFrame(columns=columns)
    table = {name: fn(cv, present).stack(future_stack=True).rename(name) for name, fn in
             (("mae", metrics.mae_by), ("wape", metrics.wape_by), ("bias_pct", metrics.bias_pct_by))}
    table["mase"] = metrics.mase_by(cv, present, scale).stack(future_stack=True).rename("mase")
    complete = cv[present].notna().groupby(cv["unique_id"]).all().stack(future_stack=True)
    out = pd.concat(table.values(), axis=1)[complete.reindex(table["mae"].index).to_numpy()]
    out = out.rename_axis(["unique_id", "model"]).reset_index()
    # in the order of the backtest's series, then of ``models``
    order = {uid: i for i, uid in enumerate(pd.unique(cv["unique_id"]))}
    rank = {m: i for i, m in enumerate(present)}
    out = out.sort_values(["unique_id", "model"], key=lambda c: c.map(order if c.name == "unique_id" else rank))
    return out[columns].reset_index(drop=True)


def choose(scores: pd.DataFrame, preference: list[str]) -> pd.DataFrame:
    """Per series the lowest-MAE model and the runner-up. Ties go to the model listed first in
    ``preference`` (simpler models first)."""
    rank = {m: i for i, m in enumerate(preference)}
    s = scores.assign(_pref=scores["model"].map(rank).fillna(len(rank)))
    s = s.sort_values(["unique_id", "mae", "_pref"])
    rows = []
    for uid, g in s.groupby("unique_id", sort=False):
        first = g.iloc[0]
        second = g.iloc[1] if len(g) > 1 else None
        rows.append({
            "unique_id": uid, "model": first["model"], "mase": first["mase"], "wape": first["wape"],
            "bias_pct": first["bias_pct"],
            "runner_up": second["model"] if second is not None else None,
            "runner_up_mase": second["mase"] if second is not None else np.nan,
            "runner_up_wape": second["wape"] if second is not None else np.nan,
        })
    return pd.DataFrame(rows, columns=["unique_id", "model", "mase", "wape", "bias_pct", "runner_up",
                                       "runner_up_mase", "runner_up_wape"])


def pick_columns(frame: pd.DataFrame, chosen: pd.Series, levels: tuple[int, ...]) -> pd.DataFrame:
    """Add ``forecast`` and ``forecast-lo/hi-<L>`` taken from each series' chosen model's columns."""
    out = frame.copy()
    model = out["unique_id"].map(chosen)
    targets = ["forecast"] + [f"forecast-{s}-{lv}" for lv in levels for s in ("lo", "hi")]
    for t in targets:
        out[t] = np.nan
    for m in model.dropna().unique():
        rows = model == m
        for t in targets:
            src = m + t[len("forecast"):]
            if src in out:
                out.loc[rows, t] = out.loc[rows, src]
    return out


def coverage(cv_chosen: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    """Share of backtest actuals inside the chosen model's interval, per series and level."""
    out = cv_chosen[["unique_id"]].drop_duplicates().set_index("unique_id")
    for lv in levels:
        out[f"coverage_{lv}"] = metrics.coverage_by(cv_chosen, ["forecast"], lv)["forecast"]
    return out.reset_index()


def calibration_factors(
    cv_chosen: pd.DataFrame, model_of: pd.Series, levels: tuple[int, ...], min_points: int = 30
) -> pd.DataFrame:
    """How much each model's intervals must be widened (or narrowed) so that, over the backtest, the
    nominal share of actuals falls inside: per model and level, the ``level`` % quantile of
    |actual − forecast| / (half-width on the side of the error). Models with fewer than ``min_points``
    backtest points share the factor of all models pooled. Columns ``model``, ``level``, ``factor``, ``points``.
    """
    d = cv_chosen.assign(model=cv_chosen["unique_id"].map(model_of))
    rows = []
    if d.empty:  # nothing was backtested (e.g. every series too short): intervals stay as the models give them
        return pd.DataFrame([{"model": "*", "level": lv, "factor": 1.0, "points": 0} for lv in levels],
                            columns=["model", "level", "factor", "points"])
    for lv in levels:
        lo, hi = d[f"forecast-lo-{lv}"], d[f"forecast-hi-{lv}"]
        above = d["y"] >= d["forecast"]
        half = np.where(above, hi - d["forecast"], d["forecast"] - lo)
        ratio = pd.Series(np.abs(d["y"] - d["forecast"]) / np.where(half > 0, half, np.nan), index=d.index)
        ok = ratio.notna() & np.isfinite(ratio)
        pooled = float(ratio[ok].quantile(lv / 100)) if ok.sum() else 1.0
        for model, g in ratio[ok].groupby(d.loc[ok, "model"]):
            factor = float(g.quantile(lv / 100)) if len(g) >= min_points else pooled
            rows.append({"model": model, "level": lv, "factor": factor, "points": int(len(g))})
        rows.append({"model": "*", "level": lv, "factor": pooled, "points": int(ok.sum())})
    out = pd.DataFrame(rows, columns=["model", "level", "factor", "points"])
    out["factor"] = out["factor"].clip(0.5, 10.0)  # guard against degenerate backtests
    return out


def apply_calibration(
    frame: pd.DataFrame, model_of: pd.Series, factors: pd.DataFrame, levels: tuple[int, ...]
) -> pd.DataFrame:
    """Scale each series' chosen interval around its point forecast by its model's factor (bounds ≥ 0)."""
    out = frame.copy()
    model = out["unique_id"].map(model_of)
    for lv in levels:
        f = factors[factors["level"] == lv].set_index("model")["factor"]
        scale = model.map(f).fillna(f.get("*", 1.0)).to_numpy()
        point = out["forecast"].to_numpy()
        out[f"forecast-lo-{lv}"] = np.clip(point - (point - out[f"forecast-lo-{lv}"].to_numpy()) * scale, 0, None)
        out[f"forecast-hi-{lv}"] = point + (out[f"forecast-hi-{lv}"].to_numpy() - point) * scale
    return out
