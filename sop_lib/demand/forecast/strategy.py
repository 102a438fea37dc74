"""How each series' forecast is formed, chosen by measurement: per-series selection, a fixed combination,
each series' best k, or a per-series choice among the fixed combinations.

Guard against overfitting the choice: every strategy that picks something per series (the model, the k best,
the combination) picks it on the backtest's **earlier origins only**; all strategies are then scored on the
**last origin**, which none of them saw when choosing. The strategy with the lowest error there wins, for the
whole portfolio or per Syntetos–Boylan class (``strategy_scope``); its conformal intervals (learnt on the
earlier origins' errors) are scored there too. The final forecast then applies the winning strategy with its
per-series choices made on every origin. With a single origin nothing can be held out: the choice is made
in-sample and the evidence says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_lib.core import metrics
from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.conformal import conformal_intervals, conformal_quantile, months_between
from sop_lib.demand.forecast.select import add_combination, best_models

SELECT, BEST_K, AMONG = "select", "best_k", "select_combination"
# the evidence table's columns; after bias_pct come coverage_<L> and widen_<L> for each interval level
EVIDENCE_COLUMNS = ["group", "strategy", "wape", "mase", "bias_pct", "series", "points", "wape_all_origins", "chosen",
                    "reason"]
MAX_WIDEN = 3.0


def parse_combination(text: str) -> tuple[str, list[str]]:
    """``"mean:ets+dyn_theta"`` → (``"mean"``, [``"ets"``, ``"dyn_theta"``])."""
    how, _, members = text.partition(":")
    return how, [m for m in members.split("+") if m]


def add_fixed(
    cv: pd.DataFrame, fc: pd.DataFrame, combinations: tuple[str, ...], levels: tuple[int, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One column per fixed combination (named by its text) in the backtest and the forecast: the mean or
    median of its members, where every member has a value (NaN elsewhere); bounds the same of theirs."""
    cv, fc = cv.copy(), fc.copy()
    for text in combinations:
        how, members = parse_combination(text)
        for frame in (cv, fc):
            cols = [m for m in members if m in frame]
            full = len(cols) == len(members)
            frame[text] = frame[cols].agg(how, axis=1, skipna=False) if full else np.nan
            for lv in levels:
                for side in ("lo", "hi"):
                    bounds = [f"{m}-{side}-{lv}" for m in members if f"{m}-{side}-{lv}" in frame]
                    ok = full and len(bounds) == len(members)
                    frame[f"{text}-{side}-{lv}"] = frame[bounds].agg(how, axis=1, skipna=False) if ok else np.nan
    return cv, fc


def _argmin(err: pd.DataFrame, order: list[str]) -> pd.Series:
    """Per series (row) the column of lowest error, ties to the earlier in ``order``; NaN rows dropped."""
    err = err[[c for c in order if c in err]].dropna(how="all")
    return err.idxmin(axis=1) if len(err.columns) else pd.Series(dtype=object)


def take_choice(frame: pd.DataFrame, choice: pd.Series) -> np.ndarray:
    """Each row's value of the column its series chose (NaN where it chose none)."""
    col = frame["unique_id"].map(choice)
    out = np.full(len(frame), np.nan)
    for c in col.dropna().unique():
        rows = (col == c).to_numpy()
        out[rows] = frame.loc[rows, c].to_numpy(dtype=float)
    return out


def per_series_choices(fit_on: pd.DataFrame, singles: list[str], combos: list[str]) -> dict[str, pd.Series]:
    """The per-series choices of the strategies that make one, learnt on ``fit_on``: the model of ``select``
    (singles and the best-k ``combo``) and the combination of ``select_combination``."""
    err = metrics.mae_by(fit_on, [c for c in [*singles, "combo", *combos] if c in fit_on])
    return {SELECT: _argmin(err, [*singles, "combo"]), AMONG: _argmin(err, combos)}


def strategy_columns(
    cv: pd.DataFrame, singles: list[str], combos: list[str], k: int, how: str
) -> tuple[pd.DataFrame, list[str], dict[str, set[str]]]:
    """Every strategy as a column of the backtest (``unique_id``, ``cutoff``, ``ds``, ``y`` …), its per-series
    choices made on the origins before the last. A strategy without a value for a series (e.g. a combination
    of ETS and Theta for an intermittent series) falls back to ``select`` there. Returns (frame, strategies,
    the series each strategy has a value of its own for)."""
    last = cv["cutoff"].max()
    early = cv[cv["cutoff"] < last] if cv["cutoff"].nunique() > 1 else cv
    early, whole = add_combination(early, cv, singles, (), k, how)
    choice = per_series_choices(early, singles, combos)
    out = whole[["unique_id", "cutoff", "ds", "y"]].copy()
    out[SELECT] = take_choice(whole, choice[SELECT])
    names = [*combos, AMONG, BEST_K, SELECT]
    for c in combos:
        out[c] = whole[c].to_numpy(dtype=float)
    out[AMONG] = take_choice(whole, choice[AMONG])
    out[BEST_K] = whole["combo"].to_numpy(dtype=float) if "combo" in whole else np.nan
    names = [n for n in names if out[n].notna().any()]  # a strategy with no value of its own is not shown
    own = {n: set(out.loc[out[n].notna(), "unique_id"]) for n in names}
    for name in names:
        out[name] = out[name].fillna(out[SELECT])
    return out, names, own


def _evidence_rows(frame: pd.DataFrame, names: list[str], scale: pd.Series, levels: tuple[int, ...],
                   max_step: int, group: str) -> list[dict]:
    """Scores of every strategy on the last origin (intervals learnt on the earlier ones) for one group."""
    last = frame["cutoff"].max()
    held = frame[frame["cutoff"] == last]
    early = frame[frame["cutoff"] < last] if frame["cutoff"].nunique() > 1 else frame
    steps = months_between(held["ds"], held["cutoff"])
    rows = []
    for s in names:
        row = {"group": group, "strategy": s, "wape": metrics.wape(held["y"], held[s]),
               "mase": float(metrics.mase_by(held, [s], scale)[s].mean()),
               "bias_pct": metrics.bias_pct(held["y"], held[s]), "series": held["unique_id"].nunique(),
               "points": len(held), "wape_all_origins": metrics.wape(frame["y"], frame[s])}
        bounded, _ = conformal_intervals(early, held, s, steps, pd.Series(dtype=object), levels, max_step)
        for lv in levels:
            row[f"coverage_{lv}"] = metrics.coverage(bounded["y"], bounded[f"{s}-lo-{lv}"], bounded[f"{s}-hi-{lv}"])
            row[f"widen_{lv}"] = held_out_widening(bounded["y"], bounded[s], bounded[f"{s}-hi-{lv}"], lv)
        rows.append(row)
    return rows


def held_out_widening(y: pd.Series, point: pd.Series, hi: pd.Series, level: int) -> float:
    """The factor by which intervals learnt on the earlier origins must be widened so that ``level`` % of the
    held-out origin's actuals fall inside: the conformal quantile of |y − point| / half-width, at least 1 (the
    intervals are never narrowed below what the backtest gives) and at most ``MAX_WIDEN``; 1 without data."""
    half = (hi - point).to_numpy(dtype=float)
    ratio = np.abs((y - point).to_numpy(dtype=float)) / np.where(half > 0, half, np.nan)
    ratio = np.where((half == 0) & (y == point).to_numpy(), 0.0, ratio)
    q = conformal_quantile(ratio, level)
    return float(np.clip(q, 1.0, MAX_WIDEN)) if np.isfinite(q) else 1.0


def _pick(rows: list[dict], params: ForecastParams) -> str:
    """The strategy of a group: the one set by ``params.strategy``, or (auto) the lowest error on the last
    origin; ties go to the strategy listed first (fixed combinations, which choose nothing per series)."""
    names = [r["strategy"] for r in rows]
    if params.strategy == "select":
        return SELECT
    if params.strategy == "combine":
        return params.combinations[0] if params.combinations[0] in names else SELECT
    key = params.strategy_metric
    scored = [r for r in rows if np.isfinite(r[key])]
    return min(scored, key=lambda r: round(r[key], 6))["strategy"] if scored else SELECT


def _reason(params: ForecastParams, held_out: bool, metric: str) -> str:
    if params.strategy != "auto":
        return f"set by forecast.strategy: {params.strategy}"
    where = "the last backtest origin, held out from every per-series choice" if held_out else (
        "the only backtest origin (in-sample: one origin cannot be held out)")
    return f"lowest {metric.upper()} on {where}"


def choose_strategy(
    cv: pd.DataFrame, groups: pd.Series, singles: list[str], scale: pd.Series, params: ForecastParams
) -> tuple[pd.DataFrame, pd.Series]:
    """The evidence table (one row per group × strategy, ``EVIDENCE_COLUMNS``) and the strategy of every
    backtested series. ``groups``: by unique_id, the group a strategy is chosen for (one value: portfolio)."""
    combos = [c for c in params.combinations if c in cv]
    frame, names, own = strategy_columns(cv, singles, combos, params.combine_best, params.combine_method)
    held_out = cv["cutoff"].nunique() > 1
    rows, strategy_of = [], {}
    for group, ids in groups.groupby(groups, sort=True):
        part = frame[frame["unique_id"].isin(ids.index)]
        if part.empty:
            continue
        mine = [n for n in names if n == SELECT or own[n] & set(ids.index)]  # e.g. no ETS mean for intermittent
        g_rows = _evidence_rows(part, mine, scale, params.interval_levels, params.backtest_horizon, str(group))
        pick = _pick(g_rows, params)
        for r in g_rows:
            r["chosen"] = r["strategy"] == pick
            r["reason"] = _reason(params, held_out, params.strategy_metric) if r["chosen"] else ""
        rows += g_rows
        strategy_of.update(dict.fromkeys(ids.index, pick))
    levels = params.interval_levels
    columns = [*EVIDENCE_COLUMNS[:5], *[f"coverage_{lv}" for lv in levels], *[f"widen_{lv}" for lv in levels],
               *EVIDENCE_COLUMNS[5:]]
    return pd.DataFrame(rows, columns=columns), pd.Series(strategy_of, dtype=object)


def final_models(
    cv: pd.DataFrame, strategy_of: pd.Series, selected: pd.Series, singles: list[str], combos: list[str]
) -> pd.Series:
    """The forecast column each series uses under its strategy, choices made on every origin: ``select`` →
    the model kept (``selected``), ``best_k`` → ``combo``, a fixed combination → itself, ``select_combination``
    → the combination of lowest backtest error. Where that column has no value, the selected model."""
    among = per_series_choices(cv, singles, combos)[AMONG]
    has = cv.groupby("unique_id")[[c for c in ["combo", *combos] if c in cv]].apply(lambda g: g.notna().all())
    out = {}
    for uid, s in strategy_of.items():
        col = {SELECT: selected.get(uid), BEST_K: "combo", AMONG: among.get(uid)}.get(s, s)
        ok = col is not None and (col in singles or (col in has.columns and bool(has.at[uid, col])))
        out[uid] = col if ok else selected.get(uid)
    return pd.Series(out, dtype=object)


def members(model_of: pd.Series, cv: pd.DataFrame, singles: list[str], k: int) -> pd.Series:
    """The single models each series' forecast column needs fitted: a single model itself, the best-k
    ``combo`` its ``k`` best on the backtest (``best_models``), a fixed combination its members."""
    best = best_models(cv[cv["unique_id"].isin(model_of.index)], singles, k)
    out = {}
    for uid, col in model_of.items():
        if col == "combo":
            out[uid] = best.get(uid, ())
        elif col in singles:
            out[uid] = (col,)
        else:
            out[uid] = tuple(parse_combination(str(col))[1])
    return pd.Series(out, dtype=object)


def widening_of(evidence: pd.DataFrame, groups: pd.Series, levels: tuple[int, ...]) -> pd.DataFrame:
    """Per series (index) and level (columns) the held-out widening of its group's chosen strategy (1 where the
    evidence has none)."""
    chosen = evidence[evidence["chosen"].astype(bool)].set_index("group")
    out = pd.DataFrame(index=groups.index)
    for lv in levels:
        col = chosen[f"widen_{lv}"] if f"widen_{lv}" in chosen else pd.Series(dtype=float)
        out[lv] = groups.astype(str).map(col).fillna(1.0).to_numpy(dtype=float)
    return out
