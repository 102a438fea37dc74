"""How the forecasting engine scales with the number of series: ``forecast_core`` on synthetic monthly
series shaped like a consumer-goods company, with the default ``ForecastParams``.

    .venv/bin/python benchmarks/bench_scaling.py [--sizes 200,2000,10000] [--months 48] [--workers 0]
                                                 [--json PATH]

The series are drawn deterministically (``numpy.random.default_rng``, ``--seed``): mostly smooth seasonal
series with a trend and log-normal noise, ~15 % intermittent, ~5 % new items with a short history. Annual
revenue per series follows the Pareto principle: about 20 % of the series make 80 % of revenue (class A),
as in a real assortment. It is drawn log-normal (sigma 1.7, stratified by quantile), whose concentration does not depend on the
number of series (a Pareto law's sample share of the top 20 % does, strongly). Intermittent items are slow
movers (drawn from the lower revenue ranks).
Each size is drawn on its own and timed once (data generation is not timed). A small untimed warm-up
first compiles statsforecast's numba code in this process, so that forked workers inherit it and the first
size is not charged for compilation.

Prints Markdown tables: wall time, time per series, throughput, peak memory, the time per series relative
to the smallest size (constant = linear scaling), the segments drawn and the models chosen. With --json PATH
it also writes the figures.

Run it on an otherwise idle machine: other processes competing for the cores distort the times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from sop_lib.data.params import ForecastParams
from sop_lib.demand.forecast.engine import forecast_core
from sop_lib.demand.forecast.models import PREFERENCE
from sop_lib.demand.forecast.series import future_months

LAST_MONTH = pd.Timestamp("2026-10-01")  # last month of history; the forecast starts 2026-11
FAMILIES = 12
SHARE_INTERMITTENT = 0.15
SHARE_NEW = 0.05
REVENUE_MEDIAN = 50_000.0  # EUR a year
REVENUE_SIGMA = 1.7  # log-normal: the top 20 % of series make 80 % of revenue (Pareto principle)


def synthetic_company(n: int, months: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series,
                                                                pd.Series]:
    """(train, future, family, revenue, kind) for ``n`` series of up to ``months`` months ending LAST_MONTH.

    ``kind`` (by unique_id) is what was drawn: smooth / intermittent / new."""
    rng = np.random.default_rng(seed)
    horizon = ForecastParams().horizon_months
    all_months = pd.date_range(end=LAST_MONTH, periods=months, freq="MS")
    moy = all_months.month.to_numpy() - 1  # 0 … 11
    t = np.arange(months) - (months - 1)  # months before the last one (0 at the end)

    # revenue ranks, largest first: one log-normal draw per n-quantile stratum (so that small samples are
    # as concentrated as large ones); intermittent items come from the lower 70 % of ranks
    u = (np.arange(n) + rng.random(n)) / n
    z = np.array([NormalDist().inv_cdf(1 - q) for q in u])
    revenue_draw = REVENUE_MEDIAN * np.exp(REVENUE_SIGMA * z)
    kind = np.full(n, "smooth", dtype=object)
    n_int, n_new = round(n * SHARE_INTERMITTENT), round(n * SHARE_NEW)
    low = np.arange(int(n * 0.3), n)
    intermittent = rng.choice(low, size=min(n_int, len(low)), replace=False)
    kind[intermittent] = "intermittent"
    rest = np.flatnonzero(kind == "smooth")
    kind[rng.choice(rest, size=min(n_new, len(rest)), replace=False)] = "new"

    # families: each has a seasonal shape (amplitude, peak month); series jitter around it
    fam_amp = rng.uniform(0.05, 0.45, FAMILIES)
    fam_peak = rng.integers(0, 12, FAMILIES)
    fam_of = rng.integers(0, FAMILIES, n)
    price = np.exp(rng.uniform(np.log(0.8), np.log(20.0), n))

    ids = [f"S{i:05d}" for i in range(n)]
    frames = []
    for i in range(n):
        units_year = revenue_draw[i] / price[i]
        f = fam_of[i]
        amp = max(0.0, fam_amp[f] + rng.normal(0, 0.05))
        season = 1 + amp * np.cos(2 * np.pi * (moy - fam_peak[f]) / 12)
        if kind[i] == "intermittent":
            p = rng.uniform(0.15, 0.6)  # chance of an order in a month (ADI 1.7 … 6.7)
            mean_size = units_year / 12 / p
            occurs = rng.random(months) < p
            sizes = rng.gamma(shape=rng.uniform(1.5, 6.0), scale=1.0, size=months)
            y = np.where(occurs, np.maximum(1.0, np.round(mean_size * sizes / sizes.mean())), 0.0)
            first = 0
        else:
            trend = rng.normal(0.0, 0.08) / 12  # ± 8 % a year, typically
            level = units_year / 12 * np.exp(trend * t)
            sigma = rng.uniform(0.05, 0.3)
            y = np.round(level * season * rng.lognormal(-sigma**2 / 2, sigma, months))
            first = months - int(rng.integers(3, 20)) if kind[i] == "new" else 0
            if kind[i] == "new":  # ramp-up over the first months after launch
                y[first:] = np.round(y[first:] * np.minimum(1.0, (np.arange(months - first) + 1) / 4))
        frames.append(pd.DataFrame({"unique_id": ids[i], "ds": all_months[first:], "y": y[first:].astype(float)}))
    train = pd.concat(frames, ignore_index=True)
    future = pd.DataFrame({"unique_id": np.repeat(ids, horizon),
                           "ds": np.tile(future_months(LAST_MONTH, horizon), n)})
    family = pd.Series([f"F{f:02d}" for f in fam_of], index=ids)
    # as build_forecast does: the last twelve months' units × price
    recent = train[train["ds"] > LAST_MONTH - pd.DateOffset(months=12)]
    revenue = recent.groupby("unique_id")["y"].sum().reindex(ids, fill_value=0.0) * pd.Series(price, index=ids)
    return train, future, family, revenue, pd.Series(kind, index=ids)


def maxrss_mb(who: int) -> float:
    """Peak resident set size in MB (Linux reports KiB, macOS bytes)."""
    rss = resource.getrusage(who).ru_maxrss
    return rss / 1024**2 if sys.platform == "darwin" else rss / 1024


def warm_up(seed: int) -> None:
    """Forecast a few series in this process, untimed: numba compiles (or loads) statsforecast's code once
    here and forked workers inherit it; Prophet's CmdStan binary is loaded."""
    train, future, family, revenue, _ = synthetic_company(20, 48, seed + 1)
    params = ForecastParams(workers=1, prophet_uncertainty_samples=10)
    forecast_core(train, future, family, revenue, params)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="200,2000,10000", help="numbers of series, comma-separated")
    ap.add_argument("--months", type=int, default=48, help="months of history of a regular series")
    ap.add_argument("--workers", type=int, default=0, help="local processes (0 = all cores; 1 = this process)")
    ap.add_argument("--seed", type=int, default=20261101)
    ap.add_argument("--no-warm-up", dest="warm_up", action="store_false", help="skip the untimed warm-up")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())

    params = ForecastParams(workers=args.workers)  # the defaults, but for the number of processes
    if args.warm_up:
        t0 = time.perf_counter()
        warm_up(args.seed)
        print(f"warm-up (untimed in the table): {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    rows = []
    for n in sizes:
        train, future, family, revenue, kind = synthetic_company(n, args.months, args.seed)
        t0 = time.perf_counter()
        core = forecast_core(train, future, family, revenue, params)
        wall = time.perf_counter() - t0
        sel = core.selection
        established = sel[sel["lifecycle"] == "established"]
        rows.append({
            "series": n, "wall_s": wall, "ms_per_series": wall / n * 1000, "series_per_s": n / wall,
            "parent_maxrss_mb": maxrss_mb(resource.RUSAGE_SELF),
            "children_maxrss_mb": maxrss_mb(resource.RUSAGE_CHILDREN),
            "drawn": kind.value_counts().to_dict(),
            "abc": sel["abc"].value_counts().to_dict(),
            "sb_class": established["sb_class"].value_counts().to_dict(),
            "lifecycle": sel["lifecycle"].value_counts().to_dict(),
            "a_revenue_share": float(revenue[sel.loc[sel["abc"] == "A", "unique_id"]].sum() / revenue.sum()),
            "models": sel["model"].value_counts().to_dict(),
        })
        print(f"{n} series: {wall:.1f} s", file=sys.stderr)

    ncpu = os.cpu_count()
    print(f"\nMachine: {platform.machine()}, {ncpu} cores, Python {platform.python_version()}; "
          f"workers={args.workers} ({'all cores' if args.workers == 0 else 'processes'}), "
          f"{args.months} months of history, default ForecastParams "
          f"(horizon {params.horizon_months}, {params.backtest_windows} origins × {params.backtest_horizon} months, "
          f"Prophet for {'/'.join(params.prophet_classes)} with {params.prophet_uncertainty_samples} samples)\n")
    base = rows[0]["ms_per_series"]
    head = ["series", "wall time", "time per series", "series per second", "relative time per series",
            "peak RSS parent", "peak RSS largest worker"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---:|" * len(head))
    for r in rows:
        cells = [f"{r['series']:,}", f"{r['wall_s']:.1f} s", f"{r['ms_per_series']:.0f} ms",
                 f"{r['series_per_s']:.1f}", f"{r['ms_per_series'] / base:.2f}×",
                 f"{r['parent_maxrss_mb']:.0f} MB",
                 f"{r['children_maxrss_mb']:.0f} MB" if r["children_maxrss_mb"] else "–"]
        print("| " + " | ".join(cells) + " |")
    print(f"\nTime per series relative to the smallest size ({rows[0]['series']:,} series): 1.00× at every size "
          "is linear scaling.\nPeak RSS parent = getrusage(RUSAGE_SELF).ru_maxrss of this process; peak RSS largest "
          "worker = getrusage(RUSAGE_CHILDREN).ru_maxrss, the largest single finished worker process (not a sum; "
          "forked workers count the parent's pages they share). Both are high-water marks since the script "
          "started (sizes run smallest first), so a row also reflects the smaller sizes before it and the "
          "warm-up.\n")

    print("Segments drawn and detected (shares of all series; the last column: of the established ones):\n")
    seg_head = ["series", "drawn smooth / intermittent / new", "ABC: A / B / C", "A's revenue share",
                "lifecycle: established / new / inactive", "established: smooth / erratic / intermittent / lumpy"]
    print("| " + " | ".join(seg_head) + " |")
    print("|" + "---:|" * len(seg_head))
    for r in rows:
        n = r["series"]

        def pct(d: dict, keys: list[str]) -> str:
            total = sum(d.values()) or 1
            return " / ".join(f"{d.get(k, 0) / total:.0%}" for k in keys)

        cells = [f"{n:,}", pct(r["drawn"], ["smooth", "intermittent", "new"]), pct(r["abc"], ["A", "B", "C"]),
                 f"{r['a_revenue_share']:.0%}", pct(r["lifecycle"], ["established", "new", "inactive"]),
                 pct(r["sb_class"], ["smooth", "erratic", "intermittent", "lumpy"])]
        print("| " + " | ".join(cells) + " |")

    print("\nSeries per chosen model:\n")
    seen = {m for r in rows for m in r["models"]}
    models = [m for m in [*PREFERENCE, "family_profile", "zero"] if m in seen] + sorted(
        seen - {*PREFERENCE, "family_profile", "zero"})
    print("| series | " + " | ".join(models) + " |")
    print("|" + "---:|" * (len(models) + 1))
    for r in rows:
        print(f"| {r['series']:,} | " + " | ".join(str(r["models"].get(m, 0)) for m in models) + " |")

    if args.json:
        meta = {"machine": platform.machine(), "cores": ncpu, "python": platform.python_version(),
                "workers": args.workers, "months": args.months, "seed": args.seed, "warm_up": args.warm_up,
                "params": params.model_dump(mode="json")}
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
