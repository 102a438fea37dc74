"""Time the constrained supply plan (``supply.plan_supply``, a linear programme solved by HiGHS).

    .venv/bin/python benchmarks/bench_supply.py [--skus 2000] [--months 18] [--seed 20261101] [--json PATH]

Two cases, each timed once after an untimed warm-up solve:

- the demo company (``demo.generate_demo_company('2026-11', n_skus=56)``) over 18 months from 2026-11, its
  demand a seasonal naive plan: each SKU's units of the same calendar month in the last twelve months of
  history (summed over regions; zero after a phase-out SKU's end_period), its own capacity, opening stock,
  prices in force (``finance.prices_for``) and the supply parameters of ``params/defaults.yaml``;
- a synthetic company of ``--skus`` SKUs on 5 resources (two routes per SKU, as in the demo), with seasonal
  demand, capacity set so that the load averages 92 % of each resource over the horizon (seasonal peaks go
  over; a shutdown leaves Bottling 40 % of its hours mid-horizon; Packing has 70 % fewer hours in the first
  month, too early to build ahead for), and the same supply parameters but for the overtime limits: 10 % of
  each resource's mean monthly hours (the demo's limits fit the demo's size).

For each it prints a Markdown table: model size, build and solve time, the objective and its parts, unmet
units, overtime hours, units built ahead, resource-months at their limit; then ``demand_at_risk`` on the demo
(the figures of the executive summary sentence). Data generation is not timed. With --json PATH it also
writes the figures. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sop_lib.data.params import SupplyParams, load_params
from sop_lib.demo import generate_demo_company
from sop_lib.demo.project import DEMO_PARAMS
from sop_lib.finance.plan_value import prices_for
from sop_lib.supply import PlanInputs, built_ahead_units, demand_at_risk, plan_supply

PROJECT = Path(__file__).resolve().parent.parent
START = pd.Timestamp("2026-11-01")
RESOURCES = ("Mixing", "Bottling", "Canning", "Baking", "Packing")
UTILISATION = 0.92  # of the synthetic case, on average over the horizon
ROUTES = (("Mixing", "Bottling"), ("Mixing", "Bottling"), ("Mixing", "Canning"), ("Baking", "Packing"))


def demo_case(months: int) -> dict[str, pd.DataFrame]:
    """The demo company's tables with an 18-month seasonal naive demand plan (see the module docstring)."""
    t = generate_demo_company(f"{START:%Y-%m}", n_skus=56)
    sales = t["sales_history"].groupby(["sku", "period"], as_index=False)["units"].sum()
    last_year = sales[sales["period"] >= START - pd.DateOffset(months=12)]
    horizon = pd.date_range(START, periods=months, freq="MS")
    plan = pd.DataFrame({"sku": np.repeat(t["products"]["sku"].to_numpy(), months),
                         "period": np.tile(horizon, len(t["products"]))})
    plan["month"] = plan["period"].dt.month
    plan = plan.merge(last_year.assign(month=last_year["period"].dt.month).drop(columns="period"),
                      on=["sku", "month"], how="left").drop(columns="month").fillna({"units": 0.0})
    end = plan["sku"].map(t["products"].set_index("sku")["end_period"])
    plan.loc[end.notna() & (plan["period"] > end), "units"] = 0.0
    economics = prices_for(plan[["sku", "period"]], t["prices"])
    return {"demand": plan, "bill_of_resources": t["bill_of_resources"], "capacity": t["capacity"],
            "opening_stock": t["inventory"], "prices": economics}


def synthetic_case(n_skus: int, months: int, seed: int) -> dict[str, pd.DataFrame]:
    """``n_skus`` SKUs on 5 resources; the load averages 92 % of capacity, peaks go over (module docstring)."""
    rng = np.random.default_rng(seed)
    horizon = pd.date_range(START, periods=months, freq="MS")
    skus = np.array([f"S{i:05d}" for i in range(n_skus)], dtype=object)
    family = rng.integers(0, len(ROUTES), n_skus)
    level = np.exp(rng.uniform(np.log(200), np.log(8000), n_skus))
    peak = rng.integers(1, 13, n_skus)
    amp = rng.uniform(0.05, 0.4, n_skus)
    season = 1 + amp[:, None] * np.cos(2 * np.pi * (horizon.month.to_numpy()[None, :] - peak[:, None]) / 12)
    units = np.round(level[:, None] * season * rng.lognormal(0, 0.1, (n_skus, months)))
    demand = pd.DataFrame({"sku": np.repeat(skus, months), "period": np.tile(horizon, n_skus),
                           "units": units.ravel()})
    route_res = np.array([[RESOURCES.index(r) for r in ROUTES[f]] for f in family])  # n_skus × 2
    hours = rng.uniform(0.002, 0.012, (n_skus, 2))
    bor = pd.DataFrame({"sku": np.repeat(skus, 2), "resource": np.array(RESOURCES, dtype=object)[route_res.ravel()],
                        "hours_per_unit": hours.ravel().round(5)})
    load = np.zeros((len(RESOURCES), months))
    for k in range(2):
        np.add.at(load, route_res[:, k], hours[:, k, None] * units)
    available = np.repeat(load.mean(axis=1, keepdims=True) / UTILISATION, months, axis=1)
    available[1, months // 2] *= 0.4  # a shutdown mid-horizon: build ahead for it
    available[4, 0] *= 0.3  # a short first month: nothing can be built ahead for it
    capacity = pd.DataFrame({"resource": np.repeat(np.array(RESOURCES, dtype=object), months),
                             "period": np.tile(horizon, len(RESOURCES)), "available_hours": available.round().ravel()})
    price = np.exp(rng.uniform(np.log(0.5), np.log(2.5), n_skus))
    economics = pd.DataFrame({"sku": skus, "unit_price": price.round(2),
                              "unit_cost": (price * rng.uniform(0.5, 0.7, n_skus)).round(2)})
    stock = pd.DataFrame({"sku": skus, "on_hand": np.round(units[:, 0] * rng.uniform(0.0, 0.5, n_skus))})
    return {"demand": demand, "bill_of_resources": bor, "capacity": capacity, "opening_stock": stock,
            "prices": economics}


def scaled_overtime(params: SupplyParams, capacity: pd.DataFrame) -> SupplyParams:
    """The parameters with each resource's overtime limited to 10 % of its mean monthly hours (the demo's
    limits are for the demo's size), at the same cost per hour."""
    mean = capacity.groupby("resource")["available_hours"].mean()
    overtime = {r: o.model_copy(update={"max_hours": round(0.1 * float(mean[r]))})
                for r, o in params.overtime.items() if r in mean.index}
    return params.model_copy(update={"overtime": overtime})


def run(name: str, case: dict[str, pd.DataFrame], params: SupplyParams,
        safety: pd.DataFrame | None = None) -> dict[str, object]:
    t0 = time.perf_counter()
    result = plan_supply(PlanInputs(**case, params=params, safety_stock=safety))
    wall = time.perf_counter() - t0
    plan, res = result.plan, result.resources
    return {
        "case": name, "skus": int(plan["sku"].nunique()), "months": int(plan["period"].nunique()),
        "resources": int(res["resource"].nunique()), "variables": result.n_variables,
        "constraints": result.n_constraints, "build_s": result.build_seconds, "solve_s": result.solve_seconds,
        "wall_s": wall, **result.cost_totals, "demand_units": float(plan["demand"].sum()),
        "unmet_units": float(plan["unmet"].sum()), "overtime_hours": float(res["overtime_hours"].sum()),
        "built_ahead_units": built_ahead_units(plan), "binding_resource_months": int(res["binding"].sum()),
        "resource_months": len(res),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skus", type=int, default=2000)
    ap.add_argument("--months", type=int, default=18)
    ap.add_argument("--seed", type=int, default=20261101)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    params = load_params(DEMO_PARAMS, f"{START:%Y-%m}").supply
    demo = demo_case(args.months)
    synthetic = synthetic_case(args.skus, args.months, args.seed)
    plan_supply(PlanInputs(**synthetic_case(20, 3, args.seed), params=params))  # warm-up: imports, first solver call
    # the cycle plans with a safety-stock target (a soft constraint per SKU-month): 15 % of a month's demand here
    safety = (synthetic["demand"].groupby("sku")["units"].mean() * 0.15).rename("safety_stock").reset_index()
    scaled = scaled_overtime(params, synthetic["capacity"])
    rows = [run("demo company (56 SKUs)", demo, params),
            run(f"synthetic ({args.skus:,} SKUs)", synthetic, scaled),
            run(f"synthetic ({args.skus:,} SKUs) + safety stock", synthetic, scaled, safety)]
    t0 = time.perf_counter()
    risk = demand_at_risk(PlanInputs(**demo, params=params))
    risk_s = time.perf_counter() - t0

    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"supply parameters of params/ (holding {params.holding_cost_pct_per_year:g} %/year, build-ahead "
          f"{'on' if params.build_ahead else 'off'}, overtime on {len(params.overtime)} resources)\n")
    head = ["case", "SKUs × months × resources", "variables", "constraints", "build", "solve", "wall",
            "objective (EUR)", "lost margin", "holding", "overtime", "unmet units (of demand)", "overtime h",
            "built ahead units", "binding resource-months"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" + "---:|" * (len(head) - 1))
    for r in rows:
        cells = [r["case"], f"{r['skus']} × {r['months']} × {r['resources']}", f"{r['variables']:,}",
                 f"{r['constraints']:,}", f"{r['build_s']:.2f} s", f"{r['solve_s']:.2f} s", f"{r['wall_s']:.2f} s",
                 f"{r['total']:,.0f}", f"{r['lost_margin']:,.0f}", f"{r['holding_cost']:,.0f}",
                 f"{r['overtime_cost']:,.0f}", f"{r['unmet_units']:,.0f} ({r['unmet_units'] / r['demand_units']:.2%})",
                 f"{r['overtime_hours']:,.0f}", f"{r['built_ahead_units']:,.0f}",
                 f"{r['binding_resource_months']} of {r['resource_months']}"]
        print("| " + " | ".join(cells) + " |")
    print(f"\nDemand at risk on the demo ({risk_s:.2f} s for both solves): {risk.summary('EUR')}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "demand_at_risk": risk.figures}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
