"""Data health checks (``sop_lib.data.health``) on small hand-made tables: each rule, its threshold, and whether it
stops the cycle (problem) or is listed (warning). Expected rows and months are worked out by hand in comments.
No files, except the last tests, which go through ``validate_inputs`` and ``check_planner_inputs``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sop_lib.core.errors import InputInvalid
from sop_lib.data.contract import bounds_of
from sop_lib.data.health import (
    Extract,
    Source,
    check_health,
    check_history,
    date_spans,
    describe_months,
    far_dense_dates,
    main_span,
    uncovered_capacity,
)
from sop_lib.data.validate import validate_inputs

CYCLE = pd.Timestamp("2026-11-01")
M = pd.Timestamp


def months(first: str, n: int) -> list[pd.Timestamp]:
    return list(pd.date_range(first, periods=n, freq="MS"))


def sales(periods: list[pd.Timestamp], skus: str = "A") -> pd.DataFrame:
    rows = [(p, s, "North", 1.0) for p in periods for s in skus]
    return pd.DataFrame(rows, columns=["period", "sku", "region", "units"])


def extract(**tables: pd.DataFrame) -> Extract:
    products = pd.DataFrame({"sku": ["A", "B"], "family": ["Juice", "Juice"], "description": [None, None],
                             "status": ["active"] * 2, "end_period": [pd.NaT] * 2})
    tables = {"products": products, **tables}
    return Extract(tables, dict.fromkeys(tables, True), {n: Source(f"{n}.csv") for n in tables})


def rows(found: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(p["file"], p["row"], p["column"], p["problem"], p["value"]) for p in found]


# --- spans and far dates -------------------------------------------------------------------------------


def test_spans_split_only_at_gaps_longer_than_twelve_months() -> None:
    # 2024-01 … 2024-03, then 12 empty months (2024-04 … 2025-03): still one span; then 13 empty: a new one
    dates = pd.Series(months("2024-01", 3) + [M("2025-04-01")] + [M("2026-06-01")])
    assert date_spans(dates) == [(M("2024-01-01"), M("2025-04-01"), 4), (M("2026-06-01"), M("2026-06-01"), 1)]
    assert main_span(dates) == (M("2024-01-01"), M("2025-04-01"))


def test_one_row_a_century_early_is_a_problem_with_its_row() -> None:
    periods = months("2022-11", 48)  # 2022-11 … 2026-10
    table = sales([M("1922-11-01"), *periods])  # the 1922 row is index 0: row 2 of the CSV
    found = far_dense_dates(extract(sales_history=table), "sales_history", "period")
    assert rows(found) == [("sales_history.csv", 2, "period", "1922-11 is 100 years before the rest of sales_history "
                            "(2022-11 … 2026-10): a typo?", "1922-11")]


def test_a_retailer_with_13_months_and_a_panel_of_17_years_pass() -> None:
    for periods in (months("2010-12", 13), months("2000-01", 17 * 12)):
        assert far_dense_dates(extract(sales_history=sales(periods, "AB")), "sales_history", "period") == []


def test_a_far_span_of_many_rows_is_one_problem() -> None:
    # 2 SKUs × 12 months of 2010 (24 rows, index 0-23), then 2 SKUs × 24 months from 2015-01: the later span has
    # 48 rows, so 2010 is "far": 2010-12 → 2015-01 is 49 months = 4 years
    table = sales(months("2010-01", 12) + months("2015-01", 24), "AB")
    found = far_dense_dates(extract(sales_history=table), "sales_history", "period")
    assert rows(found) == [("sales_history.csv", 2, "period", "24 rows dated 2010-01 … 2010-12 are 4 years before "
                            "the rest of sales_history (2015-01 … 2016-12), with no row in between: a typo in the "
                            "year, or months lost in the export?", "2010-01")]


def test_sparse_dates_far_from_the_history_and_the_cycle() -> None:
    promos = pd.DataFrame({"period": [M("2011-01-01"), M("2012-11-01"), M("2036-12-01"), M("2036-11-01")],
                           "sku": ["A"] * 4, "region": ["North"] * 4, "discount_pct": [10.0] * 4})
    prices = pd.DataFrame({"sku": ["A", "A", "B"], "valid_from": [M("1900-01-01"), M("2062-01-01"), M("2026-01-01")],
                           "unit_price": [1.0, 2.0, 3.0], "unit_cost": [0.5, 0.5, 0.5]})
    ex = extract(sales_history=sales(months("2022-11", 48), "AB"), promotions=promos, prices=prices)
    found = [r for r in rows(check_health(ex, CYCLE)[0]) if r[2] in ("period", "valid_from")]
    # history from 2022-11: before 2012-11 is far (2011-01, row 2); after 2036-11 (cycle + 10 years) is far
    # (2036-12, row 4); a price valid from 1900 is "always" (not far), one valid from 2062 is far (row 3)
    assert found == [
        ("promotions.csv", 2, "period", "more than 10 years before the first month of sales_history (2022-11): "
         "a typo?", "2011-01"),
        ("promotions.csv", 4, "period", "more than 10 years after the cycle 2026-11: a typo?", "2036-12"),
        ("prices.csv", 3, "valid_from", "more than 10 years after the cycle 2026-11: a typo?", "2062-01"),
    ]


# --- history against the cycle -------------------------------------------------------------------------


def test_a_stale_extract_is_a_problem_unless_allowed() -> None:
    ex = extract(sales_history=sales(months("2024-01", 34)))  # 2024-01 … 2026-10
    cycle = M("2026-12-01")
    problems, warnings = check_history(ex, cycle)
    assert rows(problems) == [("sales_history.csv", None, "period", (
        "sales_history ends 2026-10; cycle 2026-12 plans from the history up to 2026-11: the extract is a month "
        "short. Export again, or run the cycle 2026-11, or set `forecast.allow_stale_months: 1` in params/ if the "
        "last month is known to be missing"), "2026-10")]
    assert warnings == []
    problems, warnings = check_history(ex, cycle, allow_stale_months=1)
    assert problems == []
    assert rows(warnings) == [("sales_history.csv", None, "period", "sales_history ends 2026-10, 1 month before "
                               "2026-11 (the month before cycle 2026-12): accepted as forecast.allow_stale_months "
                               "is 1", "2026-10")]
    # two months short is still a problem with 1 allowed
    assert "2 months short" in check_history(ex, M("2027-01-01"), allow_stale_months=1)[0][0]["problem"]


def test_no_history_before_the_cycle() -> None:
    ex = extract(sales_history=sales(months("2022-11", 48)))
    problems, warnings = check_history(ex, M("1999-12-01"))
    assert rows(problems) == [("sales_history.csv", None, "period", "no sales history before cycle 1999-12: "
                               "sales_history runs 2022-11 … 2026-10. Is the cycle right?", "2022-11")]
    assert "48 rows dated in or after the cycle month 1999-12 were left out" in warnings[0]["problem"]


def test_a_month_missing_for_every_series_is_named() -> None:
    periods = [m for m in months("2024-01", 34) if m not in (M("2025-03-01"), M("2025-04-01"), M("2025-09-01"))]
    problems, _ = check_history(extract(sales_history=sales(periods, "AB")), CYCLE)
    assert len(problems) == 1
    assert problems[0]["problem"].startswith("no row at all, for any series, in 2025-03 … 2025-04, 2025-09 (3 months "
                                             "inside the history): lost in the export?")
    assert problems[0]["value"] == "2025-03"


def test_a_month_missing_for_one_series_only_is_zero_demand_not_a_problem() -> None:
    table = sales(months("2024-01", 34), "AB")
    table = table[~((table["sku"] == "A") & (table["period"] == M("2025-03-01")))]
    assert check_history(extract(sales_history=table), CYCLE) == ([], [])


def test_a_cycle_outside_the_sane_range_is_one_problem() -> None:
    problems, _ = check_health(extract(sales_history=sales(months("2022-11", 48))), M("2262-01-01"))
    assert [p["problem"] for p in problems] == ["cycle 2262-01 is outside 1990-01 … 2100-12: a typo in --cycle?"]


def test_describe_months_names_runs() -> None:
    assert describe_months([M("2025-05-01"), M("2024-01-01"), M("2025-03-01"), M("2025-04-01")]) == \
        "2024-01, 2025-03 … 2025-05"


# --- keys between tables -------------------------------------------------------------------------------


def test_keys_that_match_nothing_problem_or_warning() -> None:
    history = sales(months("2024-01", 34), "AB")
    routes = pd.DataFrame({"sku": ["A", "B", "C"], "resource": ["Mix", "Mix", "Mix"], "hours_per_unit": [1.0] * 3})
    capacity = pd.DataFrame({"resource": ["Mix", "Fill"], "period": [CYCLE, CYCLE], "available_hours": [9.0, 9.0]})
    inventory = pd.DataFrame({"sku": ["A", "B", "Z"], "on_hand": [1.0, 1.0, 1.0]})
    promos = pd.DataFrame({"period": [CYCLE] * 3, "sku": ["A", "Q", "B"], "region": ["North", "North", "Mars"],
                           "discount_pct": [5.0] * 3})
    ex = extract(sales_history=history, bill_of_resources=routes, capacity=capacity, inventory=inventory,
                 promotions=promos)
    problems, warnings = check_health(ex, CYCLE)
    # routes row 4 (index 2) names C, not a product: a problem (a real route may have been mistyped)
    assert [(p["file"], p["row"], p["value"]) for p in problems] == [("bill_of_resources.csv", 4, "C")]
    assert [(w["file"], w["row"], w["column"], w["value"]) for w in warnings] == [
        ("capacity.csv", 3, "resource", "Fill"),  # no route uses it
        ("inventory.csv", 4, "sku", "Z"),
        ("promotions.csv", 3, "sku", "Q"),
        ("promotions.csv", 4, "sku, region", "B | Mars"),
    ]


def test_budget_ending_before_the_horizon_is_a_warning() -> None:
    budget = pd.DataFrame({"family": ["Juice"] * 14, "period": months("2026-01", 14), "units": [1.0] * 14,
                           "revenue": [1.0] * 14, "gross_margin": [0.0] * 14})  # 2026-01 … 2027-02
    ex = extract(sales_history=sales(months("2024-01", 34)), budget=budget)
    problems, warnings = check_health(ex, CYCLE, horizon_months=6)  # 2026-11 … 2027-04
    assert problems == []
    assert rows(warnings) == [("budget.csv", None, "period", "budget ends 2027-02; the forecast horizon "
                               "(forecast.horizon_months: 6) runs to 2027-04: 2027-03 … 2027-04 have no budget to "
                               "compare with", "2027-02")]
    assert check_health(ex, CYCLE, horizon_months=4)[1] == []  # to 2027-02: covered


def test_capacity_that_does_not_cover_the_horizon() -> None:
    routes = pd.DataFrame({"sku": ["A", "B"], "resource": ["Mix", "Fill"], "hours_per_unit": [1.0, 1.0]})
    capacity = pd.DataFrame({"resource": ["Mix"] * 3 + ["Fill"] * 2, "period": months("2026-11", 3) + months(
        "2026-11", 2), "available_hours": [1.0] * 5})
    missing = uncovered_capacity(capacity, routes, CYCLE, 3)
    assert missing.values.tolist() == [["Fill", M("2027-01-01")]]
    assert uncovered_capacity(capacity.iloc[:0], routes, CYCLE, 3).empty  # not modelled: nothing to cover


# --- through validate_inputs and check_planner_inputs ------------------------------------------------------


def test_bounds_are_documented_in_the_contract() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "data-contract.md").read_text(encoding="utf-8")
    for table in ("sales_history", "prices", "promotions", "bill_of_resources", "capacity", "inventory", "budget"):
        for column, (_, high) in bounds_of(table).items():
            assert f"`{table}.{column}`" in text, (table, column)
            assert high is not None, (table, column)
            written = f"{high:g}" if high < 1e6 else f"1e{round(math.log10(high))}"  # 100, 1e12
            assert f"| {written}" in text or f"… {written}" in text or f"≤ {written}" in text, (table, column, high)


def small(folder: Path, sales_csv: str, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sales_history.csv").write_text(sales_csv, encoding="utf-8")
    (folder / "products.csv").write_text("sku,family\nA,Juice\nB,Juice\n", encoding="utf-8")
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[tuple[object, ...]]:
    with pytest.raises(InputInvalid) as info:
        validate_inputs(folder, CYCLE)
    return [(r.file, None if pd.isna(r.row) else int(r.row), r.column, r.problem, r.value)
            for r in info.value.problems.itertuples(index=False)]


HEAD = "period,sku,region,units\n"


@pytest.mark.parametrize(("value", "problem"), [
    ("inf", "not a finite number (infinite, or an overflow such as 1e400): a typo or a broken export?"),
    ("-Infinity", "not a finite number (infinite, or an overflow such as 1e400): a typo or a broken export?"),
    ("1e400", "not a finite number (infinite, or an overflow such as 1e400): a typo or a broken export?"),
    ("2e12", "must be ≤ 1e+12 (beyond any plausible figure: a typo?)"),
    ('"1,5"', "not a number (write numbers with a dot for decimals and no thousands separator)"),
])
def test_numbers_that_cannot_be_right(tmp_path: Path, value: str, problem: str) -> None:
    # row 3 is the broken one; row 4 is -1 (also reported: an unreadable cell does not hide the others)
    found = problems_of(small(tmp_path, HEAD + f"2026-10,A,North,1\n2026-10,B,North,{value}\n2026-09,A,North,-1\n"
                              "2026-09,B,North,1\n"))
    assert found == [("sales_history.csv", 3, "units", problem, value.strip('"')),
                     ("sales_history.csv", 4, "units", "must be ≥ 0", "-1")]


def test_a_misnamed_optional_column_is_a_problem_not_a_default(tmp_path: Path) -> None:
    prices = "sku,valid_from,unit_price,Unit_Cost\nA,2026-01,2.0,1.0\nB,2026-01,2.0,1.0\n"
    found = problems_of(small(tmp_path, HEAD + "2026-10,A,North,1\n", prices=prices))
    assert found == [("prices.csv", None, "unit_cost", "column 'Unit_Cost' is not read: the contract names it "
                      "unit_cost (column names are exact, lower case): rename it", "Unit_Cost")]


def test_an_unquoted_decimal_comma_names_the_line(tmp_path: Path) -> None:
    found = problems_of(small(tmp_path, HEAD + "2026-10,A,North,1,5\n"))
    assert found == [("sales_history.csv", None, "", "line 2 has 5 fields where the header "
                      "('period,sku,region,units') has 4: text with a comma must be in double quotes (\"Lemon, "
                      "0.5 L\"), and numbers take a dot for decimals (1.5, not 1,5)", "")]


@pytest.mark.parametrize("value", ['"=HYPERLINK(""http://x"",""y"")"', "+cmd|' /C calc'!A0", "@SUM(A1)",
                                   "<script>alert(1)</script>"])
def test_a_key_that_looks_like_a_formula_or_markup_is_a_problem(tmp_path: Path, value: str) -> None:
    found = problems_of(small(tmp_path, HEAD + f"2026-10,A,{value},1\n"))
    assert [(f, r, c, p) for f, r, c, p, _ in found] == [("sales_history.csv", 2, "region", "looks like a "
                                                          "spreadsheet formula or markup (begins with =, +, @ or "
                                                          "holds < or >): a corrupted cell?")]


def test_capacity_short_of_the_horizon_stops_the_planner_inputs(tmp_path: Path) -> None:
    from sop_lib.data.context import PlannerInputsInvalid, check_planner_inputs
    from sop_lib.data.params import load_params
    from sop_lib.data.project import init_project
    from sop_lib.data.store import Store

    init_project(tmp_path, "Acme", "EUR")
    (tmp_path / "params" / "2026-11.yaml").write_text("forecast:\n  horizon_months: 4\n", encoding="utf-8")
    store = Store(tmp_path)
    tables = {
        "sales_history": sales(months("2024-01", 34)),
        "products": pd.DataFrame({"sku": ["A"], "family": ["Juice"]}),
        "bill_of_resources": pd.DataFrame({"sku": ["A"], "resource": ["Mix"], "hours_per_unit": [1.0]}),
        "capacity": pd.DataFrame({"resource": ["Mix"] * 2, "period": months("2026-11", 2),
                                  "available_hours": [1.0, 1.0]}),
    }
    with pytest.raises(PlannerInputsInvalid) as info:
        check_planner_inputs(store, "2026-11", tables, load_params(store.params_dir, "2026-11"))
    assert info.value.problems == [
        "forecast.horizon_months: 4 plans 2026-11 … 2027-02, but capacity has no hours for Mix in 2027-01 … 2027-02: "
        "those months would be planned as unconstrained. Add the capacity rows, or set forecast.horizon_months: 2 or "
        "less (2026-11.yaml)"]
    (tmp_path / "params" / "2026-11.yaml").write_text("forecast:\n  horizon_months: 2\n", encoding="utf-8")
    assert check_planner_inputs(store, "2026-11", tables, load_params(store.params_dir, "2026-11")) == 0
