"""The KPI scorecard: each function's KPIs on one page, with a status from params and a trend over cycles,
and the follow-through of decisions (expected against measured effect).

A KPI is named ``id`` or ``id:scope`` (``accuracy``, ``accuracy:Juice``, ``hours_short:Bottling``): the same
names a decision's ``expected_kpi`` uses, so the review cycle's scorecard measures what the decision promised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sop_lib.data.params import Band, KpiParams
from sop_lib.review.variance import accuracy, bias_pct, tracking_signal
from sop_lib.supply.capacity import hours_short

Better = Literal["higher", "lower", "abs_lower", "band", "none"]


@dataclass(frozen=True)
class Kpi:
    id: str
    label: str
    function: Literal["sales", "operations", "finance"]
    better: Better
    unit: Literal["ratio", "pct", "number", "hours", "days", "money"]
    definition: str


KPIS: dict[str, Kpi] = {k.id: k for k in [
    Kpi("accuracy", "Forecast accuracy", "sales", "higher", "ratio",
        "1 − WAPE of the previous cycle's plan for its own month (lag 0)"),
    Kpi("bias_pct", "Forecast bias", "sales", "abs_lower", "pct",
        "Σ(F − A) / ΣA of the same plan-month; positive = over-forecast"),
    Kpi("tracking_signal", "Tracking signal", "sales", "abs_lower", "number",
        "Σ(A − F) / mean|A − F| over every closed plan-month of published plans; alarm outside ±limit"),
    Kpi("peak_utilisation", "Peak capacity utilisation", "operations", "lower", "ratio",
        "highest required / available hours in the next 6 months"),
    Kpi("hours_short", "Hours short of capacity", "operations", "lower", "hours",
        "required − available hours summed over the months over capacity, whole horizon"),
    Kpi("days_of_supply", "Days of supply", "operations", "band", "days",
        "projected stock at the end of the plan's third month / demand per day of the fourth (primer)"),
    Kpi("revenue_vs_budget_pct", "Revenue vs budget", "finance", "higher", "pct",
        "(plan − budget) / budget revenue over the forecast months the budget covers"),
    Kpi("margin_vs_budget_pct", "Gross margin vs budget", "finance", "higher", "pct",
        "(plan − budget) / budget gross margin over the same months"),
    Kpi("revenue_gap", "Revenue gap to budget", "finance", "higher", "money",
        "plan − budget revenue over the forecast months the budget covers (money)"),
]}
STATUSES = ("good", "watch", "act")
MET_PCT, PARTLY_MET_PCT = 80.0, 20.0  # share of a decision's expected change measured in its review cycle
SCORECARD_COLUMNS = ["kpi", "scope", "name", "label", "function", "value", "unit", "good", "warn", "status", "basis"]


def kpi_name(kpi: str, scope: str = "") -> str:
    return f"{kpi}:{scope}" if scope else kpi


def parse_kpi_name(name: str) -> tuple[str, str]:
    """``'hours_short:Bottling'`` → ``('hours_short', 'Bottling')``; ``'accuracy'`` → ``('accuracy', '')``."""
    kpi, _, scope = str(name).strip().partition(":")
    return kpi.strip(), scope.strip()


def rate(value: float, better: Better, band: Band | None, high: Band | None = None) -> str:
    """good / watch / act for one value. ``higher``: good from ``band.good`` up, watch from ``band.warn``;
    ``lower`` and ``abs_lower`` the other way round; ``band`` rates against a low band (higher is better)
    and a high band (lower is better) and keeps the worse. No band or no value: ``''``."""
    if value is None or not np.isfinite(value) or better == "none" or band is None:
        return ""
    if better == "band":
        return max(rate(value, "higher", band), rate(value, "lower", high), key=STATUSES.index)
    v = abs(value) if better == "abs_lower" else value
    if better == "higher":
        return "good" if v >= band.good else "watch" if v >= band.warn else "act"
    return "good" if v <= band.good else "watch" if v <= band.warn else "act"


def _bands(kpi: str, params: KpiParams) -> tuple[Band | None, Band | None]:
    return {
        "accuracy": (params.accuracy, None),
        "bias_pct": (params.abs_bias_pct, None),
        "tracking_signal": (params.abs_tracking_signal, None),
        "peak_utilisation": (params.peak_utilisation, None),
        "days_of_supply": (params.days_of_supply_low, params.days_of_supply_high),
        "revenue_vs_budget_pct": (params.revenue_vs_budget_pct, None),
        "margin_vs_budget_pct": (params.margin_vs_budget_pct, None),
    }.get(kpi, (None, None))


def _pct(num: float, den: float) -> float:
    return float(num / den * 100) if den else float("nan")


def compute_kpis(
    cycle_start: pd.Timestamp,
    plan_vs_actual: pd.DataFrame | None = None,
    capacity_review: pd.DataFrame | None = None,
    budget_gap: pd.DataFrame | None = None,
    consensus: pd.DataFrame | None = None,
    inventory: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    projection: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every KPI the inputs allow, total (scope ``''``) and per family or resource: ``kpi``, ``scope``,
    ``value``, ``basis`` (which months or plans it measures). A missing input drops its KPIs, never fails.

    ``plan_vs_actual``: ``plan_cycle``, ``lag``, ``family``, ``period``, ``actual``, ``forecast``.
    ``capacity_review``: ``resource``, ``period``, ``required_hours``, ``available_hours``, ``utilisation``.
    ``budget_gap``: ``family``, ``period``, ``plan_revenue``, ``budget_revenue``, ``plan_margin``, ``budget_margin``.
    ``consensus``: ``sku``, ``period``, ``consensus``; ``inventory``: ``sku``, ``on_hand``; ``products``:
    ``sku``, ``family``. ``projection`` (the supply plan's inventory projection: ``sku``, ``period``,
    ``closing``, ``demand``), when given, makes days of supply *projected*: stock at the end of the third
    month of the plan / demand per day of the fourth; without it, stock on hand / demand per day of the
    next three months.
    """
    rows: list[dict[str, object]] = []

    def add(kpi: str, scope: str, value: float, basis: str) -> None:
        rows.append({"kpi": kpi, "scope": scope, "value": float(value), "basis": basis})

    if plan_vs_actual is not None and len(plan_vs_actual):
        pva = plan_vs_actual
        lag0 = pva[pva["lag"] == 0]
        if len(lag0):
            last = lag0[lag0["plan_cycle"] == lag0["plan_cycle"].max()]
            basis = f"plan of {last['plan_cycle'].iloc[0]} for {pd.Timestamp(last['period'].iloc[0]):%Y-%m}"
            for scope, g in [("", last), *last.groupby("family")]:
                add("accuracy", str(scope), accuracy(g["actual"], g["forecast"]), basis)
                add("bias_pct", str(scope), bias_pct(g["actual"], g["forecast"]), basis)
        monthly = pva.groupby(["family", "plan_cycle", "period"], as_index=False)[["actual", "forecast"]].sum()
        total = monthly.groupby(["plan_cycle", "period"], as_index=False)[["actual", "forecast"]].sum()
        basis = f"{len(total)} plan-month{'s' if len(total) != 1 else ''} of cycles {', '.join(sorted(pva['plan_cycle'].unique()))}"
        add("tracking_signal", "", tracking_signal(total["actual"], total["forecast"]), basis)
        for fam, g in monthly.groupby("family"):
            add("tracking_signal", str(fam), tracking_signal(g["actual"], g["forecast"]), basis)

    if capacity_review is not None and len(capacity_review):
        cap = capacity_review
        near = cap[cap["period"] < cycle_start + pd.DateOffset(months=6)]
        finite = near[np.isfinite(near["utilisation"])]
        basis = f"{cycle_start:%Y-%m} – {(cycle_start + pd.DateOffset(months=5)):%Y-%m}"
        if len(finite):
            add("peak_utilisation", "", finite["utilisation"].max(), basis)
            for res, g in finite.groupby("resource"):
                add("peak_utilisation", str(res), g["utilisation"].max(), basis)
        short = hours_short(cap)
        basis = f"{cap['period'].min():%Y-%m} – {cap['period'].max():%Y-%m}"
        add("hours_short", "", short.sum(), basis)
        for res, s in short.groupby(cap["resource"]):
            add("hours_short", str(res), s.sum(), basis)

    if budget_gap is not None and len(budget_gap):
        bg = budget_gap
        basis = f"{bg['period'].min():%Y-%m} – {bg['period'].max():%Y-%m}"
        for scope, g in [("", bg), *bg.groupby("family")]:
            s = g[["plan_revenue", "budget_revenue", "plan_margin", "budget_margin"]].sum()
            add("revenue_vs_budget_pct", str(scope), _pct(s["plan_revenue"] - s["budget_revenue"], s["budget_revenue"]),
                basis)
            add("margin_vs_budget_pct", str(scope), _pct(s["plan_margin"] - s["budget_margin"], s["budget_margin"]),
                basis)
            add("revenue_gap", str(scope), s["plan_revenue"] - s["budget_revenue"], basis)

    if projection is not None and products is not None and len(projection):
        months = sorted(projection["period"].unique())
        if len(months) >= 4:
            at, nxt_m = pd.Timestamp(months[2]), pd.Timestamp(months[3])
            family = products.set_index("sku")["family"]
            stock = projection[projection["period"] == at].assign(family=lambda d: d["sku"].map(family))
            need = projection[projection["period"] == nxt_m].assign(family=lambda d: d["sku"].map(family))
            basis = f"projected stock end of {at:%Y-%m} / daily demand {nxt_m:%Y-%m}"
            per_day = need.groupby("family")["demand"].sum() / nxt_m.days_in_month
            held = stock.groupby("family")["closing"].sum()
            if per_day.sum() > 0:
                add("days_of_supply", "", held.sum() / per_day.sum(), basis)
            for fam in sorted(per_day.index):
                if per_day[fam] > 0:
                    add("days_of_supply", str(fam), held.get(fam, 0.0) / per_day[fam], basis)
    elif consensus is not None and inventory is not None and products is not None and len(consensus):
        end = cycle_start + pd.DateOffset(months=3)
        nxt = consensus[(consensus["period"] >= cycle_start) & (consensus["period"] < end)]
        days = float(pd.date_range(cycle_start, end - pd.DateOffset(days=1)).size)
        demand = nxt.groupby("sku")["consensus"].sum() / days
        stock = inventory.groupby("sku")["on_hand"].sum()
        family = products.set_index("sku")["family"]
        frame = pd.DataFrame({"daily": demand, "stock": stock}).fillna(0.0)
        frame["family"] = frame.index.map(family)
        basis = f"stock on hand / daily demand {cycle_start:%Y-%m} – {(end - pd.DateOffset(months=1)):%Y-%m}"
        for scope, g in [("", frame), *frame.groupby("family")]:
            if g["daily"].sum() > 0:
                add("days_of_supply", str(scope), g["stock"].sum() / g["daily"].sum(), basis)
    return pd.DataFrame(rows, columns=["kpi", "scope", "value", "basis"])


def scorecard(kpis: pd.DataFrame, params: KpiParams) -> pd.DataFrame:
    """``compute_kpis`` output with each KPI's label, owning function, unit, thresholds and status
    (good / watch / act from ``params``; ``''`` for KPIs shown without a threshold)."""
    out = kpis.copy()
    meta = out["kpi"].map(KPIS)
    out["name"] = [kpi_name(k, s) for k, s in zip(out["kpi"], out["scope"], strict=True)]
    out["label"] = [m.label for m in meta]
    out["function"] = [m.function for m in meta]
    out["unit"] = [m.unit for m in meta]
    bands = [_bands(k, params) for k in out["kpi"]]
    out["good"] = [b[0].good if b[0] else np.nan for b in bands]
    out["warn"] = [b[0].warn if b[0] else np.nan for b in bands]
    out["status"] = [rate(v, m.better, b[0], b[1]) for v, m, b in zip(out["value"], meta, bands, strict=True)]
    order = {k: i for i, k in enumerate(KPIS)}
    out["_o"] = out["kpi"].map(order)
    out["_s"] = out["scope"] != ""
    out = out.sort_values(["_o", "_s", "scope"], kind="stable").drop(columns=["_o", "_s"])
    return out[SCORECARD_COLUMNS].reset_index(drop=True)


def kpi_trend(scorecards: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Scorecards of several cycles in one long frame: ``cycle`` + the scorecard columns, oldest first."""
    frames = [s.assign(cycle=c) for c, s in sorted(scorecards.items()) if s is not None and len(s)]
    if not frames:
        return pd.DataFrame(columns=["cycle", *SCORECARD_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    return out[["cycle", *SCORECARD_COLUMNS]]


def follow_through(log: pd.DataFrame, scorecards: dict[str, pd.DataFrame], cycle: str) -> pd.DataFrame:
    """Decisions taken (status decided or closed) with an expected effect, against what was measured.

    ``expected_kpi`` names a KPI (``hours_short:Bottling``); ``expected_value`` is the change the decision
    should bring to it between the cycle that raised it and its ``review_cycle``. ``scorecards`` holds each
    cycle's scorecard (published ones and the current ``cycle``'s). Verdict: ``met`` (≥ 80 % of the
    expected change, in its direction), ``partly met`` (≥ 20 %: a few per cent is the noise of a new forecast,
    not a decision's effect), ``not met`` (less, or the wrong way),
    ``pending`` (review cycle not reached), ``not measurable`` (no such KPI in one of the two scorecards).
    """
    cols = ["id", "title", "decision", "owner", "expected_kpi", "raised_cycle", "review_cycle", "baseline",
            "expected_change", "expected_value", "measured", "measured_change", "achieved_pct", "verdict"]
    if log is None or not len(log):
        return pd.DataFrame(columns=cols)
    taken = log[log["status"].isin(["decided", "closed"]) & log["expected_kpi"].notna()
                & (log["expected_kpi"].astype(str) != "")].copy()
    taken = taken[pd.to_numeric(taken["expected_value"], errors="coerce").notna()]

    def value(at: str, name: str) -> float:
        card = scorecards.get(at)
        if card is None or not len(card):
            return float("nan")
        hit = card.loc[card["name"] == name, "value"]
        return float(hit.iloc[0]) if len(hit) else float("nan")

    rows = []
    for d in taken.to_dict(orient="records"):
        kpi, scope = parse_kpi_name(d["expected_kpi"])
        name = kpi_name(kpi, scope)
        review = d.get("review_cycle") or ""
        expected = float(d["expected_value"])
        base = value(d["raised_cycle"], name)
        rec = {k: d.get(k) for k in ("id", "title", "decision", "owner", "expected_kpi", "raised_cycle")}
        rec.update(review_cycle=review, baseline=base, expected_change=expected, expected_value=base + expected,
                   measured=np.nan, measured_change=np.nan, achieved_pct=np.nan)
        if not review or review > cycle:
            rec["verdict"] = "pending"
        else:
            measured = value(review, name)
            rec["measured"] = measured
            if np.isnan(base) or np.isnan(measured):
                rec["verdict"] = "not measurable"
            else:
                change = measured - base
                rec["measured_change"] = change
                if expected == 0:  # a KPI meant to hold still: met while it has not moved
                    rec["verdict"] = "met" if abs(change) < 1e-9 else "not met"
                else:
                    achieved = change / expected * 100
                    rec["achieved_pct"] = achieved
                    rec["verdict"] = ("met" if achieved >= MET_PCT else "partly met" if achieved >= PARTLY_MET_PCT
                                      else "not met")
        rows.append(rec)
    return pd.DataFrame(rows, columns=cols)
