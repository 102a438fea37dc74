"""The pack's own pages (executive summary, decisions, KPI scorecard, data quality): what they show, gathered
from a run's results, the published archive and the decision log. Every file is read through ``Store``;
``pack.run.render_pack`` renders the pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sop_lib import report
from sop_lib.core.cycle import Cycle, sort_cycles
from sop_lib.core.errors import CycleNotFound
from sop_lib.core.labels import ALL_FAMILIES
from sop_lib.data.params import CycleParams
from sop_lib.data.snapshot import Snapshot
from sop_lib.data.store import Store
from sop_lib.demand.consensus import as_forecast, level_plan
from sop_lib.review.decisions import covered_keys, open_items, raise_candidates, replay
from sop_lib.review.kpi import KPIS, follow_through, kpi_trend

RESULTS = ("forecast", "consensus", "forecast_levels", "capacity_review", "budget_gap", "plan_vs_actual", "scenario_comparison",
           "kpi_scorecard", "demand_at_risk", "budget_bridge")
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def _fig_html(fig: Any) -> str:
    from plotly.io import to_html

    return str(to_html(report.lean_figure(fig.to_dict()), include_plotlyjs=False, full_html=False, validate=False,
                       config={"displaylogo": False}))


def _published_or_none(store: Store, cycle: str, name: str) -> pd.DataFrame | None:
    """A published result of ``cycle`` (``Store.read_published``); ``None`` when the cycle did not publish it."""
    try:
        return store.read_published(cycle, name)
    except FileNotFoundError:
        return None


def _result_or_none(store: Store, cycle: str, run_dir: Path, name: str) -> pd.DataFrame | None:
    try:
        return store.read_result(cycle, run_dir, name)
    except CycleNotFound:
        return None


def _bridge_total(bridge: pd.DataFrame | None) -> dict[str, float] | None:
    """Gross margin budget → plan over all families and months, effect by effect."""
    if bridge is None:
        return None
    tot = bridge[bridge["period"].isna() & (bridge["family"] == ALL_FAMILIES) & (bridge["measure"] == "gross_margin")]
    return {str(k): float(v) for k, v in zip(tot["effect"], tot["amount"], strict=True)} if len(tot) else None


def _plan_units(store: Store, cycle: str) -> pd.DataFrame | None:
    """A published cycle's plan of record as ``units``: its consensus, or its forecast if it had none."""
    for name, column in (("consensus", "consensus"), ("forecast", "forecast")):
        frame = _published_or_none(store, cycle, name)
        if frame is not None:
            return frame.rename(columns={column: "units"})
    return None


@dataclass
class Summary:
    """Everything the pack's own pages show for one run."""

    cycle: str
    params: CycleParams
    snapshot: Snapshot
    results: dict[str, pd.DataFrame | None]
    headlines: dict[str, Any]
    charts: list[str]
    candidates: pd.DataFrame
    log: pd.DataFrame
    known: set[str]
    items: pd.DataFrame
    cards: dict[str, pd.DataFrame]
    follow: pd.DataFrame
    previous: str | None
    changes: pd.DataFrame

    def _status_changes(self) -> list[dict[str, Any]]:
        card = self.results["kpi_scorecard"]
        if card is None or self.previous not in self.cards:
            return []
        before = self.cards[self.previous].set_index("name")["status"]
        return [{**r, "before": before.get(r["name"], "")} for r in card[card["scope"] == ""].to_dict(orient="records")
                if r["status"] and before.get(r["name"], "") not in ("", r["status"])]

    def _needed(self) -> list[dict[str, Any]]:
        """This cycle's new items (they join the log when the cycle is published) first, then the open ones."""
        ranked = sorted(self.candidates.to_dict(orient="records"), key=lambda c: PRIORITY_ORDER.get(c["priority"], 3))
        fresh = [{**c, "id": "new", "owner": f"{c['function']} (to assign)", "overdue": False, "due": None}
                 for c in ranked if c["key"] not in self.known]
        still_open = self.items[self.items["status"] == "open"].to_dict(orient="records") if len(self.items) else []
        return (fresh + still_open)[:10]

    def index(self, steps: list[Any]) -> dict[str, Any]:
        manifest = self.snapshot.manifest
        card, scen, risk = (self.results[n] for n in ("kpi_scorecard", "scenario_comparison", "demand_at_risk"))
        ranked = sorted(self.candidates.to_dict(orient="records"), key=lambda c: PRIORITY_ORDER.get(c["priority"], 3))
        return {
            "h": self.headlines, "charts": self.charts, "steps": steps,
            "dq": {"tables": len(manifest["tables"]), "rows": sum(t["rows"] for t in manifest["tables"].values()),
                   "given": sum(1 for n in manifest["tables"] if self.snapshot.has(n)),
                   "warnings": len(manifest.get("warnings", []))},
            "n_candidates": len(self.candidates), "n_new": int((~self.candidates["key"].isin(self.known)).sum()),
            "n_open": len(self.items), "n_overdue": int(self.items["overdue"].sum()) if len(self.items) else 0,
            "exceptions": ranked[:5], "needed": self._needed(),
            "changes": self.changes.to_dict(orient="records"), "previous_cycle": self.previous,
            "status_changes": self._status_changes(),
            "kpi_alerts": [] if card is None else card[card["status"] == "act"].to_dict(orient="records"),
            "follow_counts": self.follow["verdict"].value_counts().to_dict() if len(self.follow) else {},
            "scenarios": scen.to_dict(orient="records") if scen is not None else [],
            "at_risk": risk.iloc[0].to_dict() if risk is not None else None,
            "bridge": _bridge_total(self.results["budget_bridge"]),
            "built_at": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "captured_at": manifest["captured_at"],
            "assumptions": self.snapshot.assumptions, "has": self.coverage,
        }

    @property
    def coverage(self) -> dict[str, bool]:
        """What the data lets the pack say: money, margins, capacity, a budget."""
        snap = self.snapshot
        return {"prices": snap.priced, "costs": snap.costed, "capacity": snap.capacity_modelled,
                "budget": snap.budgeted}

    def decisions(self) -> dict[str, Any]:
        closed = self.log[self.log["status"] == "closed"].to_dict(orient="records") if len(self.log) else []
        return {"candidates": self.candidates.to_dict(orient="records"), "known": self.known,
                "items": self.items.to_dict(orient="records"), "closed": closed,
                "follow": self.follow.to_dict(orient="records")}

    def scorecard(self) -> dict[str, Any]:
        card = self.results["kpi_scorecard"]
        trend = kpi_trend(self.cards)
        return {
            "rows": card.to_dict(orient="records") if card is not None else [],
            "trend_cycles": [c for c in sort_cycles(set(self.cards)) if c != self.cycle][-5:],
            "trend": {(r["cycle"], r["name"]): {"value": r["value"], "status": r["status"]}
                      for r in trend.to_dict(orient="records")},
            "definitions": list(KPIS.values()),
            "charts": [_fig_html(report.kpi_trend_chart(trend))] if len(trend) else [],
        }

    def pages(self, steps: list[Any]) -> dict[str, dict[str, Any]]:
        """Template context per page file name."""
        return {"index.html": self.index(steps), "data_quality.html": {"manifest": self.snapshot.manifest},
                "decisions.html": self.decisions(), "scorecard.html": self.scorecard()}


def total_demand_chart(sales: pd.DataFrame, plan: pd.DataFrame | None, plan_fc: pd.DataFrame,
                       levels: pd.DataFrame | None, level: int) -> Any:
    """The executive summary's total-demand chart: actuals and the plan of record in total, with a band that is
    **the total's own** ``level`` % interval, from the total's own backtest (``forecast_levels``), moved with the
    consensus adjustments as :func:`sop_lib.demand.consensus.consensus_plan` moves each series' bounds (scaled by
    the total's consensus / statistical). Summing every series' bounds instead gives a band several times too wide;
    that is the fallback when the run has no ``forecast_levels`` (older cycles), and the title then says so.

    ``plan``: the consensus result or ``None`` (no consensus step: the statistical forecast); ``plan_fc``: the plan
    under forecast column names (``as_forecast``), used for the fallback."""
    title = "Total demand: actuals and consensus forecast (units)"
    bounds = {f"forecast-lo-{level}", f"forecast-hi-{level}"}
    if levels is not None and bounds <= set(levels.columns) and (levels["level"] == "total").any():
        total = level_plan(levels, "total", plan)
    else:
        total = plan_fc
        title += "; band: summed series bounds, wider than the total's own"
    return report.demand_chart(sales.assign(scope=ALL_FAMILIES), total.assign(scope=ALL_FAMILIES), by="scope",
                               level=level, title=title)


def gather_summary(store: Store, cycle: str, run_dir: Path, snapshot: Snapshot, params: CycleParams) -> Summary:
    """Read what the pack's own pages need: this run's results (a step that did not run gives ``None``), the
    earlier published cycles' plans and scorecards, and the decision log; raise this cycle's candidates."""
    results = {n: _result_or_none(store, cycle, run_dir, n) for n in RESULTS}
    sales = snapshot["sales_history"]
    plan = results["consensus"]
    plan_fc = as_forecast(plan) if plan is not None else results["forecast"]
    headlines = report.compute_headlines(Cycle.parse(cycle).start, sales, plan_fc, results["capacity_review"],
                                         results["budget_gap"], results["plan_vs_actual"])
    charts = []
    if plan_fc is not None:
        fig = total_demand_chart(sales, plan, plan_fc, results["forecast_levels"], params.forecast.interval_level)
        charts.append(_fig_html(fig))
    if results["capacity_review"] is not None and len(results["capacity_review"]):
        cap = params.capacity
        charts.append(_fig_html(report.capacity_heatmap(results["capacity_review"], warn=cap.warn_utilisation,
                                                        over=cap.max_utilisation)))

    fin = params.finance
    candidates = raise_candidates(cycle, results["capacity_review"], results["budget_gap"], results["plan_vs_actual"],
                                  fin.budget_gap_threshold_pct, params.decisions.tracking_signal_limit, fin.currency)
    log = replay(store.read_decision_events())
    earlier = store.published_cycles(before=cycle)
    cards = {c: card for c in earlier if (card := _published_or_none(store, c, "kpi_scorecard")) is not None}
    if results["kpi_scorecard"] is not None:
        cards[cycle] = results["kpi_scorecard"]
    previous = earlier[-1] if earlier else None
    prev_plan = _plan_units(store, previous) if previous else None
    now = plan.rename(columns={"consensus": "units"}) if plan is not None else pd.DataFrame()
    return Summary(
        cycle=cycle, params=params, snapshot=snapshot, results=results, headlines=headlines, charts=charts,
        candidates=candidates, log=log, known=set(covered_keys(log, cycle)),
        items=open_items(log, dt.date.today()) if len(log) else log, cards=cards,
        follow=follow_through(log, cards, cycle), previous=previous, changes=report.plan_changes(now, prev_plan),
    )
