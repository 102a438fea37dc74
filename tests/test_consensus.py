"""Consensus demand: overrides applied in order with every unit attributed, the overrides file's validation,
the store round trip, the waterfall and the override editor (driven from Python, no kernel).

Every expected number below was worked out by hand from the small forecast in ``_statistical``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from sop_lib.core.errors import InputInvalid, SopError
from sop_lib.data.overrides import OVERRIDE_COLUMNS, validate_overrides
from sop_lib.data.store import Store
from sop_lib.demand.consensus import apply_overrides, consensus_waterfall, override_summary
from sop_lib.demo.project import DEMO_PARAMS
from sop_lib.report import waterfall_chart
from sop_lib.widgets.override_editor import OverrideEditor, override_editor

PROJECT = Path(__file__).resolve().parent.parent
MONTHS = ["2026-11", "2026-12", "2027-01"]  # the forecast horizon of these tests
# units per month, the same in every month: family Fizz = A, B, C; family Crunch = D
NORTH = {"A": 10.0, "B": 20.0, "C": 30.0, "D": 40.0}  # Fizz North 60 a month
SOUTH = {"A": 5.0, "B": 0.0, "C": 15.0, "D": 10.0}  # Fizz South 20 a month
FAMILY = {"A": "Fizz", "B": "Fizz", "C": "Fizz", "D": "Crunch"}
# over the 3 months: Fizz (60 + 20) × 3 = 240, Crunch (40 + 10) × 3 = 150, all 390


def _statistical() -> pd.DataFrame:
    rows = [
        {"sku": sku, "region": region, "family": FAMILY[sku], "period": pd.Timestamp(f"{m}-01"), "forecast": units[sku]}
        for m in MONTHS for region, units in (("North", NORTH), ("South", SOUTH)) for sku in units
    ]
    return pd.DataFrame(rows)


PRODUCTS = pd.DataFrame({"sku": list(FAMILY), "family": list(FAMILY.values()),
                         "description": ["Fizz lemon", "Fizz lime", "Fizz cola", "Crunch bar"]})


def _raw(*rows: dict[str, str]) -> pd.DataFrame:
    """An overrides file as read: text cells, blanks as ""."""
    return pd.DataFrame([{c: r.get(c, "") for c in OVERRIDE_COLUMNS} for r in rows], columns=OVERRIDE_COLUMNS)


def _row(owner: str = "Anna", level: str = "family", target: str = "Fizz", region: str = "",
         first: str = "2026-12", last: str = "2026-12", pct: str = "", units: str = "", reason: str = "promo") -> dict:
    return {"owner": owner, "level": level, "target": target, "region": region, "first_month": first,
            "last_month": last, "change_pct": pct, "change_units": units, "reason": reason}


def _apply(*rows: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    overrides = validate_overrides(_raw(*rows), _statistical(), PRODUCTS)
    consensus, adjustments = apply_overrides(_statistical(), overrides)
    return overrides, consensus, adjustments


def _units(consensus: pd.DataFrame, month: str, region: str, column: str = "consensus") -> dict[str, float]:
    got = consensus[(consensus["period"] == pd.Timestamp(f"{month}-01")) & (consensus["region"] == region)]
    return dict(zip(got["sku"], got[column], strict=True))


# --- apply_overrides -----------------------------------------------------------------------------------------
def test_family_units_are_spread_in_proportion_within_the_region() -> None:
    # Fizz North in 2026-12 is A 10, B 20, C 30 (sum 60): +120 units → 120·10/60 = 20, 40, 60
    _, consensus, adjustments = _apply(_row(region="North", units="120"))
    assert _units(consensus, "2026-12", "North") == {"A": 30.0, "B": 60.0, "C": 90.0, "D": 40.0}
    assert _units(consensus, "2026-12", "South") == SOUTH  # region-restricted: the South is untouched
    for month in ("2026-11", "2027-01"):  # months outside the override's range are untouched
        assert _units(consensus, month, "North") == NORTH
    assert sorted(adjustments["delta"]) == [20.0, 40.0, 60.0]
    assert set(adjustments["override_id"]) == {"O1"} and (adjustments["clipped_units"] == 0).all()
    assert (consensus["consensus"] == consensus["statistical"] + consensus["adjustment"]).all()


def test_family_units_without_region_cover_every_region() -> None:
    # Fizz in 2026-12 over both regions: 10 + 20 + 30 + 5 + 0 + 15 = 80; +160 units → 2 per unit of forecast
    _, consensus, _ = _apply(_row(units="160"))
    assert _units(consensus, "2026-12", "North") == {"A": 30.0, "B": 60.0, "C": 90.0, "D": 40.0}
    assert _units(consensus, "2026-12", "South") == {"A": 15.0, "B": 0.0, "C": 45.0, "D": 10.0}


def test_pct_override_on_a_sku_scales_every_region() -> None:
    # C −10 % in 2027-01: North 30 → 27, South 15 → 13.5
    _, consensus, adjustments = _apply(_row(level="sku", target="C", first="2027-01", last="2027-01", pct="-10"))
    assert _units(consensus, "2027-01", "North")["C"] == pytest.approx(27.0)
    assert _units(consensus, "2027-01", "South")["C"] == pytest.approx(13.5)
    assert sorted(adjustments["delta"]) == pytest.approx([-3.0, -1.5])
    assert _units(consensus, "2026-12", "North")["C"] == 30.0


def test_region_level_override_changes_every_sku_of_the_region() -> None:
    # South +20 % in 2027-01: A 5 → 6, B 0 → 0, C 15 → 18, D 10 → 12; B's zero change is not an adjustment row
    _, consensus, adjustments = _apply(_row(level="region", target="South", first="2027-01", last="2027-01",
                                            pct="20"))
    assert _units(consensus, "2027-01", "South") == pytest.approx({"A": 6.0, "B": 0.0, "C": 18.0, "D": 12.0})
    assert _units(consensus, "2027-01", "North") == NORTH
    assert sorted(adjustments["sku"]) == ["A", "C", "D"]


def test_overrides_apply_in_file_order_each_on_the_result_before() -> None:
    # O1: A North +100 % in 2026-11 → A 20. Fizz North is then A 20, B 20, C 30 (sum 70).
    # O2: Fizz North +140 units → A +40, B +40, C +60 → A 60, B 60, C 90.
    # (Had O2 seen the statistical 10/20/30, A would get 140·10/60 = 23.33.)
    _, consensus, adjustments = _apply(
        _row(level="sku", target="A", region="North", first="2026-11", last="2026-11", pct="100"),
        _row(owner="Ben", region="North", first="2026-11", last="2026-11", units="140"),
    )
    assert _units(consensus, "2026-11", "North") == {"A": 60.0, "B": 60.0, "C": 90.0, "D": 40.0}
    a = adjustments[adjustments["sku"] == "A"].set_index("override_id")["delta"]
    assert a.to_dict() == {"O1": 10.0, "O2": 40.0}
    assert _units(consensus, "2026-11", "North", "adjustment") == {"A": 50.0, "B": 40.0, "C": 60.0, "D": 0.0}


def test_a_cut_larger_than_the_forecast_stops_at_zero_and_reports_the_rest() -> None:
    # D North is 40 a month; −100 units in 2026-11 and 2026-12 → 0, delta −40, clipped 60 each month
    overrides, consensus, adjustments = _apply(
        _row(level="sku", target="D", region="North", first="2026-11", last="2026-12", units="-100"))
    assert _units(consensus, "2026-11", "North")["D"] == 0.0
    assert _units(consensus, "2026-12", "North")["D"] == 0.0
    assert _units(consensus, "2027-01", "North")["D"] == 40.0
    assert list(adjustments["delta"]) == [-40.0, -40.0] and list(adjustments["clipped_units"]) == [60.0, 60.0]
    summary = override_summary(overrides, adjustments)
    assert summary.loc[0, ["units_added", "clipped_units", "series"]].tolist() == [-80.0, 120.0, 1]


def test_a_family_cut_larger_than_the_family_clips_every_series() -> None:
    # Fizz South in 2027-01 is A 5, B 0, C 15 (sum 20); −50 units would be −12.5, 0, −37.5:
    # A and C stop at 0 (removing 5 and 15), 7.5 + 22.5 = 30 = 50 − 20 units could not be removed
    _, consensus, adjustments = _apply(_row(region="South", first="2027-01", last="2027-01", units="-50"))
    assert _units(consensus, "2027-01", "South") == {"A": 0.0, "B": 0.0, "C": 0.0, "D": 10.0}
    got = adjustments.set_index("sku")[["delta", "clipped_units"]]
    assert got.to_dict("index") == {"A": {"delta": -5.0, "clipped_units": 7.5},
                                    "C": {"delta": -15.0, "clipped_units": 22.5}}


def test_units_are_spread_equally_when_the_scope_sums_to_zero() -> None:
    # Crunch with a zero forecast: +10 units in 2026-11 over D North and D South → 5 each
    statistical = _statistical()
    statistical.loc[statistical["sku"] == "D", "forecast"] = 0.0
    overrides = validate_overrides(_raw(_row(target="Crunch", first="2026-11", last="2026-11", units="10")),
                                   statistical, PRODUCTS)
    consensus, _ = apply_overrides(statistical, overrides)
    assert _units(consensus, "2026-11", "North")["D"] == 5.0 and _units(consensus, "2026-11", "South")["D"] == 5.0


def test_a_range_partly_outside_the_horizon_applies_to_the_months_inside() -> None:
    # 2026-09 … 2026-11 overlaps the horizon in 2026-11 only: D North 40 + 7 = 47
    _, consensus, _ = _apply(_row(level="sku", target="D", region="North", first="2026-09", last="2026-11",
                                  units="7"))
    assert _units(consensus, "2026-11", "North")["D"] == 47.0
    assert _units(consensus, "2026-12", "North")["D"] == 40.0


def test_no_overrides_leave_the_forecast_unchanged(tmp_path: Path) -> None:
    store = Store(tmp_path)
    raw = store.read_overrides("2030-01")  # no such file
    assert list(raw.columns) == OVERRIDE_COLUMNS and raw.empty
    store.overrides_file("2030-02").parent.mkdir(parents=True, exist_ok=True)
    store.overrides_file("2030-02").write_text(",".join(OVERRIDE_COLUMNS) + "\n")  # header only
    for cycle in ("2030-01", "2030-02"):
        overrides = validate_overrides(store.read_overrides(cycle), _statistical(), PRODUCTS)
        consensus, adjustments = apply_overrides(_statistical(), overrides)
        assert overrides.empty and adjustments.empty
        assert consensus["consensus"].tolist() == _statistical()["forecast"].tolist()
        assert (consensus["adjustment"] == 0).all()
        # what the demand workbook shows next must work without overrides too (it once failed on the merge)
        summary = override_summary(overrides, adjustments)
        assert summary.empty and {"override_id", "series", "units_added"} <= set(summary.columns)
        wf = consensus_waterfall(consensus, adjustments)
        assert wf.loc[wf["family"] == "All families", "units"].tolist() == [390.0, 390.0]  # statistical = consensus


# --- waterfall and summary -----------------------------------------------------------------------------------
WATERFALL_ROWS = (
    _row(owner="Anna", region="North", units="120"),  # O1: Fizz +120
    _row(owner="Ben", level="sku", target="D", region="North", first="2026-11", last="2026-11", units="-100"),
    # O2: D North 40 → 0: Crunch −40 (60 clipped)
    _row(owner="Anna", level="region", target="South", first="2027-01", last="2027-01", pct="20"),
    # O3: South +20 % in 2027-01: A +1, B 0, C +3 (Fizz +4), D +2 (Crunch +2)
)


def test_waterfall_goes_from_statistical_to_consensus_owner_by_owner() -> None:
    overrides, consensus, adjustments = _apply(*WATERFALL_ROWS)
    wf = consensus_waterfall(consensus, adjustments)
    assert list(wf.columns) == ["family", "step", "units", "kind"]
    got = {fam: list(zip(g["step"], g["units"].round(9), strict=True)) for fam, g in wf.groupby("family", sort=False)}
    assert got == {
        "Crunch": [("statistical", 150.0), ("Anna", 2.0), ("Ben", -40.0), ("consensus", 112.0)],
        "Fizz": [("statistical", 240.0), ("Anna", 124.0), ("consensus", 364.0)],
        "All families": [("statistical", 390.0), ("Anna", 126.0), ("Ben", -40.0), ("consensus", 476.0)],
    }
    for _, g in wf.groupby("family"):  # the bars close: statistical + every owner's delta = consensus
        assert g["units"].iloc[0] + g.loc[g["kind"] == "delta", "units"].sum() == pytest.approx(
            g["units"].iloc[-1], rel=1e-12)
    summary = override_summary(overrides, adjustments)
    assert summary["units_added"].round(9).tolist() == [120.0, -40.0, 6.0]
    assert summary["clipped_units"].tolist() == [0.0, 60.0, 0.0]
    assert summary["series"].tolist() == [3, 1, 3]  # O3 changed A, C, D South (B South is 0)


def test_waterfall_closes_exactly_on_whole_units() -> None:
    _, consensus, adjustments = _apply(*WATERFALL_ROWS[:2])
    wf = consensus_waterfall(consensus, adjustments)
    for _, g in wf.groupby("family"):
        assert g["units"].iloc[0] + g.loc[g["kind"] == "delta", "units"].sum() == g["units"].iloc[-1]


def test_waterfall_chart_has_a_panel_per_family_and_escapes_owners() -> None:
    _, consensus, adjustments = _apply(_row(owner="<b>Anna</b>", region="North", units="120"))
    fig = waterfall_chart(consensus_waterfall(consensus, adjustments))
    assert isinstance(fig, go.Figure) and len(fig.data) == 3  # Crunch, Fizz, All families
    fizz = fig.data[1]
    assert list(fizz.x) == ["statistical", "&lt;b&gt;Anna&lt;/b&gt;", "consensus"]
    assert list(fizz.measure) == ["absolute", "relative", "absolute"]
    assert "+120 units" in fizz.hovertext[1]


# --- validation ----------------------------------------------------------------------------------------------
def test_every_problem_is_reported_at_once_with_its_spreadsheet_row() -> None:
    raw = _raw(
        _row(units="10"),  # row 2: fine
        _row(owner=" ", level="brand", units="10"),  # row 3
        _row(level="sku", target="Z", first="2026/12", units="10"),  # row 4
        _row(first="2027-01", last="2026-12", pct="5", units="10"),  # row 5
        _row(pct="-100", reason=""),  # row 6
        _row(first="2025-01", last="2025-03", pct="5"),  # row 7: before the horizon 2026-11 … 2027-01
        _row(units="lots"),  # row 8
        _row(region="East", pct="5"),  # row 9
        _row(level="region", target="South", region="North", pct="5"),  # row 10
        _row(),  # row 11: no change given
    )
    with pytest.raises(InputInvalid) as err:
        validate_overrides(raw, _statistical(), PRODUCTS, source="params/overrides/2026-11.csv")
    p = err.value.problems
    assert list(p.columns) == ["file", "row", "column", "problem", "value"]
    assert set(p["file"]) == {"params/overrides/2026-11.csv"}
    assert list(zip(p["row"], p["column"], strict=True)) == [
        (3, "owner"), (3, "level"),
        (4, "target"), (4, "first_month"),
        (5, "first_month"), (5, "change_pct, change_units"),
        (6, "reason"), (6, "change_pct"),
        (7, "first_month, last_month"),
        (8, "change_units"),
        (9, "region"),
        (10, "region"),
        (11, "change_pct, change_units"),
    ]
    by_cell = {(r, c): (text, value) for r, c, text, value in zip(p["row"], p["column"], p["problem"], p["value"],
                                                                 strict=True)}
    assert by_cell[(3, "level")] == ("level must be sku, family or region", "brand")
    assert by_cell[(4, "target")] == ("unknown SKU: not in products", "Z")
    assert by_cell[(4, "first_month")][1] == "2026/12"
    assert "2026-11 … 2027-01" in by_cell[(7, "first_month, last_month")][0]
    assert by_cell[(8, "change_units")][1] == "lots"
    assert "North, South" in by_cell[(9, "region")][0]
    assert "params/overrides/2026-11.csv has 13 problems" in str(err.value)


def test_missing_columns_and_blank_lines_keep_row_numbers_right(tmp_path: Path) -> None:
    store = Store(tmp_path)
    path = store.overrides_file("2026-11")
    path.parent.mkdir(parents=True)
    path.write_text(  # line 3 is blank: a spreadsheet shows it as an empty row 3
        "owner,level,target,first_month,last_month,change_units\n"
        "Anna,family,Fizz,2026-12,2026-12,10\n"
        "\n"
        "Ben,family,Nope,2026-12,2026-12,10\n",
        encoding="utf-8",
    )
    with pytest.raises(InputInvalid) as err:
        validate_overrides(store.read_overrides("2026-11"), _statistical(), PRODUCTS)
    p = err.value.problems
    assert list(zip(p["row"].astype(object).where(p["row"].notna(), None), p["column"], strict=True)) == [
        (None, "reason"), (4, "target")]


def test_values_are_typed_and_spelling_is_forgiven_where_unambiguous() -> None:
    raw = _raw(_row(level=" SKU ", target="a", region="north", first="2026-12-01", last="2027-01", pct="12%"))
    got = validate_overrides(raw, _statistical(), PRODUCTS).iloc[0]
    key = (got["override_id"], got["row"], got["level"], got["target"], got["region"])
    assert key == ("O1", 2, "sku", "A", "North")
    assert got["first_month"] == pd.Timestamp("2026-12-01") and got["last_month"] == pd.Timestamp("2027-01-01")
    assert got["change_pct"] == 12.0 and pd.isna(got["change_units"])


def test_store_writes_overrides_in_one_step_and_reads_them_back(tmp_path: Path) -> None:
    store = Store(tmp_path)
    frame = _raw(_row(units="10", reason='promo, "big" one'), _row(owner="Ben", pct="-5"))
    path = store.write_overrides("2031-05", frame)
    assert path == store.root / "params" / "overrides" / "2031-05.csv"
    assert [p.name for p in path.parent.iterdir()] == ["2031-05.csv"]  # no temporary file left behind
    back = store.read_overrides("2031-05")
    pd.testing.assert_frame_equal(back, frame)


# --- the sample file of the demo company ---------------------------------------------------------------------
@pytest.mark.parametrize("n_skus", [8, 56])
def test_the_sample_overrides_file_fits_the_demo_company(n_skus: int) -> None:
    from sop_lib.demo.company import generate_demo_company

    tables = generate_demo_company("2026-11", n_skus=n_skus)
    series = tables["sales_history"][["sku", "region"]].drop_duplicates().merge(tables["products"][["sku", "family"]])
    months = pd.date_range("2026-11-01", "2028-04-01", freq="MS")  # cycle + 18 months
    statistical = series.merge(pd.DataFrame({"period": months}), how="cross").assign(forecast=1000.0)
    raw = Store(DEMO_PARAMS.parent).read_overrides("2026-11")  # the demo project's params/ as sop demo writes it
    overrides = validate_overrides(raw, statistical, tables["products"])
    assert len(overrides) >= 3 and overrides["owner"].nunique() >= 2
    _, adjustments = apply_overrides(statistical, overrides)
    assert set(adjustments["override_id"]) == set(overrides["override_id"])
    assert (adjustments["clipped_units"] == 0).all()


# --- the editor ----------------------------------------------------------------------------------------------
def _fill(editor: OverrideEditor, **values: object) -> None:
    for name in ("owner", "level", "target", "region", "first_month", "last_month", "mode", "value", "reason"):
        if name in values:
            getattr(editor, name).value = values[name]


def test_editor_adds_a_valid_override_and_previews_the_consensus(tmp_path: Path) -> None:
    store = Store(tmp_path)
    editor = override_editor(store, "2031-05", _statistical(), PRODUCTS)
    assert "No overrides yet" in editor.table.value
    _fill(editor, owner="Anna", level="family", target="Fizz", region="North", first_month="2026-12",
          last_month="2026-12", mode="units", value=120.0, reason="summer promotion")
    editor.add_button.click()

    raw = store.read_overrides("2031-05")
    assert raw.to_dict("records") == [_row(region="North", units="120", reason="summer promotion")]
    overrides = validate_overrides(raw, _statistical(), PRODUCTS)
    assert overrides.loc[0, "change_units"] == 120.0
    assert "Added O1" in editor.message.value
    assert "summer promotion" in editor.table.value
    # preview: Fizz 240 statistical → 360 consensus, all families 390 → 510
    assert all(n in editor.preview.value for n in (">240<", ">360<", ">390<", ">510<"))


def test_editor_refuses_an_invalid_override_and_writes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    editor = override_editor(store, "2031-05", _statistical(), PRODUCTS)
    _fill(editor, owner="Anna", level="sku", target="D", first_month="2027-01", last_month="2026-12",
          mode="%", value=5.0, reason="")
    editor.add_button.click()
    assert not store.overrides_file("2031-05").exists()
    assert "Nothing was written" in editor.message.value
    assert "reason is blank" in editor.message.value and "first_month is after last_month" in editor.message.value
    _fill(editor, reason="a reason", first_month="2026-12", value=0.0)
    editor.add_button.click()
    assert not store.overrides_file("2031-05").exists() and "other than 0" in editor.message.value


def test_editor_escapes_what_people_type_and_deletes_rows(tmp_path: Path) -> None:
    store = Store(tmp_path)
    editor = override_editor(store, "2031-05", _statistical(), PRODUCTS)
    _fill(editor, owner="Ben <i>", level="region", target="South", first_month="2027-01", last_month="2027-01",
          mode="%", value=10.0, reason="<script>alert(1)</script>")
    editor.add_button.click()
    assert store.read_overrides("2031-05").loc[0, "reason"] == "<script>alert(1)</script>"  # kept as typed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in editor.table.value and "<script>" not in editor.table.value
    assert "Ben &lt;i&gt;" in editor.table.value

    editor.level.value = "sku"  # the target list follows the level
    assert [v for _, v in editor.target.options] == ["A", "B", "C", "D"]

    assert [v for _, v in editor.delete_choice.options] == [0]
    editor.delete_choice.value = 0
    editor.delete_button.click()
    assert store.read_overrides("2031-05").empty
    assert "No overrides yet" in editor.table.value


def test_consensus_plan_moves_intervals_with_the_point_forecast() -> None:
    from sop_lib.demand.consensus import as_forecast, consensus_plan

    T = pd.Timestamp("2026-11-01")
    consensus = pd.DataFrame({"sku": ["A", "B"], "region": "North", "family": "F", "period": T,
                              "statistical": [100.0, 0.0], "adjustment": [20.0, 5.0], "consensus": [120.0, 5.0]})
    forecast = pd.DataFrame({"sku": ["A", "B"], "region": "North", "period": T,
                             "forecast-lo-80": [80.0, 0.0], "forecast-hi-80": [130.0, 2.0]})
    naive = pd.DataFrame({"sku": ["A", "B"], "region": "North", "period": T, "naive": [90.0, 1.0]})
    plan = consensus_plan(consensus, forecast, naive)
    # A: scaled by 120 / 100 = 1.2 → 96 … 156; B: statistical 0, so shifted by +5 → 5 … 7
    assert plan["consensus-lo-80"].tolist() == [96.0, 5.0] and plan["consensus-hi-80"].tolist() == [156.0, 7.0]
    assert list(plan.columns[:6]) == ["sku", "region", "family", "period", "naive", "statistical"]
    assert {"forecast", "forecast-lo-80"} <= set(as_forecast(plan).columns)


@pytest.mark.parametrize(("pct", "units", "column"), [("1000000", "", "change_pct"), ("", "1e20", "change_units"),
                                                       ("", "-5e12", "change_units"), ("inf", "", "change_pct")])
def test_implausible_or_non_finite_overrides_are_refused(pct: str, units: str, column: str) -> None:
    with pytest.raises(InputInvalid) as err:
        validate_overrides(_raw(_row(pct=pct, units=units)), _statistical(), PRODUCTS)
    problems = err.value.problems
    assert problems["column"].tolist() == [column]
    assert problems["problem"].iloc[0].startswith(("implausibly large", "not a number"))


def test_a_large_but_plausible_override_passes() -> None:
    overrides = validate_overrides(_raw(_row(pct="1000"), _row(units="250000")), _statistical(), PRODUCTS)
    assert overrides["change_pct"].tolist()[0] == 1000.0 and overrides["change_units"].tolist()[1] == 250000.0


@pytest.mark.parametrize(("content", "words"), [
    ("owner,level\nAnna,family\n".encode("utf-16"), "not UTF-8 text"),
    (("owner,level,target,region,first_month,last_month,change_pct,change_units,reason\n"
      "Zoë,family,Fizz,,2026-12,2026-12,5,,Crème\n").encode("latin-1"), "not UTF-8 text"),
    (b"owner;level;target;region;first_month;last_month;change_pct;change_units;reason\n", "not comma-separated"),
])
def test_an_overrides_file_in_another_encoding_or_separator_is_a_message_with_exit_code_2(
        tmp_path: Path, content: bytes, words: str) -> None:
    store = Store(tmp_path)
    store.overrides_file("2030-01").parent.mkdir(parents=True)
    store.overrides_file("2030-01").write_bytes(content)
    with pytest.raises(SopError, match=words) as err:
        store.read_overrides("2030-01")
    assert err.value.exit_code == 2
