"""The KPI scorecard: each function's KPIs on one page, with a status from params and a trend over cycles,
and the follow-through of decisions (expected against measured effect).

A KPI is named ``id`` or ``id:scope`` (``accuracy``, ``accuracy:Juice``, ``hours_short:Bottling``): the same
names a decision's ``expected_kpi`` uses, so the review cycle's scorecard measures what the decision promised.
``KPIS`` is the one list of KPIs (label, owner, direction, unit, definition, thresholds in ``KpiParams``);
``KPI_GROUPS`` the functions that measure them, one per group of KPIs that come from the same result table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sop_lib.core.cycle import Cycle, cycle_key, latest_cycle, sort_cycles
from sop_lib.core.metrics import accuracy, bias_pct, tracking_signal
from sop_lib.data.params import Band, KpiParams
from sop_lib.review.variance import month_span, own_months
from sop_lib.supply.capacity import hours_short

Better = Literal["higher", "lower", "abs_lower", "band", "none"]


@dataclass(frozen=True)
class Kpi:
    """One KPI of the scorecard. ``band`` names the ``KpiParams`` field with its thresholds (``None``: shown
    without a status); for ``better == "band"`` it is the low band and ``high_band`` the high one."""

    id: str
    label: str
    function: Literal["sales", "operations", "finance"]
    better: Better
    unit: Literal["ratio", "pct", "number", "hours", "days", "money"]
    definition: str
    band: str | None = None
    high_band: str | None = None


KPIS: dict[str, Kpi] = {k.id: k for k in [
    Kpi("accuracy", "Forecast accuracy", "sales", "higher", "ratio",
        "1 − WAPE of the previous cycle's plan for its own month (lag 0)", "accuracy"),
    Kpi("bias_pct", "Forecast bias", "sales", "abs_lower", "pct",
        "Σ(F − A) / ΣA of the same plan-month; positive = over-forecast", "abs_bias_pct"),
    Kpi("tracking_signal", "Tracking signal", "sales", "abs_lower", "number",
        "Σ(A − F) / mean|A − F| over every closed plan-month of published plans; alarm outside ±limit",
        "abs_tracking_signal"),
    Kpi("peak_utilisation", "Peak capacity utilisation", "operations", "lower", "ratio",
        "highest required / available hours in the next 6 months", "peak_utilisation"),
    Kpi("hours_short", "Hours short of capacity", "operations", "lower", "hours",
        "required − available hours summed over the months over capacity, whole horizon"),
    Kpi("days_of_supply", "Days of supply", "operations", "band", "days",
        "projected stock at the end of the plan's third month / demand per day of the fourth",
        "days_of_supply_low", "days_of_supply_high"),
    Kpi("revenue_vs_budget_pct", "Revenue vs budget", "finance", "higher", "pct",
        "(plan − budget) / budget revenue over the forecast months the budget covers", "revenue_vs_budget_pct"),
    Kpi("margin_vs_budget_pct", "Gross margin vs budget", "finance", "higher", "pct",
        "(plan − budget) / budget gross margin over the same months", "margin_vs_budget_pct"),
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
    """The thresholds of ``kpi`` in ``params`` (its ``band`` and ``high_band``)."""
    meta = KPIS.get(kpi)
    return (getattr(params, meta.band) if meta and meta.band else None,
            getattr(params, meta.high_band) if meta and meta.high_band else None)


def _pct(num: float, den: float) -> float:
    return float(num / den * 100) if den else float("nan")


@dataclass(frozen=True)
class KpiInputs:
    """The tables the KPIs are measured from (``compute_kpis`` describes them); a missing one is ``None``."""

    cycle_start: pd.Timestamp
    plan_vs_actual: pd.DataFrame | None = None
    capacity_review: pd.DataFrame | None = None
    budget_gap: pd.DataFrame | None = None
    consensus: pd.DataFrame | None = None
    inventory: pd.DataFrame | None = None
    products: pd.DataFrame | None = None
    projection: pd.DataFrame | None = None


Row = dict[str, object]


def _row(kpi: str, scope: object, value: float, basis: str) -> Row:
    return {"kpi": kpi, "scope": str(scope), "value": float(value), "basis": basis}


def _accuracy_and_bias(d: KpiInputs) -> list[Row]:
    """Accuracy and bias of the latest plan for its own month (lag 0; a quarterly plan: its quarter's months), in
    total and per family."""
    pva = d.plan_vs_actual
    if pva is None or not len(pva):
        return []
    lag0 = pva[own_months(pva)]
    if not len(lag0):
        return []
    last = lag0[lag0["plan_cycle"] == latest_cycle(set(lag0["plan_cycle"]))]
    basis = f"plan of {last['plan_cycle'].iloc[0]} for {month_span(last['period'])}"
    rows = []
    for scope, g in [("", last), *last.groupby("family")]:
        rows += [_row("accuracy", scope, accuracy(g["actual"], g["forecast"]), basis),
                 _row("bias_pct", scope, bias_pct(g["actual"], g["forecast"]), basis)]
    return rows


def _tracking(d: KpiInputs) -> list[Row]:
    """The tracking signal over every closed plan-month of the published plans, in total and per family."""
    pva = d.plan_vs_actual
    if pva is None or not len(pva):
        return []
    monthly = pva.groupby(["family", "plan_cycle", "period"], as_index=False)[["actual", "forecast"]].sum()
    total = monthly.groupby(["plan_cycle", "period"], as_index=False)[["actual", "forecast"]].sum()
    basis = (f"{len(total)} plan-month{'s' if len(total) != 1 else ''} of cycles "
             f"{', '.join(sort_cycles(set(pva['plan_cycle'])))}")
    return [_row("tracking_signal", "", tracking_signal(total["actual"], total["forecast"]), basis),
            *(_row("tracking_signal", fam, tracking_signal(g["actual"], g["forecast"]), basis)
              for fam, g in monthly.groupby("family"))]


def _capacity(d: KpiInputs) -> list[Row]:
    """Peak utilisation over the next 6 months and hours short over the whole horizon, in total and per
    resource."""
    cap = d.capacity_review
    if cap is None or not len(cap):
        return []
    start = d.cycle_start
    near = cap[cap["period"] < start + pd.DateOffset(months=6)]
    finite = near[np.isfinite(near["utilisation"])]
    rows = []
    if len(finite):
        basis = f"{start:%Y-%m} – {(start + pd.DateOffset(months=5)):%Y-%m}"
        rows += [_row("peak_utilisation", "", finite["utilisation"].max(), basis),
                 *(_row("peak_utilisation", res, g["utilisation"].max(), basis)
                   for res, g in finite.groupby("resource"))]
    short = hours_short(cap)
    basis = f"{cap['period'].min():%Y-%m} – {cap['period'].max():%Y-%m}"
    return [*rows, _row("hours_short", "", short.sum(), basis),
            *(_row("hours_short", res, s.sum(), basis) for res, s in short.groupby(cap["resource"]))]


def _budget(d: KpiInputs) -> list[Row]:
    """Revenue and margin against budget (%) and the revenue gap, in total and per family."""
    bg = d.budget_gap
    if bg is None or not len(bg):
        return []
    basis = f"{bg['period'].min():%Y-%m} – {bg['period'].max():%Y-%m}"
    rows = []
    for scope, g in [("", bg), *bg.groupby("family")]:
        s = g[["plan_revenue", "budget_revenue", "plan_margin", "budget_margin"]].sum()
        rows += [
            _row("revenue_vs_budget_pct", scope, _pct(s["plan_revenue"] - s["budget_revenue"], s["budget_revenue"]), basis),
            _row("margin_vs_budget_pct", scope, _pct(s["plan_margin"] - s["budget_margin"], s["budget_margin"]), basis),
            _row("revenue_gap", scope, s["plan_revenue"] - s["budget_revenue"], basis),
        ]
    return rows


def _days_of_supply(d: KpiInputs) -> list[Row]:
    """Days of supply, in total and per family: projected when the supply plan's projection is given, else
    from the stock on hand."""
    if d.projection is not None and d.products is not None and len(d.projection):
        return _projected_days(d.projection, d.products)
    if d.consensus is not None and d.inventory is not None and d.products is not None and len(d.consensus):
        return _days_on_hand(d.cycle_start, d.consensus, d.inventory, d.products)
    return []


def _projected_days(projection: pd.DataFrame, products: pd.DataFrame) -> list[Row]:
    """Stock at the end of the plan's third month / demand per day of its fourth (none with fewer months)."""
    months = sorted(projection["period"].unique())
    if len(months) < 4:
        return []
    at, nxt_m = pd.Timestamp(months[2]), pd.Timestamp(months[3])
    family = products.set_index("sku")["family"]
    stock = projection[projection["period"] == at].assign(family=lambda f: f["sku"].map(family))
    need = projection[projection["period"] == nxt_m].assign(family=lambda f: f["sku"].map(family))
    basis = f"projected stock end of {at:%Y-%m} / daily demand {nxt_m:%Y-%m}"
    per_day = need.groupby("family")["demand"].sum() / nxt_m.days_in_month
    held = stock.groupby("family")["closing"].sum()
    rows = [_row("days_of_supply", "", held.sum() / per_day.sum(), basis)] if per_day.sum() > 0 else []
    return rows + [_row("days_of_supply", fam, held.get(fam, 0.0) / per_day[fam], basis)
                   for fam in sorted(per_day.index) if per_day[fam] > 0]


def _days_on_hand(start: pd.Timestamp, consensus: pd.DataFrame, inventory: pd.DataFrame,
                  products: pd.DataFrame) -> list[Row]:
    """Stock on hand / demand per day of the next three months of the consensus."""
    end = start + pd.DateOffset(months=3)
    nxt = consensus[(consensus["period"] >= start) & (consensus["period"] < end)]
    days = float(pd.date_range(start, end - pd.DateOffset(days=1)).size)
    demand = nxt.groupby("sku")["consensus"].sum() / days
    stock = inventory.groupby("sku")["on_hand"].sum()
    frame = pd.DataFrame({"daily": demand, "stock": stock}).fillna(0.0)
    frame["family"] = frame.index.map(products.set_index("sku")["family"])
    basis = f"stock on hand / daily demand {start:%Y-%m} – {(end - pd.DateOffset(months=1)):%Y-%m}"
    return [_row("days_of_supply", scope, g["stock"].sum() / g["daily"].sum(), basis)
            for scope, g in [("", frame), *frame.groupby("family")] if g["daily"].sum() > 0]


# every group of KPIs, in the order the scorecard lists them
KPI_GROUPS: tuple[Callable[[KpiInputs], list[Row]], ...] = (
    _accuracy_and_bias, _tracking, _capacity, _budget, _days_of_supply)


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
    inputs = KpiInputs(cycle_start, plan_vs_actual, capacity_review, budget_gap, consensus, inventory, products,
                       projection)
    return pd.DataFrame([row for group in KPI_GROUPS for row in group(inputs)],
                        columns=["kpi", "scope", "value", "basis"])


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
    frames = [s.assign(cycle=c) for c, s in sorted(scorecards.items(), key=lambda i: cycle_key(i[0]))
              if s is not None and len(s)]
    if not frames:
        return pd.DataFrame(columns=["cycle", *SCORECARD_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    return out[["cycle", *SCORECARD_COLUMNS]]


def measured_at(review: str, scorecards: dict[str, pd.DataFrame], cycle: str) -> str:
    """The cycle whose scorecard measures a decision reviewed in ``review``: that cycle; when it has no scorecard
    and the company changed cadence (a monthly review cycle, quarterly cycles since, or the other way), the first
    cycle of the other cadence after it, up to ``cycle``."""
    if review in scorecards:
        return review
    due = Cycle.parse(review)
    later = [c for c in scorecards if Cycle.parse(c).cadence != due.cadence and due <= Cycle.parse(c)
             <= Cycle.parse(cycle)]
    return min(later, key=cycle_key) if later else review


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
        if not review or Cycle.parse(review) > Cycle.parse(cycle):
            rec["verdict"] = "pending"
        else:
            measured = value(measured_at(review, scorecards, cycle), name)
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
