"""Which candidate models earn their cost, measured on a sample before the whole portfolio is backtested.

A large portfolio first backtests every candidate on a systematic sample of its series (every k-th by revenue,
so A, B and C items are all in it). Then, dearest model first (``COST_ORDER``), each model is left out if the
strategy chosen without it scores, on the held-out last origin, within ``screen_tolerance_pct`` of the score
with every candidate, in both WAPE and mean MASE, at the upper end of a 90 % bootstrap interval over the sample's
series; the change is counted against the full set, so all models left out together cost at most that much. The
rest of the portfolio is backtested without the models left out; the sample's series lose them too, so every
series competes among the same models. The table of what was tried is shown on the forecast page. A small
portfolio (the sample would be a third of it or more) is not screened: there is little to save.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.select import drop_wild
from sop_lib.demand.forecast.strategy import (
    BEST_K,
    SELECT,
    add_fixed,
    choose_strategy,
    strategy_columns,
    take_choice,
)

# dearest first, by CPU per series measured in one process (tourism, 100 series of ≈ 275 months, backtest + final
# fit): Prophet ≈ 0.3 s (four fits), AutoARIMA ≈ 0.5 s, AutoETS 0.45 s, airline ARIMA 0.2 s, AutoTheta 0.13 s,
# CES 0.015 s without its own intervals, DynamicOptimizedTheta 0.06 s. Seasonal naive and the intermittent-demand
# models cost next to nothing and are never left out.
COST_ORDER = ("prophet", "auto_arima", "ets", "arima", "theta", "dyn_theta", "ces")
METRICS = ("wape", "mase")
BOOTSTRAP_DRAWS = 1000
SCREENING_COLUMNS = ["model", "wape_all", "wape_without", "wape_change_pct", "wape_upper_pct", "mase_all",
                     "mase_without", "mase_change_pct", "mase_upper_pct", "decision", "sample", "series"]


def screening_sample(revenue_rank: pd.Series, params: ForecastParams) -> list[object]:
    """The series to screen on: every k-th of ``revenue_rank`` (unique_id → rank, 1 = largest), at least
    ``screen_min_series`` and ``screen_share`` of them; empty when screening is off or would not pay (the sample
    would be a third of the portfolio or more)."""
    n = len(revenue_rank)
    size = max(params.screen_min_series, math.ceil(params.screen_share * n))
    if not params.screen_candidates or size * 3 > n:
        return []
    ordered = revenue_rank.sort_values(kind="stable").index
    picks = np.unique(np.linspace(0, n - 1, size).round().astype(int))
    return list(ordered[picks])  # the ids as given (strings in the S&OP tables, anything in forecast_core)


def held_out_errors(
    cv: pd.DataFrame, train: pd.DataFrame, groups: pd.Series, singles: list[str], scale: pd.Series,
    params: ForecastParams,
) -> dict[str, pd.DataFrame]:
    """Per series, on the held-out last origin, with the candidates ``singles`` only, the errors of the strategy
    chosen (``"chosen"``) and of the strategies that use every candidate (``select``, ``best_k``): ``ae`` (sum
    of |error|), ``ay`` (sum of |actual|), ``mase`` (MAE / ``scale``; NaN without one)."""
    cv = drop_wild(cv, train, singles)
    cv, _ = add_fixed(cv, cv.iloc[:0], params.combinations, ())
    _, strategy_of = choose_strategy(cv, groups, singles, scale, params)
    combos = [c for c in params.combinations if c in cv]
    frame, names, _ = strategy_columns(cv, singles, combos, params.combine_best, params.combine_method)
    held = frame[frame["cutoff"] == frame["cutoff"].max()]
    y = held["y"].to_numpy(dtype=float)
    forecasts = {"chosen": take_choice(held, strategy_of),
                 **{n: held[n].to_numpy(dtype=float) for n in (SELECT, BEST_K) if n in names}}
    out = {}
    for name, f in forecasts.items():
        err = np.abs(y - f)
        per = pd.DataFrame({"unique_id": held["unique_id"].to_numpy(), "ae": err, "ay": np.abs(y), "mae": err})
        per = per.groupby("unique_id").agg(ae=("ae", "sum"), ay=("ay", "sum"), mae=("mae", "mean"))
        out[name] = per.assign(mase=per["mae"] / scale.reindex(per.index)).drop(columns="mae")
    return out


def change_bound(full: pd.DataFrame, without: pd.DataFrame, draws: int = BOOTSTRAP_DRAWS) -> dict[str, float]:
    """The change of WAPE and of mean MASE (in %) from ``full`` to ``without`` (both ``held_out_errors``): the
    point estimate and the upper end of its 90 % interval, by a bootstrap over the series (paired, seeded)."""
    both = full.join(without, lsuffix="_all", rsuffix="_without", how="inner")
    if both.empty:
        return {f"{m}_{k}_pct": float("nan") for m in METRICS for k in ("change", "upper")}
    ok = both["mase_all"].notna() & both["mase_without"].notna()
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(both), size=(draws, len(both)))
    out = {}
    for m, num, den, mask in (("wape", "ae_without", "ae_all", np.ones(len(both), bool)),
                              ("mase", "mase_without", "mase_all", ok.to_numpy())):
        a = np.where(mask, both[num].fillna(0).to_numpy(dtype=float), 0.0)
        b = np.where(mask, both[den].fillna(0).to_numpy(dtype=float), 0.0)
        ratio = a[idx].sum(axis=1) / np.where(b[idx].sum(axis=1) > 0, b[idx].sum(axis=1), np.nan)
        out[f"{m}_change_pct"] = 100 * (a.sum() / b.sum() - 1) if b.sum() > 0 else float("nan")
        out[f"{m}_upper_pct"] = 100 * (float(np.nanquantile(ratio, 0.95)) - 1) if np.isfinite(ratio).any() else np.nan
    return out


def _summary(per: pd.DataFrame) -> dict[str, float]:
    return {"wape": float(per["ae"].sum() / per["ay"].sum()) if per["ay"].sum() > 0 else float("nan"),
            "mase": float(per["mase"].mean())}


def without_models(frame: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """``frame`` without the columns of ``models`` (each model's point column and its ``-lo-`` / ``-hi-`` bounds)."""
    return frame.drop(columns=[c for c in frame.columns if any(c == m or c.startswith(f"{m}-") for m in models)])


def _sole_candidate(cv: pd.DataFrame, model: str, singles: list[str]) -> bool:
    """Whether some series has a value for ``model`` and for no other candidate (it must keep a forecast)."""
    others = [m for m in singles if m != model and m in cv]
    has_model = cv.groupby("unique_id")[model].apply(lambda s: s.notna().any())
    has_other = (cv.groupby("unique_id")[others].apply(lambda g: g.notna().any().any()) if others
                 else pd.Series(False, index=has_model.index))
    return bool((has_model & ~has_other.reindex(has_model.index, fill_value=False)).any())


def screen(
    cv: pd.DataFrame, train: pd.DataFrame, groups: pd.Series, singles: list[str], scale: pd.Series,
    params: ForecastParams, portfolio: int,
) -> tuple[list[str], pd.DataFrame]:
    """The models to leave out, and the evidence (``SCREENING_COLUMNS``) on the sample ``cv``: each model tried,
    the held-out WAPE and mean MASE of the chosen strategy with every candidate and without it (and those already
    left out), the change, the upper end of its 90 % bootstrap interval (the worst of the chosen strategy,
    ``select`` and ``best_k``), the decision. A model is left out only when the sample shows it is not needed:
    every upper end within the tolerance. Both measures, because WAPE is ruled by the large series and MASE by
    the many small ones; the bound, because one held-out origin of a sample is a small test; ``select`` and
    ``best_k`` too, because the whole portfolio may choose one of them where the sample chose a combination
    that does not use the model."""
    if cv.empty or not any(m in singles for m in COST_ORDER):  # nothing backtested, or nothing to try
        return [], pd.DataFrame(columns=SCREENING_COLUMNS)
    full = held_out_errors(cv, train, groups, singles, scale, params)
    keep, dropped, rows = list(singles), [], []
    tol = params.screen_tolerance_pct
    n = int(cv["unique_id"].nunique())
    base = {f"{m}_all": v for m, v in _summary(full["chosen"]).items()}
    for model in [m for m in COST_ORDER if m in keep]:
        trial = [m for m in keep if m != model]
        if _sole_candidate(cv[["unique_id", *keep]], model, keep):
            rows.append({"model": model, **base, "decision": "kept: the only candidate of some series"})
            continue
        part = without_models(cv, [model])
        without = held_out_errors(part, train, groups, trial, scale, params)
        changes = {name: change_bound(full[name], without[name]) for name in full if name in without}
        bad = [(name, m) for name, c in changes.items() for m in METRICS if not c[f"{m}_upper_pct"] <= tol]
        worse = [m.upper() for m in METRICS if any(b[1] == m for b in bad)]
        which = ", ".join(dict.fromkeys("the chosen strategy" if b[0] == "chosen" else b[0] for b in bad))
        upper = {f"{m}_upper_pct": max(c[f"{m}_upper_pct"] for c in changes.values()) for m in METRICS}
        rows.append({"model": model, **base, **{f"{m}_without": v for m, v in _summary(without["chosen"]).items()},
                     **{k: v for k, v in changes["chosen"].items() if k.endswith("change_pct")}, **upper,
                     "decision": "left out" if not worse else f"kept: {' and '.join(worse)} may be worse without it ({which})"})
        if not worse:
            keep, cv = trial, part
            dropped.append(model)
    table = pd.DataFrame(rows, columns=SCREENING_COLUMNS[:-2]).assign(sample=n, series=portfolio)
    return dropped, table
