"""The plan in Excel (``reports/<cycle>/sop_<cycle>.xlsx``): sheets, totals and family subtotals worked out by
hand on a tiny company, text that looks like a formula kept as text, a company without prices, budget or
capacity, and — on the demo cycle the e2e fixture publishes — totals that tie to the published results."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sop_lib.core.errors import SopError
from sop_lib.core.labels import ALL_FAMILIES
from sop_lib.finance.bridge import empty_bridge
from sop_lib.pack.sheets import NOT_RUN
from sop_lib.pack.workbook import WorkbookInfo, decision_table, write_plan_workbook
from sop_lib.report.charts import UTILISATION_COLOURS

SHEETS = ["Cover", "Demand", "Demand by family", "Overrides", "Supply plan", "Unmet demand", "Resources",
          "Utilisation", "Plan financials", "Plan vs budget", "Bridge budget to plan", "Bridge last plan to plan",
          "Scorecard", "Decisions"]
NOV, DEC = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-12-01")
FORMULAS = ["=SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]


def _rows(records: list[tuple], columns: str) -> pd.DataFrame:
    return pd.DataFrame(records, columns=columns.split())


def tiny_tables() -> dict[str, pd.DataFrame | None]:
    """Juice (J1 in North and South) and Snacks (S1 in North), two months; every number chosen by hand."""
    consensus = _rows([  # sku region family period statistical adjustment consensus
        ("J1", "North", "Juice", NOV, 100.0, 10.0, 110.0), ("J1", "North", "Juice", DEC, 120.0, 0.0, 120.0),
        ("J1", "South", "Juice", NOV, 50.0, -5.0, 45.0), ("J1", "South", "Juice", DEC, 60.0, 0.0, 60.0),
        ("S1", "North", "Snacks", NOV, 30.0, 0.0, 30.0), ("S1", "North", "Snacks", DEC, 40.0, 2.0, 42.0),
    ], "sku region family period statistical adjustment consensus")
    forecast = consensus[["sku", "region", "family", "period"]].assign(
        forecast=consensus["statistical"], **{"forecast-lo-80": consensus["statistical"] - 10,
                                              "forecast-hi-80": consensus["statistical"] + 10})
    levels = _rows([("family", "Juice", NOV, 150.0, 135.0, 165.0), ("family", "Snacks", NOV, 30.0, 25.0, 35.0),
                    ("total", "total", NOV, 180.0, 160.0, 200.0)],
                   "level key period forecast forecast-lo-80 forecast-hi-80")
    overrides = _rows([("O1", 2, FORMULAS[0], "sku", "J1", "North", NOV, NOV, 10.0, None, FORMULAS[1]),
                       ("O2", 3, FORMULAS[2], "sku", "J1", "South", NOV, NOV, None, -5.0, FORMULAS[3])],
                      "override_id row owner level target region first_month last_month change_pct change_units "
                      "reason")
    adjustments = _rows([("O1", "J1", "North", NOV, 10.0, 0.0), ("O2", "J1", "South", NOV, -5.0, 0.0)],
                        "override_id sku region period delta clipped_units")
    supply = _rows([("J1", NOV, 155.0, 0.0, 150.0, 150.0, 5.0, 0.0, 0.0), ("J1", DEC, 180.0, 0.0, 180.0, 180.0, 0.0,
                    0.0, 0.0), ("S1", NOV, 30.0, 0.0, 30.0, 30.0, 0.0, 0.0, 0.0),
                    ("S1", DEC, 42.0, 0.0, 42.0, 42.0, 0.0, 0.0, 0.0)],
                   "sku period demand opening_stock production served unmet closing_stock safety_stock")
    unmet = _rows([("J1", NOV, 5.0, 10.0, 4.0)], "sku period units lost_revenue lost_margin")
    resources = _rows([("Line", NOV, 100.0, 20.0, 120.0, 1.0, True, 3.5), ("Line", DEC, 100.0, 0.0, 80.0, 0.8,
                       False, 0.0)],
                      "resource period available_hours overtime_hours required_hours utilisation binding shadow_price")
    review = _rows([("Line", NOV, 125.0, 100.0, 1.25, -25.0, "over capacity", True),
                    ("Line", DEC, 95.0, 100.0, 0.95, 5.0, "tight", False)],
                   "resource period required_hours available_hours utilisation gap_hours status over_capacity")
    financials = _rows([("Juice", "J1", NOV, 155.0, 2.0, 1.0, 310.0, 155.0, 155.0),
                        ("Juice", "J1", DEC, 180.0, 2.0, 1.0, 360.0, 180.0, 180.0),
                        ("Snacks", "S1", NOV, 30.0, 1.5, 0.5, 45.0, 15.0, 30.0),
                        ("Snacks", "S1", DEC, 42.0, 1.5, 0.5, 63.0, 21.0, 42.0)],
                       "family sku period units unit_price unit_cost revenue cogs gross_margin")
    gap = _rows([("Juice", NOV, 155.0, 150.0, 5.0, 310.0, 300.0, 10.0, 3.333, 155.0, 150.0, 5.0, False)],
                "family period plan_units budget_units gap_units plan_revenue budget_revenue gap_revenue gap_pct "
                "plan_margin budget_margin gap_margin flag")
    bridge = _rows([(f, p, "revenue", e, a) for f, p in (("Juice", NOV), (ALL_FAMILIES, pd.NaT))
                    for e, a in (("base", 300.0), ("volume", 10.0), ("mix", 0.0), ("price", 0.0), ("cost", 0.0),
                                 ("new", 310.0))], "family period measure effect amount")
    card = _rows([("accuracy", "", "accuracy", "Forecast accuracy", "sales", 0.9, "ratio", 0.8, 0.7, "good", "b"),
                  ("revenue_gap", "", "revenue_gap", "Revenue gap", "finance", 10.0, "money", None, None, "", "b")],
                 "kpi scope name label function value unit good warn status basis")
    decisions = _rows([("D-001", "open", "high", "operations", "Line short", "=HYPERLINK(\"http://x\")", "2026-12-10",
                        "2026-11", None, "hours_short:Line", -25.0, None, None, "ctx", "opts", "2026-11-20")],
                      "id status priority function title owner due raised_cycle review_cycle expected_kpi "
                      "expected_value decision rationale context options updated_at")
    products = _rows([("J1", "Juice"), ("S1", "Snacks")], "sku family")
    return {"products": products, "forecast": forecast, "consensus": consensus, "forecast_levels": levels,
            "overrides": overrides, "override_adjustments": adjustments, "supply_plan": supply,
            "supply_unmet": unmet, "supply_resources": resources, "capacity_review": review,
            "plan_financials": financials, "budget_gap": gap, "budget_bridge": bridge, "plan_bridge": empty_bridge(),
            "kpi_scorecard": card, "decisions": decisions}


INFO = WorkbookInfo(cycle="2026-11", company="Tiny Co", currency="GBP", fingerprint="ab" * 32,
                    captured_at="2026-11-02T08:00:00+00:00", warn_utilisation=0.85, max_utilisation=0.95)


def _table(ws: openpyxl.worksheet.worksheet.Worksheet) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.fixture
def book(tmp_path: Path) -> openpyxl.Workbook:
    path = write_plan_workbook(tmp_path / "sop_2026-11.xlsx", tiny_tables(), INFO)
    return openpyxl.load_workbook(path)


def test_the_sheets_and_the_cover(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == SHEETS
    facts = {r[0]: r[1] for r in book["Cover"].iter_rows(values_only=True) if r[0]}
    assert facts["Cycle"] == "2026-11" and facts["Snapshot fingerprint"] == "ab" * 32
    assert facts["Consensus demand (2026-11 – 2026-12), units"] == 407  # 110+120+45+60+30+42
    assert facts["Plan revenue over the horizon"] == 778  # 310+360+45+63
    assert facts["Unmet demand, units"] == 5
    contents = {r[0]: r[2] for r in book["Cover"].iter_rows(values_only=True) if r[0] in SHEETS}
    assert contents["Demand"] == 6 and contents["Bridge last plan to plan"] == 0


def test_the_demand_sheet_and_its_family_subtotals(book: openpyxl.Workbook) -> None:
    demand = _table(book["Demand"])
    assert list(demand.columns) == ["family", "SKU", "region", "month", "statistical", "statistical lo 80 %",
                                    "statistical hi 80 %", "adjustment", "consensus"]
    assert demand["consensus"].sum() == 407 and demand["statistical lo 80 %"].sum() == 400 - 60
    family = _table(book["Demand by family"]).set_index(["family", "month"])
    assert family.loc[("Juice", NOV), "consensus"] == 155  # 110 + 45
    assert family.loc[("Juice", DEC), "adjustment"] == 0
    assert family.loc[("Snacks", DEC), "consensus"] == 42
    assert family.loc[(ALL_FAMILIES, NOV), "consensus"] == 185  # 155 + 30
    assert family.loc[(ALL_FAMILIES, DEC), "statistical"] == 220  # 120 + 60 + 40
    # each level's own interval (not the summed SKU bounds 130 and 170) where the forecast has one
    assert family.loc[("Juice", NOV), "statistical lo 80 %"] == 135
    assert family.loc[(ALL_FAMILIES, NOV), "statistical hi 80 %"] == 200
    assert pd.isna(family.loc[("Juice", DEC), "statistical lo 80 %"])


def test_text_that_looks_like_a_formula_is_stored_as_text(tmp_path: Path, book: openpyxl.Workbook) -> None:
    overrides = book["Overrides"]
    cells = {c.value: c for row in overrides.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    for text in FORMULAS:
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text
    owner = book["Decisions"]["F2"]
    assert owner.value == '=HYPERLINK("http://x")' and owner.data_type == "s"
    with zipfile.ZipFile(tmp_path / "sop_2026-11.xlsx") as z:  # no formula anywhere in the file
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(SHEETS) and not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)


def test_every_sheet_is_one_filtered_table_with_a_frozen_header_and_formats(book: openpyxl.Workbook) -> None:
    for name in SHEETS[1:]:
        ws = book[name]
        if name in ("Unmet demand", "Bridge last plan to plan"):
            continue  # checked below
        assert len(ws.tables) == 1, name
        table = next(iter(ws.tables.values()))
        assert table.ref.startswith("A1:") and table.autoFilter.ref == table.ref, name
        assert ws.freeze_panes.endswith("2"), name
        assert all(ws.column_dimensions[c].width >= 6 for c in "AB"), name
    financials = book["Plan financials"]
    assert financials["G2"].value == 310 and financials["G2"].number_format == '#,##0 "GBP";-#,##0 "GBP"'
    assert financials["E2"].number_format.startswith("#,##0.00") and financials["C2"].number_format == "yyyy-mm"
    assert book["Unmet demand"]["D2"].value == 5  # one unmet SKU-month: a table
    assert book["Bridge last plan to plan"]["A2"].value.startswith("No plan-to-plan bridge")
    card = _table(book["Scorecard"])
    assert card["scope"].tolist() == ["company", "company"]
    assert book["Scorecard"]["D2"].number_format == "0.0%" and "GBP" in book["Scorecard"]["D3"].number_format


def test_utilisation_is_coloured_with_the_thresholds_of_params(book: openpyxl.Workbook) -> None:
    grid = _table(book["Utilisation"])
    assert list(grid.columns) == ["resource", "2026-11", "2026-12"] and grid.iloc[0, 1] == 1.25
    rules = [r for cf in book["Utilisation"].conditional_formatting for r in cf.rules]
    bounds = {r.operator: r.formula for r in rules}
    assert bounds == {"greaterThan": ["0.95"], "greaterThanOrEqual": ["0.85"], "between": ["0", "0.85"]}
    fills = {r.operator: r.dxf.fill.bgColor.rgb[-6:] for r in rules}  # a conditional fill is its background
    assert fills["greaterThan"] == UTILISATION_COLOURS["over capacity"][0].lstrip("#").upper()
    assert fills["greaterThanOrEqual"] == UTILISATION_COLOURS["tight"][0].lstrip("#").upper()
    resources = book["Resources"]
    assert len([r for cf in resources.conditional_formatting for r in cf.rules]) == 6  # both utilisations


def test_a_company_without_prices_budget_or_capacity_still_gets_every_sheet(tmp_path: Path) -> None:
    tables = tiny_tables()
    tables |= {"plan_financials": tables["plan_financials"].assign(unit_price=float("nan"), unit_cost=float("nan"),
                                                                   revenue=float("nan"), cogs=float("nan"),
                                                                   gross_margin=float("nan")),
               "budget_gap": None, "budget_bridge": empty_bridge(), "supply_unmet": tables["supply_unmet"].head(0),
               "supply_resources": None, "capacity_review": None, "overrides": None, "decisions": None}
    info = WorkbookInfo(cycle="2026-11", company="", currency="EUR", fingerprint="cd" * 32, captured_at="",
                        priced=False, costed=False, capacity=False, budgeted=False)
    book = openpyxl.load_workbook(write_plan_workbook(tmp_path / "w.xlsx", tables, info))
    assert book.sheetnames == SHEETS
    said = {name: book[name]["A2"].value for name in SHEETS[1:] if not book[name].tables}
    assert said["Plan financials"].startswith("No price list")
    assert said["Plan vs budget"].startswith("No budget")
    assert said["Bridge budget to plan"] == "No budget bridge: it needs a price list and a budget."
    for name in ("Unmet demand", "Resources", "Utilisation"):
        assert said[name].startswith("Capacity is not modelled"), name
    assert said["Overrides"].startswith("No overrides") and said["Decisions"].startswith("No decision")
    assert _table(book["Demand"])["consensus"].sum() == 407
    facts = {r[0]: r[1] for r in book["Cover"].iter_rows(values_only=True) if r[0]}
    assert "Plan revenue over the horizon" not in facts and "units" in facts["Money in"]


@pytest.mark.parametrize(("has_data", "expected"), [(True, NOT_RUN), (False, "No ")])
def test_financials_and_budget_sheets_say_whether_the_data_or_the_step_is_missing(has_data: bool,
                                                                                  expected: str) -> None:
    from sop_lib.pack.sheets import budget_sheet, financials_sheet

    tables = tiny_tables() | {"plan_financials": None, "budget_gap": None}
    info = WorkbookInfo(cycle="2026-11", company="", currency="EUR", fingerprint="ab" * 32, captured_at="",
                        priced=has_data, budgeted=has_data)
    for sheet, lacking in ((financials_sheet, "No price list in the data: the plan is in units only (see Demand)."),
                           (budget_sheet, "No budget in the data: nothing to compare the plan with.")):
        spec = sheet(tables, info)
        assert spec.frame is None and spec.empty == (NOT_RUN if has_data else lacking)
        assert spec.empty.startswith(expected)


def test_a_plan_without_unit_costs_has_no_margin_columns(tmp_path: Path) -> None:
    info = WorkbookInfo(cycle="2026-11", company="", currency="EUR", fingerprint="ef" * 32, captured_at="",
                        costed=False)
    book = openpyxl.load_workbook(write_plan_workbook(tmp_path / "w.xlsx", tiny_tables(), info))
    assert list(_table(book["Plan financials"]).columns) == ["family", "SKU", "month", "units", "unit price",
                                                             "revenue"]
    assert "lost margin" not in _table(book["Unmet demand"]).columns


def test_decisions_list_this_cycles_new_items_first_then_the_log_by_status_and_priority() -> None:
    candidates = _rows([("capacity:Line", "operations", "high", "Line short", "c", "o", "hours_short:Line", -25.0),
                        ("budget:Juice", "finance", "medium", "Juice gap", "c", "o", "revenue_gap:Juice", 10.0)],
                       "key function priority title context options expected_kpi expected_value")
    log = _rows([("D-001", "budget:Juice", "closed", "high", None), ("D-002", "x", "open", "low", None),
                 ("D-003", "y", "open", "high", "2026-12-01"), ("D-004", "z", "decided", "high", None)],
                "id key status priority due")
    table = decision_table(candidates, {"budget:Juice"}, log, "2026-11")
    assert table["id"].tolist() == ["new", "D-003", "D-002", "D-004", "D-001"]
    assert table.loc[0, "owner"] == "operations (to assign)" and table.loc[0, "raised_cycle"] == "2026-11"


def test_a_workbook_that_cannot_be_written_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(SopError, match="Cannot write the Excel workbook"):
        write_plan_workbook(tmp_path / "missing" / "w.xlsx", tiny_tables(), INFO)
    assert not (tmp_path / "missing").exists()


@pytest.mark.e2e
def test_the_demo_packs_workbook_ties_to_the_published_results(demo_root: Path) -> None:
    pack, published = demo_root / "reports" / "2026-11", demo_root / "data" / "cycles" / "2026-11" / "published"
    path = pack / "sop_2026-11.xlsx"
    assert 'href="sop_2026-11.xlsx"' in (pack / "index.html").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == SHEETS
    facts = {r[0]: r[1] for r in book["Cover"].iter_rows(values_only=True) if r[0]}
    assert facts["Snapshot fingerprint"] == json.loads((published / "published.json").read_text())["fingerprint"]

    def ties(sheet: str, column: str, table: str, source: str) -> None:
        got = pd.to_numeric(_table(book[sheet])[column]).sum()
        want = pd.read_parquet(published / f"{table}.parquet")[source].sum()
        assert got == pytest.approx(want, rel=1e-9, abs=1e-6), (sheet, column)

    ties("Demand", "consensus", "consensus", "consensus")
    ties("Demand", "statistical", "forecast", "forecast")
    ties("Plan financials", "revenue", "plan_financials", "revenue")
    ties("Supply plan", "unmet", "supply_plan", "unmet")
    ties("Supply plan", "production", "supply_plan", "production")
    totals = _table(book["Demand by family"])
    assert totals.loc[totals["family"] == ALL_FAMILIES, "consensus"].sum() == pytest.approx(
        _table(book["Demand"])["consensus"].sum())
    budget = json.loads((pack / "headlines.json").read_text())["budget"]
    assert _table(book["Plan vs budget"])["plan revenue"].sum() == pytest.approx(budget["plan_revenue"])
    unmet = pd.read_parquet(published / "supply_unmet.parquet")
    if len(unmet):
        ties("Unmet demand", "units", "supply_unmet", "units")
    else:
        assert book["Unmet demand"]["A2"].value.startswith("No unmet demand")
