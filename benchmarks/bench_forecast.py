"""The engine against a plain Prophet loop, side by side, on real data (Stallion) and on the demo company.

    .venv/bin/python benchmarks/bench_forecast.py [--data stallion,demo] [--limit N] [--json PATH]

For each data set the last 12 months are held out. The **plain Prophet loop** is what most people start
with: ``Prophet()`` with default settings, fitted one series after another. The **engine** is
``forecast_core`` with the default parameters: segmentation, its tournament with a 3-origin backtest on the
training months, the selection, then the 12-month forecast; on all local cores. Both see the same training
data; the engine also gets the regressors the data offers (Stallion: discount %, a count of holiday/event
flags; demo: promotion discount). Reported: WAPE, MASE (scale: in-sample seasonal-naive MAE of the training
months), bias, wall time. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from pathlib import Path

import pandas as pd

from sop_lib.core import metrics
from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast import forecast_core

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
HOLD = 12
PROPHET_CLASSES: tuple[str, ...] = ("A", "B")
EVENTS = ["easter_day", "good_friday", "new_year", "christmas", "labor_day", "independence_day",
          "revolution_day_memorial", "regional_games", "fifa_u_17_world_cup", "football_gold_cup", "beer_capital",
          "music_fest"]


def load_stallion(limit: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series, tuple[str, ...]]:
    df = pd.read_parquet(SHARED / "stallion.parquet")
    df["unique_id"] = df["agency"].astype(str) + "|" + df["sku"].astype(str)
    df["events"] = df[EVENTS].astype(float).sum(axis=1)
    df = df.rename(columns={"date": "ds", "volume": "y"})
    df["ds"] = pd.to_datetime(df["ds"]).dt.to_period("M").dt.to_timestamp()
    if limit:
        keep = df.groupby("unique_id")["y"].sum().nlargest(limit).index
        df = df[df["unique_id"].isin(keep)]
    last12 = df[df["ds"] > df["ds"].max() - pd.DateOffset(months=HOLD + 12)]
    last12 = last12[last12["ds"] <= df["ds"].max() - pd.DateOffset(months=HOLD)]
    revenue = (last12["y"] * last12["price_regular"]).groupby(last12["unique_id"]).sum()
    family = df.drop_duplicates("unique_id").set_index("unique_id")["sku"].astype(str)
    data = df[["unique_id", "ds", "y", "discount_in_percent", "events"]].sort_values(["unique_id", "ds"])
    return data.reset_index(drop=True), family, revenue, ("discount_in_percent", "events")


def load_demo() -> tuple[pd.DataFrame, pd.Series, pd.Series, tuple[str, ...]]:
    from sop_lib.data.prices import prices_for
    from sop_lib.demand.forecast import prepare_series
    from sop_lib.demo import generate_demo_company

    t = generate_demo_company("2026-11")
    s = prepare_series(t["sales_history"], t["promotions"], t["products"], pd.Timestamp("2026-11-01"))
    s = s[s.groupby("unique_id")["ds"].transform("size") > HOLD + 2]  # keep series with something to train on
    cut = s["ds"].max() - pd.DateOffset(months=HOLD)
    recent = s[(s["ds"] > cut - pd.DateOffset(months=12)) & (s["ds"] <= cut)]
    priced = prices_for(recent.rename(columns={"ds": "period"})[["sku", "period"]], t["prices"])
    revenue = pd.Series(recent["y"].to_numpy() * priced["unit_price"].to_numpy(), index=recent.index).groupby(
        recent["unique_id"]).sum()
    family = s.drop_duplicates("unique_id").set_index("unique_id")["sku"].map(t["products"].set_index("sku")["family"])
    return s[["unique_id", "ds", "y", "promo"]].reset_index(drop=True), family, revenue, ("promo",)


def accuracy(test: pd.DataFrame, pred: pd.Series, scale: pd.Series) -> dict[str, float]:
    """WAPE, mean MASE over the series and bias % of ``pred`` against the held-out ``test`` (sop_lib.core.metrics)."""
    frame = test[["unique_id", "y"]].assign(pred=pred.to_numpy())
    return {
        "wape": metrics.wape(frame["y"], frame["pred"]),
        "mase": float(metrics.mase_by(frame, ["pred"], scale)["pred"].mean()),
        "bias_pct": metrics.bias_pct(frame["y"], frame["pred"]),
    }


def plain_prophet(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.Series, float]:
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)
    preds = []
    t0 = time.perf_counter()
    for uid, g in train.groupby("unique_id", sort=False):
        m = Prophet()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(g[["ds", "y"]])
            fut = test.loc[test["unique_id"] == uid, ["ds"]]
            preds.append(pd.Series(m.predict(fut)["yhat"].clip(lower=0).to_numpy(), index=fut.index))
    return pd.concat(preds).reindex(test.index), time.perf_counter() - t0


def run(name: str, data: pd.DataFrame, family: pd.Series, revenue: pd.Series, exog: tuple[str, ...]) -> dict:
    cut = data["ds"].max() - pd.DateOffset(months=HOLD)
    train, test = data[data["ds"] <= cut], data[data["ds"] > cut]
    scale = metrics.mase_scale(train, 12)  # in-sample seasonal-naive MAE of the training months
    n = train["unique_id"].nunique()
    print(f"\n== {name}: {n} series, train {train['ds'].min():%Y-%m} – {cut:%Y-%m}, test {HOLD} months", flush=True)

    params = ForecastParams(horizon_months=HOLD, prophet_classes=PROPHET_CLASSES)
    t0 = time.perf_counter()
    core = forecast_core(train, test.drop(columns="y"), family, revenue, params, exog=exog)
    t_engine = time.perf_counter() - t0
    eng = test.merge(core.forecast[["unique_id", "ds", "forecast", "forecast-lo-80", "forecast-hi-80",
                                    "forecast-lo-95", "forecast-hi-95"]], on=["unique_id", "ds"], how="left")
    eng_pred = pd.Series(eng["forecast"].to_numpy(), index=test.index)
    print(f"engine: {t_engine:.1f} s", flush=True)

    pp_pred, t_plain = plain_prophet(train, test)
    print(f"plain Prophet loop: {t_plain:.1f} s", flush=True)

    out = {"data": name, "series": n,
           "plain_prophet": {**accuracy(test, pp_pred, scale), "seconds": t_plain},
           "engine": {**accuracy(test, eng_pred, scale), "seconds": t_engine},
           "models": core.selection["model"].value_counts().to_dict()}
    for lv in (80, 95):
        inside = (eng["y"] >= eng[f"forecast-lo-{lv}"]) & (eng["y"] <= eng[f"forecast-hi-{lv}"])
        out["engine"][f"holdout_coverage_{lv}"] = float(inside.mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="stallion,demo")
    ap.add_argument("--limit", type=int, default=0, help="Stallion: only the N largest series (0 = all 350)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--prophet-classes", default="A,B", help="ABC classes Prophet competes for (engine)")
    args = ap.parse_args()
    global PROPHET_CLASSES
    PROPHET_CLASSES = tuple(c for c in args.prophet_classes.split(",") if c)
    rows = []
    for name in args.data.split(","):
        loaded = load_stallion(args.limit) if name == "stallion" else load_demo()
        rows.append(run(name, *loaded))
    print("\n| data | series | method | WAPE | MASE | bias | wall time |\n|---|---|---|---|---|---|---|")
    for r in rows:
        for method in ("plain_prophet", "engine"):
            m = r[method]
            label = "plain Prophet loop (defaults, sequential)" if method == "plain_prophet" else \
                "engine: tournament + 3-origin backtest (2 cores)"
            print(f"| {r['data']} | {r['series']} | {label} | {m['wape']:.1%} | {m['mase']:.3f} | "
                  f"{m['bias_pct']:+.1f} % | {m['seconds']:.1f} s |")
        gain = 1 - r["engine"]["wape"] / r["plain_prophet"]["wape"]
        print(f"| {r['data']} | | engine WAPE vs plain Prophet | {gain:+.1%} lower | | | "
              f"{r['engine']['seconds'] / r['plain_prophet']['seconds']:.2f}× the time |")
    for r in rows:
        print(f"\n{r['data']}: models kept {r['models']}; engine interval coverage on the hold-out: "
              f"80 %: {r['engine']['holdout_coverage_80']:.1%}, 95 %: {r['engine']['holdout_coverage_95']:.1%}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
