"""Quarterly cycles: the cycle arithmetic, a quarter's variance, decisions across cadences and the archive index,
all worked out by hand; one quarterly demo cycle end to end."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sop_lib.core.cycle import Cycle, cycle_rank, latest_cycle, sort_cycles
from sop_lib.core.errors import ParamsError
from tests.conftest import NO_PDF, make_root, set_params, sop

TS = pd.Timestamp


# --- the cycle ---------------------------------------------------------------------------------------------

def test_a_quarter_is_its_three_months_and_plans_from_the_first() -> None:
    q4 = Cycle.parse("2026-Q4")
    assert (q4.id, str(q4), q4.cadence, q4.months) == ("2026-Q4", "2026-Q4", "quarterly", 3)
    assert q4.month_starts() == [TS("2026-10-01"), TS("2026-11-01"), TS("2026-12-01")]
    assert (q4.first_month, q4.last_month, q4.end) == (TS("2026-10-01"), TS("2026-12-01"), TS("2027-01-01"))
    assert q4.plan_start == q4.start == TS("2026-10-01")  # run at the quarter's start: actuals to September
    assert Cycle.parse("2026-11").plan_start == TS("2026-11-01")  # a month: the same rule
    assert Cycle.parse("2027-Q1").start == TS("2027-01-01") and Cycle.parse("2026-Q2").start == TS("2026-04-01")
    assert q4.as_month() == Cycle.parse("2026-10")


def test_previous_and_shift_stay_in_the_cadence() -> None:
    assert Cycle.parse("2027-Q1").previous() == Cycle.parse("2026-Q4")
    assert Cycle.parse("2026-Q1").previous().id == "2025-Q4"
    assert Cycle.parse("2026-Q4").shift(5).id == "2028-Q1"
    assert Cycle.parse("2026-01").previous().id == "2025-12"  # monthly: months, as before
    assert Cycle.parse("2026-11").shift(3).id == "2027-02"
    assert Cycle.containing(TS("2026-11-17"), "quarterly").id == "2026-Q4"
    assert Cycle.containing(TS("2026-11-17"), "monthly").id == "2026-11"


def test_months_and_quarters_order_in_time() -> None:
    ids = ["2027-Q1", "2026-11", "2026-Q4", "2026-12", "2026-10", "2026-09"]
    # by first month; a month before the quarter that starts with it (text order would put 2026-Q4 last)
    assert sort_cycles(ids) == ["2026-09", "2026-10", "2026-Q4", "2026-11", "2026-12", "2027-Q1"]
    assert Cycle.parse("2026-Q4") < Cycle.parse("2026-11") and Cycle.parse("2026-10") < Cycle.parse("2026-Q4")
    assert latest_cycle(["2026-Q4", "2026-11"]) == "2026-11"  # max() of the text would say 2026-Q4
    assert latest_cycle({"2026-Q3", "2026-09"}) == "2026-09"
    assert sorted(ids, key=cycle_rank) == sort_cycles(ids)


@pytest.mark.parametrize("bad", ["2026-Q5", "2026-Q0", "2026-q4", "2026-Q", "26-Q4", "2026-Q04", "Q4-2026"])
def test_a_malformed_quarter_is_refused_with_both_forms_named(bad: str) -> None:
    with pytest.raises(ParamsError) as err:
        Cycle.parse(bad)
    assert str(err.value) == (f"Cycle {bad!r} is not a month in the form YYYY-MM (e.g. 2026-11) or a quarter in the "
                              "form YYYY-Qn (e.g. 2026-Q4, n from 1 to 4).")


def test_a_quarter_out_of_range_is_refused() -> None:
    with pytest.raises(ParamsError, match=r"Cycle '2101-Q1' is out of range: the year must be between 1990 and 2100"):
        Cycle.parse("2101-Q1")


def test_the_cadence_in_params_must_match_the_cycle(tmp_path: Path) -> None:
    from sop_lib.data.params import default_cadence, load_params

    params = tmp_path / "params"
    params.mkdir()
    (params / "defaults.yaml").write_text("company: Q Co\n", encoding="utf-8")
    assert load_params(params, "2026-11").cadence == "monthly"
    with pytest.raises(ParamsError) as err:
        load_params(params, "2026-Q4")
    assert "Cycle 2026-Q4 is a quarterly cycle but the parameters set cadence: monthly" in str(err.value)
    assert "Run the monthly cycle instead (e.g. 2026-10)" in str(err.value)
    assert "set cadence: quarterly in params/2026-Q4.yaml" in str(err.value)
    (params / "2026-Q4.yaml").write_text("cadence: quarterly\n", encoding="utf-8")  # this cycle's own file
    assert load_params(params, "2026-Q4").cadence == "quarterly"
    (params / "defaults.yaml").write_text("company: Q Co\ncadence: quarterly\n", encoding="utf-8")
    assert default_cadence(params) == "quarterly"
    with pytest.raises(ParamsError, match=r"Cycle 2026-11 is a monthly cycle but the parameters set cadence: "
                                          r"quarterly \(.*defaults.yaml\)\. Run the quarterly cycle instead \(e.g. "
                                          r"2026-Q4\)"):
        load_params(params, "2026-11")


def test_import_proposes_the_quarter_of_the_month_after_the_last_sales(tmp_path: Path) -> None:
    from sop_lib.data.importer.report import ImportResult
    from sop_lib.data.importer.write import cycle_after_sales

    def after(last: str, cadence: str) -> str:
        sales = pd.DataFrame({"period": [TS("2026-01-01"), TS(last)]})
        return str(cycle_after_sales(ImportResult({"sales_history": sales}, {}), tmp_path, cadence))  # type: ignore[arg-type]

    assert after("2026-09-01", "quarterly") == "2026-Q4"  # sales to September: the quarter starting in October
    assert after("2026-10-01", "quarterly") == "2026-Q4"  # mid-quarter: the quarter that holds November
    assert after("2026-12-01", "quarterly") == "2027-Q1"
    assert after("2026-10-01", "monthly") == "2026-11"


def test_the_cli_names_both_forms_for_a_bad_cycle(tmp_path: Path) -> None:
    proc = sop("validate", "--root", str(make_root(tmp_path / "p")), "--cycle", "2026-Q7")
    assert proc.returncode == 2
    assert "Cycle '2026-Q7' is not a month in the form YYYY-MM" in proc.stderr and "YYYY-Qn" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- a quarter's variance ----------------------------------------------------------------------------------

def _plan(months: list[str], units: float) -> pd.DataFrame:
    return pd.DataFrame({"sku": "A", "region": "North", "period": pd.to_datetime([f"{m}-01" for m in months]),
                         "forecast": units, "naive": units - 10, "statistical": units + 5})


PRODUCTS = pd.DataFrame({"sku": ["A"], "family": ["Juice"]})
PRICES = pd.DataFrame({"sku": ["A"], "valid_from": [TS("2020-01-01")], "unit_price": [2.0], "unit_cost": [1.0]})
ACTUALS = pd.DataFrame({"sku": "A", "region": "North", "period": pd.to_datetime(
    ["2026-09-01", "2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"]), "units": [60.0, 90.0, 110.0, 130.0, 999.0]})


def test_a_quarter_reviews_its_months_against_every_plan_published_before_it() -> None:
    """Cycle 2027-Q1 (plans from January): the months closed since the last quarter's plan, Oct–Dec, against the
    monthly plan of 2026-09 (the company's last monthly cycle) and the 2026-Q4 plan."""
    from sop_lib.report.headlines import compute_headlines
    from sop_lib.review.variance import forecast_value_added, own_months, plan_vs_actual, stack_plans

    plans = {"2026-Q4": _plan(["2026-10", "2026-11", "2026-12", "2027-01"], 100.0),
             "2026-09": _plan(["2026-09", "2026-10", "2026-11", "2026-12", "2027-01"], 50.0)}
    start = Cycle.parse("2027-Q1").start
    pva = plan_vs_actual(stack_plans(plans, steps=("naive", "statistical")), ACTUALS, PRODUCTS, PRICES, start)
    assert pva["period"].max() == TS("2026-12-01")  # January is not closed: neither plan's January is scored
    assert list(zip(pva["plan_cycle"], pva["lag"], pva["actual"], pva["forecast"], strict=True)) == [
        ("2026-09", 0, 60.0, 50.0), ("2026-09", 1, 90.0, 50.0), ("2026-09", 2, 110.0, 50.0), ("2026-09", 3, 130.0, 50.0),
        ("2026-Q4", 0, 90.0, 100.0), ("2026-Q4", 1, 110.0, 100.0), ("2026-Q4", 2, 130.0, 100.0)]
    assert pva["revenue_variance"].sum() == pytest.approx(2 * (390 - 200) + 2 * (330 - 300))  # at 2.0 a unit
    assert own_months(pva).tolist() == [True, False, False, False, True, True, True]
    # the headline scores the latest plan on its own quarter: |−10| + 10 + 30 = 50 over 330 sold
    acc = compute_headlines(start, ACTUALS, None, None, None, pva)["accuracy"]
    assert acc["plan_cycle"] == "2026-Q4" and acc["month"] == "2026-10 – 2026-12"
    assert acc["accuracy"] == pytest.approx(1 - 50 / 330)
    assert acc["bias_pct"] == pytest.approx((300 - 330) / 330 * 100)
    fva = forecast_value_added(pva, ["plan_cycle"])
    q4 = fva[fva["plan_cycle"] == "2026-Q4"].set_index("step")
    # naive 90: |0| + 20 + 40 = 60; statistical 105: 15 + 5 + 25 = 45; consensus 50 → WAPE 60, 45, 50 over 330
    assert q4["wape"].tolist() == pytest.approx([60 / 330, 45 / 330, 50 / 330])
    assert q4.loc["consensus", "fva_points"] == pytest.approx(-5 / 330 * 100)


def test_plans_of_both_cadences_are_scored_in_time_order() -> None:
    """A company back to monthly cycles: at 2026-10 the 2026-Q3 plan (Jul–Sep) came before 2026-09's, although
    '2026-09' < '2026-Q3' as text; the headline scores the latest plan, 2026-09, on September."""
    from sop_lib.report.headlines import compute_headlines
    from sop_lib.review.kpi import compute_kpis
    from sop_lib.review.variance import plan_vs_actual, score, stack_plans

    actuals = pd.DataFrame({"sku": "A", "region": "North", "units": [70.0, 80.0, 60.0],
                            "period": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-09-01"])})
    plans = {"2026-09": _plan(["2026-09", "2026-10"], 50.0), "2026-Q3": _plan(["2026-07", "2026-08", "2026-09"], 75.0)}
    pva = plan_vs_actual(stack_plans(plans), actuals, PRODUCTS, PRICES, TS("2026-10-01"))
    assert pva["plan_cycle"].tolist() == ["2026-Q3", "2026-Q3", "2026-Q3", "2026-09"]
    by = score(pva, ["plan_cycle"])
    assert by["plan_cycle"].tolist() == ["2026-Q3", "2026-09"]
    assert by["wape"].tolist() == pytest.approx([(5 + 5 + 15) / 210, 10 / 60])
    acc = compute_headlines(TS("2026-10-01"), actuals, None, None, None, pva)["accuracy"]
    assert (acc["plan_cycle"], acc["month"], acc["accuracy"]) == ("2026-09", "2026-09", pytest.approx(50 / 60))
    cap = pd.DataFrame({"resource": ["Bottling"], "period": [TS("2026-10-01")], "required_hours": [1.0],
                        "available_hours": [2.0], "utilisation": [0.5]})
    kpis = compute_kpis(TS("2026-10-01"), pva, cap, None, None, None, None)
    row = kpis[(kpis["kpi"] == "accuracy") & (kpis["scope"] == "")].iloc[0]
    assert row["basis"] == "plan of 2026-09 for 2026-09" and row["value"] == pytest.approx(50 / 60)


# --- decisions ---------------------------------------------------------------------------------------------

def test_a_decision_may_be_reviewed_in_a_cycle_of_either_cadence() -> None:
    from sop_lib.review.decisions import DecisionError, _check, covered_keys
    from sop_lib.review.kpi import follow_through

    assert _check({"raised_cycle": "2026-09", "review_cycle": "2026-Q4"})["review_cycle"] == "2026-Q4"
    assert _check({"raised_cycle": "2026-Q3", "review_cycle": "2026-09"})["review_cycle"] == "2026-09"
    with pytest.raises(DecisionError, match="review_cycle 2026-10 is before raised_cycle 2026-Q4"):
        _check({"raised_cycle": "2026-Q4", "review_cycle": "2026-10"})
    with pytest.raises(DecisionError, match="YYYY-Qn"):
        _check({"raised_cycle": "2026-09", "review_cycle": "2026-Q9"})

    from sop_lib.review.decisions import COLUMNS

    def log(rows: list[dict]) -> pd.DataFrame:
        return pd.DataFrame([{c: r.get(c, np.nan) for c in COLUMNS} for r in rows], columns=COLUMNS)

    closed = log([{"id": "D-001", "key": "capacity:Bottling", "status": "closed", "raised_cycle": "2026-09",
                   "review_cycle": "2026-Q4", "expected_kpi": "hours_short:Bottling", "expected_value": -100.0}])
    # review due in 2026-Q4: still covered in 2026-10 (before the quarter), raised again from 2026-Q4 on, and
    # in 2026-11, after the quarter in time (compared as text, '2026-Q4' > '2026-11' would keep it covered)
    assert covered_keys(closed, "2026-10") == {"capacity:Bottling": "D-001"}
    assert covered_keys(closed, "2026-Q4") == {}
    assert covered_keys(closed, "2026-11") == {}
    card = {"2026-09": pd.DataFrame({"name": ["hours_short:Bottling"], "value": [300.0]}),
            "2026-Q4": pd.DataFrame({"name": ["hours_short:Bottling"], "value": [180.0]})}
    ft = follow_through(closed, card, "2026-11").set_index("id")
    assert ft.loc["D-001", "measured_change"] == -120.0 and ft.loc["D-001", "verdict"] == "met"
    # reviewed in a month the company no longer runs: measured in the first quarter after it
    monthly_review = closed.assign(review_cycle="2026-11", raised_cycle="2026-09")
    later = {"2026-09": card["2026-09"], "2027-Q1": pd.DataFrame({"name": ["hours_short:Bottling"], "value": [250.0]})}
    ft = follow_through(monthly_review, later, "2027-Q1").set_index("id")
    assert ft.loc["D-001", "measured"] == 250.0 and ft.loc["D-001", "verdict"] == "partly met"  # 50 of 100
    assert follow_through(monthly_review, later, "2026-Q4").set_index("id").loc["D-001", "verdict"] == "pending"


# --- the archive index -------------------------------------------------------------------------------------

def _publish(root: Path, cycle: str, headlines: dict | None, plotly: bool = False) -> None:
    published = root / "data" / "cycles" / cycle / "published"
    published.mkdir(parents=True)
    (published / "published.json").write_text(json.dumps({"fingerprint": f"fp{cycle}" * 3,
                                                          "published_at": f"at {cycle}"}), encoding="utf-8")
    pack = root / "reports" / cycle
    (pack / "assets").mkdir(parents=True)
    if headlines is not None:
        (pack / "headlines.json").write_text(json.dumps(headlines), encoding="utf-8")
    if plotly:
        (pack / "assets" / "plotly.min.js").write_text(f"/* plotly of {cycle} */", encoding="utf-8")


def test_the_archive_lists_every_cycle_in_time_with_its_headline_kpis(tmp_path: Path) -> None:
    from sop_lib.data.store import Store
    from sop_lib.pack.run import write_cycles_index

    root = make_root(tmp_path / "p")
    full = {"demand": {"change_pct": 4.25}, "capacity": {"peak_utilisation": 1.125},
            "budget": {"revenue_gap_pct": -3.5}, "accuracy": {"accuracy": 0.8125, "bias_pct": 2.5, "month": "2026-10"}}
    _publish(root, "2026-10", {"demand": {"change_pct": 1.0}, "capacity": None, "budget": None, "accuracy": None},
             plotly=True)
    _publish(root, "2026-11", full, plotly=True)
    _publish(root, "2026-Q4", None)  # a pack without headlines.json: every figure "—"
    _publish(root, "2027-Q1", {**full, "accuracy": {"accuracy": 0.75, "bias_pct": -1.0,
                                                    "month": "2026-10 – 2026-12"}})  # no plotly: the newest that has
    path = write_cycles_index(Store(root))
    html = path.read_text(encoding="utf-8")
    rows = re.findall(r'<tr><td><a href="([^"]+)/index.html">', html)
    assert rows == ["2027-Q1", "2026-11", "2026-Q4", "2026-10"]  # newest first, in time
    cells = {c: re.search(rf'href="{c}/index.html">{c}</a></td>(.*?)</tr>', html).group(1) for c in rows}
    values = {c: re.findall(r'<td style="text-align:right"[^>]*>([^<]*)</td>', cells[c]) for c in rows}
    # accuracy %, bias %, revenue vs budget %, next 12 m vs last 12 m %, peak utilisation %
    assert values["2026-11"] == ["81.2", "2.5", "-3.5", "4.2", "112.5"]
    assert values["2027-Q1"] == ["75.0", "-1.0", "-3.5", "4.2", "112.5"]
    assert values["2026-Q4"] == ["—"] * 5
    assert values["2026-10"] == ["—", "—", "—", "1.0", "—"]
    assert "<td>quarterly</td>" in cells["2027-Q1"] and "<td>monthly</td>" in cells["2026-11"]
    assert 'title="plan scored on 2026-10 – 2026-12"' in cells["2027-Q1"]
    # the trend chart, with plotly.js copied once from the newest pack that has it
    assert '<script src="assets/plotly.min.js"></script>' in html and "Headline KPIs across cycles" in html
    assert (root / "reports" / "assets" / "plotly.min.js").read_text() == "/* plotly of 2026-11 */"
    chart = json.loads(re.search(r"Plotly.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", html, re.S).group(1))
    assert chart[0]["x"] == ["2026-10", "2026-Q4", "2026-11", "2027-Q1"]  # oldest left
    assert chart[0]["y"][2:] == [81.25, 75.0] and chart[0]["y"][0] is None


def test_an_archive_of_one_cycle_has_no_chart(tmp_path: Path) -> None:
    from sop_lib.data.store import Store
    from sop_lib.pack.run import write_cycles_index

    root = make_root(tmp_path / "p")
    _publish(root, "2026-Q4", {"accuracy": {"accuracy": 0.5, "bias_pct": 0.0}}, plotly=True)
    html = write_cycles_index(Store(root)).read_text(encoding="utf-8")
    assert "2026-Q4/index.html" in html and "<script" not in html and "Trend across cycles" not in html


# --- end to end --------------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_a_quarterly_demo_cycle_publishes_after_monthly_ones(demo_root: Path, tmp_path: Path) -> None:
    """The demo company, published for 2026-10 and 2026-11 (the session's demo), runs its 2026-Q4 cycle in a copy:
    the quarter publishes, compares with the last plan published before it in time (2026-10) and takes its place
    in the archive between the two months."""
    root = tmp_path / "project"
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns("runs", "_failed", ".locks"))
    set_params(root, run=NO_PDF)
    sop("demo", "--root", str(root), "--skus", "8", "--cycles", "2026-Q4", check=True)
    assert "cadence: quarterly" in (root / "params" / "2026-Q4.yaml").read_text(encoding="utf-8")
    pack = root / "reports" / "2026-Q4"
    for page in ("index.html", "01_demand_forecast.html", "04_post_cycle_variance.html", "scorecard.html"):
        assert (pack / page).is_file(), page
    assert json.loads((root / "data" / "cycles" / "2026-Q4" / "published" / "published.json").read_text())
    headlines = json.loads((pack / "headlines.json").read_text(encoding="utf-8"))
    assert headlines["demand"]["next_12m_units"] > 0
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert "against the plan published in 2026-10, over the months both cover" in index  # not 2026-11: later
    forecast = pd.read_parquet(root / "data" / "cycles" / "2026-Q4" / "published" / "forecast.parquet")
    assert forecast["period"].min() == TS("2026-10-01")  # plans from the quarter's first month
    archive = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<tr><td><a href="([^"]+)/index.html">', archive) == ["2026-11", "2026-Q4", "2026-10"]
    assert (root / "reports" / "assets" / "plotly.min.js").stat().st_size > 100_000
