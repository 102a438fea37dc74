"""The sheets of the plan's Excel workbook (``pack.workbook``): one function per sheet, each taking the run's
tables and returning a ``SheetSpec`` (a frame with readable column names and each column's kind). Pure: no file
is read or written here.

A sheet whose data the company does not have (no price list, budget, bill of resources or capacity: the README's
optional tables) or whose step did not run keeps its place in the workbook and says why in one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sop_lib.core.labels import ALL_FAMILIES
from sop_lib.finance.bridge import bridge_wide
from sop_lib.pack.xlsx import SheetSpec, UtilisationBands
from sop_lib.report.charts import UTILISATION_COLOURS

TABLES = ("products", "forecast", "consensus", "forecast_levels", "overrides", "override_adjustments",
          "supply_plan", "supply_unmet", "supply_resources", "capacity_review", "plan_financials", "budget_gap",
          "budget_bridge", "plan_bridge", "kpi_scorecard", "decisions")
MONEY = ("unit_price", "revenue", "lost_revenue", "plan_revenue", "budget_revenue", "gap_revenue", "shadow_price")
MARGIN = ("unit_cost", "cogs", "gross_margin", "lost_margin", "plan_margin", "budget_margin", "gap_margin")
NOT_RUN = "The step that makes this sheet did not run (see the pack's index page)."


@dataclass(frozen=True)
class WorkbookInfo:
    """What the cover says and what the sheets may show: the cycle, its snapshot, the currency, the interval
    level, the utilisation thresholds (``params.capacity``) and which optional data the company has."""

    cycle: str
    company: str
    currency: str
    fingerprint: str
    captured_at: str
    interval_level: int = 80
    warn_utilisation: float = 0.9
    max_utilisation: float = 1.0
    priced: bool = True
    costed: bool = True
    capacity: bool = True
    budgeted: bool = True

    @property
    def bands(self) -> UtilisationBands:
        return UtilisationBands(self.warn_utilisation, self.max_utilisation,
                                {name: shades[0] for name, shades in UTILISATION_COLOURS.items()})

    def unvalued(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the money columns the data cannot fill (no price list: no money; no unit costs: no
        cost or margin)."""
        gone = (MONEY + MARGIN) if not self.priced else MARGIN if not self.costed else ()
        return frame.drop(columns=[c for c in gone if c in frame.columns])


def _label(columns: dict[str, str], frame: pd.DataFrame) -> pd.DataFrame:
    """The columns named in ``columns`` (in that order, those present) under their readable names."""
    keep = [c for c in columns if c in frame.columns]
    return frame[keep].rename(columns=columns)


def demand_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    """The consensus per SKU × region × month beside the statistical forecast and its interval."""
    lv, consensus, forecast = info.interval_level, t["consensus"], t["forecast"]
    holds = (f"The consensus plan per SKU × region × month beside the statistical forecast and its {lv} % "
             "interval; adjustment = the sales overrides (units).")
    if consensus is None:
        return SheetSpec("Demand", holds, None, empty=NOT_RUN)
    bounds = [f"forecast-lo-{lv}", f"forecast-hi-{lv}"]
    if forecast is not None and set(bounds) <= set(forecast.columns):
        consensus = consensus.merge(forecast[["sku", "region", "period", *bounds]], on=["sku", "region", "period"],
                                    how="left")
    frame = _label({"family": "family", "sku": "SKU", "region": "region", "period": "month",
                    "statistical": "statistical", bounds[0]: f"statistical lo {lv} %",
                    bounds[1]: f"statistical hi {lv} %", "adjustment": "adjustment", "consensus": "consensus"},
                   consensus.sort_values(["family", "sku", "region", "period"]))
    kinds = {c: "units" for c in frame.columns if c not in ("family", "SKU", "region", "month")}
    return SheetSpec("Demand", holds, frame, kinds, freeze_columns=4)


def family_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    """Family subtotals per month, and the company total (``All families``); the interval is each level's own
    (``forecast_levels``), not summed SKU bounds."""
    lv, consensus, levels = info.interval_level, t["consensus"], t["forecast_levels"]
    holds = (f"Family subtotals of the Demand sheet per month, and the total ({ALL_FAMILIES}); the {lv} % "
             "interval is each level's own, from its backtest (summed SKU bounds would be far too wide).")
    if consensus is None:
        return SheetSpec("Demand by family", holds, None, empty=NOT_RUN)
    cols = ["statistical", "adjustment", "consensus"]
    fam = consensus.groupby(["family", "period"], as_index=False)[cols].sum()
    total = consensus.groupby("period", as_index=False)[cols].sum().assign(family=ALL_FAMILIES)
    out = pd.concat([fam, total], ignore_index=True)
    bounds = [f"forecast-lo-{lv}", f"forecast-hi-{lv}"]
    if levels is not None and set(bounds) <= set(levels.columns):
        own = levels[levels["level"].isin(["family", "total"])].assign(
            family=lambda d: d["key"].where(d["level"] == "family", ALL_FAMILIES))
        out = out.merge(own[["family", "period", *bounds]], on=["family", "period"], how="left")
    frame = _label({"family": "family", "period": "month", "statistical": "statistical",
                    bounds[0]: f"statistical lo {lv} %", bounds[1]: f"statistical hi {lv} %",
                    "adjustment": "adjustment", "consensus": "consensus"}, out)
    kinds = {c: "units" for c in frame.columns if c not in ("family", "month")}
    return SheetSpec("Demand by family", holds, frame, kinds, freeze_columns=2)


def overrides_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    """The cycle's overrides in file order, each with the units it added over the horizon."""
    holds = "The sales and marketing overrides of this cycle, in the order applied, with the units each added."
    overrides, effect = t["overrides"], t["override_adjustments"]
    if overrides is None or overrides.empty:
        return SheetSpec("Overrides", holds, None, empty="No overrides this cycle: the consensus is the statistical "
                         "forecast.")
    if effect is not None and len(effect):
        units = effect.groupby("override_id")[["delta", "clipped_units"]].sum()
        overrides = overrides.join(units, on="override_id")
    frame = _label({"override_id": "override", "owner": "owner", "level": "level", "target": "target",
                    "region": "region", "first_month": "first month", "last_month": "last month",
                    "change_pct": "change %", "change_units": "change units a month", "delta": "units added",
                    "clipped_units": "units not removed (floor at 0)", "reason": "reason"}, overrides)
    return SheetSpec("Overrides", holds, frame, {"change %": "pct", "change units a month": "units",
                                                 "units added": "units", "units not removed (floor at 0)": "units"})


def _families(t: dict[str, pd.DataFrame | None], frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each SKU's family in front."""
    products = t["products"]
    if products is None or "family" in frame.columns:
        return frame
    return frame.assign(family=frame["sku"].map(products.set_index("sku")["family"]))


def supply_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    holds = ("The constrained supply plan per SKU and month: demand, production, units served and unmet, stock "
             "and its safety target" + ("." if info.capacity else " (capacity is not modelled: unconstrained)."))
    plan = t["supply_plan"]
    if plan is None:
        return SheetSpec("Supply plan", holds, None, empty=NOT_RUN)
    frame = _label({"family": "family", "sku": "SKU", "period": "month", "demand": "demand",
                    "opening_stock": "opening stock", "production": "production", "served": "served",
                    "unmet": "unmet", "closing_stock": "closing stock", "safety_stock": "safety stock"},
                   _families(t, plan).sort_values(["sku", "period"]))
    return SheetSpec("Supply plan", holds, frame, {c: "units" for c in frame.columns[3:]},
                     freeze_columns=3)


def unmet_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    holds = "Demand the constrained plan cannot serve, per SKU and month, with the revenue and margin it loses."
    unmet = t["supply_unmet"]
    if not info.capacity:
        return SheetSpec("Unmet demand", holds, None, empty="Capacity is not modelled (no bill of resources or "
                         "capacity in the data): the plan is unconstrained and serves all demand.")
    if unmet is not None and unmet.empty:
        return SheetSpec("Unmet demand", holds, None, empty="No unmet demand: the constrained plan serves the "
                         "whole consensus.")
    if unmet is None:
        return SheetSpec("Unmet demand", holds, None, empty=NOT_RUN)
    frame = _label({"family": "family", "sku": "SKU", "period": "month", "units": "units",
                    "lost_revenue": "lost revenue", "lost_margin": "lost margin"},
                   info.unvalued(_families(t, unmet)).sort_values(["sku", "period"]))
    return SheetSpec("Unmet demand", holds, frame, {"units": "units", "lost revenue": "money",
                                                    "lost margin": "money"}, freeze_columns=3)


def resources_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    """Hours per resource and month: the constrained plan's (with overtime) and the rough cut's, both
    utilisations in the pack's colour bands."""
    holds = ("Hours per resource and month: available, overtime and required by the constrained plan, the rough "
             "cut of the consensus, and both utilisations coloured as in the pack.")
    plan, review = t["supply_resources"], t["capacity_review"]
    if not info.capacity:
        return SheetSpec("Resources", holds, None, empty="Capacity is not modelled (no bill of resources or "
                         "capacity in the data): no hours to show.")
    if plan is None or review is None:
        return SheetSpec("Resources", holds, None, empty=NOT_RUN)
    rough = review[["resource", "period", "required_hours", "utilisation", "status"]]
    both = plan.merge(rough, on=["resource", "period"], how="outer", suffixes=("", "_rough"))
    frame = _label({"resource": "resource", "period": "month", "available_hours": "available hours",
                    "overtime_hours": "overtime hours", "required_hours": "plan hours", "utilisation": "plan utilisation",
                    "binding": "binding", "shadow_price": "value of one more hour",
                    "required_hours_rough": "rough-cut hours", "utilisation_rough": "rough-cut utilisation",
                    "status": "rough-cut status"}, info.unvalued(both).sort_values(["resource", "period"]))
    kinds = {c: "hours" for c in ("available hours", "overtime hours", "plan hours", "rough-cut hours")}
    kinds |= {"plan utilisation": "ratio", "rough-cut utilisation": "ratio", "value of one more hour": "money2"}
    return SheetSpec("Resources", holds, frame, kinds, freeze_columns=2,
                     utilisation=("plan utilisation", "rough-cut utilisation"))


def utilisation_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    """The pack's heatmap as a grid: rough-cut utilisation, resources down, months across."""
    holds = (f"Rough-cut utilisation of each resource (rows) per month (columns), as the pack's heatmap: ok below "
             f"{info.warn_utilisation:.0%}, tight to {info.max_utilisation:.0%}, over capacity above.")
    review = t["capacity_review"]
    if not info.capacity:
        return SheetSpec("Utilisation", holds, None, empty="Capacity is not modelled (no bill of resources or "
                         "capacity in the data): no utilisation to show.")
    if review is None or review.empty:
        return SheetSpec("Utilisation", holds, None, empty=NOT_RUN)
    grid = review.pivot_table(index="resource", columns="period", values="utilisation", aggfunc="first",
                              dropna=False)
    months = [pd.Timestamp(c).strftime("%Y-%m") for c in grid.columns]
    frame = grid.set_axis(months, axis=1).reset_index()
    return SheetSpec("Utilisation", holds, frame, dict.fromkeys(months, "ratio"),
                     freeze_columns=1, utilisation=tuple(months))


def _shown(name: str, holds: str, table: pd.DataFrame | None, has_data: bool, lacking: str) -> pd.DataFrame | SheetSpec:
    """The table a sheet shows or, when there is none, the sheet saying why in one line: ``lacking`` when the
    company has not the data it needs (``has_data`` false: no price list, no budget), else ``NOT_RUN`` when the
    step that makes ``table`` did not run."""
    if not has_data:
        return SheetSpec(name, holds, None, empty=lacking)
    if table is None:
        return SheetSpec(name, holds, None, empty=NOT_RUN)
    return table


def financials_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    holds = "The consensus plan in money per SKU and month: units × price = revenue, − cost of goods = gross margin."
    plan = _shown("Plan financials", holds, t["plan_financials"], info.priced,
                  "No price list in the data: the plan is in units only (see Demand).")
    if isinstance(plan, SheetSpec):
        return plan
    frame = _label({"family": "family", "sku": "SKU", "period": "month", "units": "units",
                    "unit_price": "unit price", "unit_cost": "unit cost", "revenue": "revenue", "cogs": "cost of goods",
                    "gross_margin": "gross margin"}, info.unvalued(plan))
    kinds = {"units": "units", "unit price": "money2", "unit cost": "money2", "revenue": "money",
             "cost of goods": "money", "gross margin": "money"}
    return SheetSpec("Plan financials", holds, frame, kinds, freeze_columns=3)


def budget_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    holds = ("The plan against the budget per family and month: units, revenue and gross margin, gap = plan − "
             "budget, flagged beyond the threshold in params (finance.budget_gap_threshold_pct).")
    gap = _shown("Plan vs budget", holds, t["budget_gap"], info.budgeted,
                 "No budget in the data: nothing to compare the plan with.")
    if isinstance(gap, SheetSpec):
        return gap
    frame = _label({"family": "family", "period": "month", "plan_units": "plan units", "budget_units": "budget units",
                    "gap_units": "gap units", "plan_revenue": "plan revenue", "budget_revenue": "budget revenue",
                    "gap_revenue": "gap revenue", "gap_pct": "gap %", "plan_margin": "plan margin",
                    "budget_margin": "budget margin", "gap_margin": "gap margin", "flag": "flagged"},
                   info.unvalued(gap))
    kinds = {c: "units" for c in ("plan units", "budget units", "gap units")} | {"gap %": "pct"}
    kinds |= {c: "money" for c in frame.columns if c.endswith(("revenue", "margin"))}
    return SheetSpec("Plan vs budget", holds, frame, kinds, freeze_columns=2)


def _bridge_sheet(name: str, holds: str, bridge: pd.DataFrame | None, empty: str, base: str) -> SheetSpec:
    """A price / volume / mix bridge as finance ticks it: one row per family × month × measure (and the totals
    over the months, ``all months``), the effects across, to the cent."""
    if bridge is None or bridge.empty:
        return SheetSpec(name, holds, None, empty=empty)
    wide = bridge_wide(bridge)
    wide["period"] = [p.strftime("%Y-%m") if pd.notna(p) else "all months" for p in wide["period"]]
    frame = _label({"family": "family", "period": "month", "measure": "measure", "base": base, "volume": "volume",
                    "mix": "mix", "price": "price", "cost": "cost", "new": "plan"}, wide)
    frame["measure"] = frame["measure"].str.replace("_", " ")
    return SheetSpec(name, holds, frame, {c: "money2" for c in frame.columns[3:]},
                     freeze_columns=3)


def budget_bridge_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    need = [w for w, ok in (("a price list", info.priced), ("a budget", info.budgeted)) if not ok]
    return _bridge_sheet(
        "Bridge budget to plan", "Revenue and gross margin from the budget to the constrained plan: volume, mix "
        "(family), price and cost effects that add up exactly, per family and month and over all months.",
        t["budget_bridge"], f"No budget bridge: it needs {' and '.join(need)}." if need else NOT_RUN, "budget")


def plan_bridge_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    return _bridge_sheet(
        "Bridge last plan to plan", "Revenue and gross margin from the last published plan to this one: volume, mix "
        "(SKU), price and cost effects, per family and month and over all months.", t["plan_bridge"],
        "No plan-to-plan bridge: it needs a price list and an earlier published plan." , "last plan")


def scorecard_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    holds = ("Each function's KPIs, company-wide and per family or resource, with the thresholds in params (kpi:) "
             "and the status they give.")
    card = t["kpi_scorecard"]
    if card is None or card.empty:
        return SheetSpec("Scorecard", holds, None, empty=NOT_RUN if card is None else "No KPI could be measured yet.")
    kinds = {"ratio": "ratio", "pct": "pct", "hours": "hours", "days": "days", "money": "money", "number": "number"}
    frame = card.assign(_kind=card["unit"].map(kinds).fillna("number"),
                        scope=card["scope"].replace("", "company"))
    frame = _label({"function": "function", "label": "KPI", "scope": "scope", "value": "value", "unit": "unit",
                    "good": "good", "warn": "warn", "status": "status", "basis": "basis", "_kind": "_kind"}, frame)
    return SheetSpec("Scorecard", holds, frame, freeze_columns=3,
                     row_kinds={"value": "_kind", "good": "_kind", "warn": "_kind"})


DECISION_COLUMNS = {"id": "id", "status": "status", "priority": "priority", "function": "function", "title": "title",
                    "owner": "owner", "due": "due", "raised_cycle": "raised in", "review_cycle": "review in",
                    "expected_kpi": "expected KPI", "expected_value": "expected change", "decision": "decision",
                    "rationale": "rationale", "context": "context", "options": "options",
                    "updated_at": "last changed"}


def decisions_sheet(t: dict[str, pd.DataFrame | None], info: WorkbookInfo) -> SheetSpec:
    """This cycle's new items (they join the log when the pack is published) and every item of the log."""
    holds = ("The decision priority log: this cycle's new items (id 'new', to assign) and every item in the log "
             "with its status, owner, due date and expected effect.")
    log = t["decisions"]
    if log is None or log.empty:
        return SheetSpec("Decisions", holds, None, empty="No decision item: none raised by this cycle and none in "
                         "the log.")
    frame = _label(DECISION_COLUMNS, log)
    return SheetSpec("Decisions", holds, frame, {"expected change": "number"}, freeze_columns=1)


SHEETS = (demand_sheet, family_sheet, overrides_sheet, supply_sheet, unmet_sheet, resources_sheet,
          utilisation_sheet, financials_sheet, budget_sheet, budget_bridge_sheet, plan_bridge_sheet, scorecard_sheet,
          decisions_sheet)
