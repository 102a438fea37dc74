"""Conformal prediction intervals by horizon step, from the rolling-origin backtest's errors.

For a forecast column (a model's, a combination's, or the chosen ``forecast``), every backtest error is divided
by its series' scale (the series' mean absolute backtest error of that column over its other points — leave one
out —, so a large and a small series share one distribution), and the ``L`` % quantile of these ratios is taken
per horizon step and per pool of series (e.g. the model they kept; a pool with fewer than ``min_points`` errors at
a step uses every series' errors at that step), never smaller than at an earlier step (an interval does not
narrow further out: a dip is sampling noise). Steps 1 … the backtest horizon are always learnt; the backtest's
earlier origins also see the months after it (the first origin of a 3 × 6-month backtest a year), and a step
beyond the horizon is learnt where it has enough errors for the conformal rank itself (``long_min``: 19 for
95 %) — measured, not extrapolated. Steps further out than a pool's last learnt step use that step's quantile
(extended flat) or, with ``interval_growth: trend``, that times (h / last step)^b, b the growth of the quantile
over the learnt steps; ``auto`` (the default) takes the rule that, learnt on the first half of the steps, best
predicts the second half. The interval is then forecast ± quantile × the series' scale, its lower bound floored
at 0. The quantile is the finite-sample conformal one, the ⌈(n + 1)·L⌉-th smallest of n ratios (a normal
approximation when n is too small for that rank). Series without a backtest (new items, inactive ones) keep the
bounds they came with.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

POOLED = "*"


def months_between(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    """Whole months from ``earlier`` to ``later`` (both month starts)."""
    a, b = pd.to_datetime(later), pd.to_datetime(earlier)
    return ((a.dt.year - b.dt.year) * 12 + a.dt.month - b.dt.month).to_numpy()


def forecast_steps(frame: pd.DataFrame) -> np.ndarray:
    """Horizon step of each row of a forecast frame: 1 for a series' first month, 2 for its second …"""
    return frame.groupby("unique_id")["ds"].rank(method="dense").astype(int).to_numpy()


def series_scale(cv: pd.DataFrame, col: str) -> pd.Series:
    """Each series' mean |y − ``col``| over its backtest points (NaN for a series with none)."""
    err = (cv["y"] - cv[col]).abs()
    return err.groupby(cv["unique_id"]).mean()


def conformal_quantile(ratios: np.ndarray, level: int) -> float:
    """The ⌈(n + 1)·level/100⌉-th smallest ratio; NaN for no ratio. When that rank is beyond n (fewer than 4
    ratios for 80 %, 19 for 95 %: e.g. the total of a hierarchy, one error per origin), the normal
    approximation z(level) × the ratios' root mean square instead (for normal errors the same quantile), so that
    80 % and 95 % still differ."""
    r = np.sort(ratios[np.isfinite(ratios)])
    if not len(r):
        return float("nan")
    k = math.ceil((len(r) + 1) * level / 100)
    if k > len(r):
        return float(NormalDist().inv_cdf(0.5 + level / 200) * np.sqrt(np.mean(r**2)))
    return float(r[k - 1])


def loo_ratios(cv: pd.DataFrame, col: str) -> np.ndarray:
    """|error| / the series' mean |error| over its *other* backtest points (leave one out): the same structure
    as an error to come against the scale of all backtest errors, so the quantile is not shrunk by an error
    measuring itself. 0 where the series' errors are all 0 (its interval is then its forecast); NaN for a
    series with a single point."""
    err = (cv["y"] - cv[col]).abs()
    g = err.groupby(cv["unique_id"])
    total, n = g.transform("sum"), g.transform("count")
    others = (total - err) / (n - 1).where(n > 1)
    ratio = (err / others.where(others > 0)).to_numpy(dtype=float)
    return np.where((total == 0).to_numpy() & err.notna().to_numpy(), 0.0, ratio)


def rank_points(levels: tuple[int, ...]) -> int:
    """The fewest ratios for which the conformal rank ⌈(n + 1)·L/100⌉ of every level exists (≤ n): 19 for 95 %,
    4 for 80 %."""
    return max(math.ceil(lv / (100 - lv)) for lv in levels)


def step_quantiles(
    cv: pd.DataFrame, col: str, pool_of: pd.Series, levels: tuple[int, ...], max_step: int, min_points: int = 30
) -> pd.DataFrame:
    """The conformal quantile of |error| / scale per pool, step and level over the backtest rows of ``cv``
    (``unique_id``, ``cutoff``, ``ds``, ``y``, ``col``), made non-decreasing over the steps (the largest at this
    step or any before it). Steps 1 … ``max_step`` (the backtest horizon) are always learnt. A step beyond it (the
    earlier origins forecast to the end of the data) is learnt for a pool from its own errors if it has at least
    ``min_points`` and :func:`rank_points`, from every series' (pool ``*``) if it has fewer than ``min_points``
    and every series together have enough; otherwise the pool's learnt steps end there (never across a gap).
    Columns ``pool``, ``step``, ``level``, ``q``, ``points``; pool ``*`` holds every series."""
    ratio = loo_ratios(cv, col)
    frame = pd.DataFrame({"pool": cv["unique_id"].map(pool_of).fillna(POOLED).to_numpy(),
                          "step": months_between(cv["ds"], cv["cutoff"]), "ratio": ratio})
    frame = frame[np.isfinite(frame["ratio"]) & (frame["step"] >= 1)]
    enough = rank_points(levels)
    rows = []
    for step, at_step in frame.groupby("step"):
        beyond = step > max_step
        pooled_ok = not beyond or len(at_step) >= enough
        for lv in levels:
            pooled = conformal_quantile(at_step["ratio"].to_numpy(), lv)
            if pooled_ok:
                rows.append({"pool": POOLED, "step": step, "level": lv, "q": pooled, "points": len(at_step)})
            for pool, g in at_step.groupby("pool"):
                if pool == POOLED:
                    continue
                if len(g) >= min_points and (not beyond or len(g) >= enough):
                    rows.append({"pool": pool, "step": step, "level": lv, "q": conformal_quantile(
                        g["ratio"].to_numpy(), lv), "points": len(g)})
                elif len(g) < min_points and pooled_ok:
                    rows.append({"pool": pool, "step": step, "level": lv, "q": pooled, "points": len(g)})
    table = pd.DataFrame(rows, columns=["pool", "step", "level", "q", "points"]).sort_values(["pool", "level", "step"])
    # a pool's learnt steps run from 1 without a gap (a step beyond the horizon with too few errors ends them)
    table = table[table["step"] == table.groupby(["pool", "level"]).cumcount() + 1]
    # an interval never narrows further out: a quantile below an earlier step's is sampling noise (the total of a
    # hierarchy has three errors a step), and extended flat it would make every later month as narrow
    table["q"] = table["q"].astype(float).groupby([table["pool"], table["level"]]).cummax()
    return table.reset_index(drop=True)


def growth_exponent(table: pd.DataFrame, level: int) -> float:
    """b of q(h) ∝ h^b, least squares on log q against log h over the pooled quantiles of ``level`` (steps with
    q > 0), clipped to [0, 1]: how the interval widens with the horizon, as the backtest measured it."""
    t = table[(table["pool"] == POOLED) & (table["level"] == level) & (table["q"] > 0)]
    if len(t) < 2:
        return 0.0
    b = np.polyfit(np.log(t["step"].to_numpy(dtype=float)), np.log(t["q"].to_numpy(dtype=float)), 1)[0]
    return float(np.clip(b, 0.0, 1.0))


def choose_growth(table: pd.DataFrame, level: int) -> str:
    """``flat`` or ``trend`` for ``interval_growth: auto``, decided on the backtest itself: each rule
    extrapolates the pooled quantiles of the first half of the backtest's steps to the second half (flat: the
    last quantile of the first half; trend: that × (h / h_half)^b, b fitted on the first half), and the one
    closer to the quantiles measured there (sum of |log ratio|) is used beyond the backtest. Fewer than 4 steps,
    or a tie: ``flat``."""
    t = table[(table["pool"] == POOLED) & (table["level"] == level) & (table["q"] > 0)].sort_values("step")
    if len(t) < 4:
        return "flat"
    half = len(t) // 2
    first, second = t.iloc[:half], t.iloc[half:]
    b = growth_exponent(first, level) if half >= 2 else 0.0
    base, h0 = float(first["q"].iloc[-1]), float(first["step"].iloc[-1])
    steps, actual = second["step"].to_numpy(dtype=float), np.log(second["q"].to_numpy(dtype=float))
    miss_flat = float(np.abs(np.log(base) - actual).sum())
    miss_trend = float(np.abs(np.log(base * (steps / h0) ** b) - actual).sum())
    return "trend" if miss_trend < miss_flat else "flat"


def apply_conformal(
    frame: pd.DataFrame, col: str, steps: np.ndarray, pool_of: pd.Series, scale: pd.Series, table: pd.DataFrame,
    levels: tuple[int, ...], growth: str = "flat",
) -> pd.DataFrame:
    """``col``-lo/hi-<L> = ``col`` ∓ q(pool, step, L) × scale of the series, lower bound ≥ 0; a series whose
    pool is not in the table takes pool ``*``. Steps beyond a pool's last learnt step take its quantile
    (``growth`` flat) or that × (step / last)^b (``trend``: b from :func:`growth_exponent`; ``auto``: per level
    as :func:`choose_growth` decides). Rows whose series has no scale, or whose step has no quantile, keep their
    bounds."""
    out = frame.copy()
    if table.empty:
        return out
    pool = out["unique_id"].map(pool_of).fillna(POOLED).to_numpy()
    sc = out["unique_id"].map(scale).to_numpy(dtype=float)
    point = out[col].to_numpy(dtype=float)
    for lv in levels:
        t = table[table["level"] == lv]
        last = t.groupby("pool")["step"].max()
        at = np.where(pd.Series(pool).isin(last.index), pool, POOLED)
        max_step = pd.Series(at).map(last).to_numpy(dtype=float)
        step = np.clip(np.asarray(steps, dtype=float), 1, max_step)
        beyond = np.maximum(np.asarray(steps, dtype=float), max_step) / max_step
        q = pd.Series(list(zip(at, step.astype(int), strict=True))).map(t.set_index(["pool", "step"])["q"])
        rule = choose_growth(table, lv) if growth == "auto" else growth
        half = q.to_numpy(dtype=float) * sc * (beyond ** growth_exponent(table, lv) if rule == "trend" else 1.0)
        ok = np.isfinite(half) & np.isfinite(point)
        lo, hi = f"{col}-lo-{lv}", f"{col}-hi-{lv}"
        old_lo = out[lo].to_numpy(dtype=float) if lo in out else np.full(len(out), np.nan)
        old_hi = out[hi].to_numpy(dtype=float) if hi in out else np.full(len(out), np.nan)
        out[lo] = np.where(ok, np.clip(point - half, 0, None), old_lo)
        out[hi] = np.where(ok, point + half, old_hi)
    return out


def conformal_intervals(
    cv: pd.DataFrame, frame: pd.DataFrame, col: str, steps: np.ndarray, pool_of: pd.Series,
    levels: tuple[int, ...], max_step: int, min_points: int = 30, growth: str = "flat",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Learn the quantiles on the backtest ``cv`` and set ``col``'s bounds in ``frame`` (rows at ``steps``):
    (frame with bounds, quantile table)."""
    table = step_quantiles(cv, col, pool_of, levels, max_step, min_points)
    return apply_conformal(frame, col, steps, pool_of, series_scale(cv, col), table, levels, growth), table


def widen(frame: pd.DataFrame, col: str, factors: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    """``col``'s bounds widened around ``col`` by each series' factor (``factors``: index unique_id, one column
    per level; series not in it unchanged): hi = point + f × (hi − point), lo = max(0, point − f × (hi − point))."""
    out = frame.copy()
    point = out[col].to_numpy(dtype=float)
    for lv in levels:
        lo, hi = f"{col}-lo-{lv}", f"{col}-hi-{lv}"
        if lv not in factors or hi not in out:
            continue
        f = out["unique_id"].map(factors[lv]).to_numpy(dtype=float)
        half = out[hi].to_numpy(dtype=float) - point
        ok = np.isfinite(f) & np.isfinite(half)
        out[hi] = np.where(ok, point + f * half, out[hi])
        out[lo] = np.where(ok, np.clip(point - f * half, 0, None), out[lo])
    return out
