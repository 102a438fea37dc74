"""Overrides from Excel: a workbook's input sheet reads as the equivalent CSV, its problems name the sheet and
the row Excel shows, a cycle with both files is refused, and ``sop overrides template`` writes a workbook that
reads back, with its lists, its forecast by family × region × month and text that stays text.

The small project below is made by hand (no notebook runs): products A, B (family Fizz) and D (Crunch), regions
North and South, a 3-month horizon 2026-11 … 2027-01, and a statistical forecast whose numbers are constant by
month: A North 10, B North 20, D North 40, A South 5, B South 0, D South 10.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sop_lib.core.errors import InputInvalid, ParamsError
from sop_lib.data.context import check_planner_inputs
from sop_lib.data.overrides import OVERRIDE_COLUMNS
from sop_lib.data.overrides_file import read_overrides_file
from sop_lib.data.overrides_template import forecast_by_family_region
from sop_lib.data.overrides_xlsx import make_overrides_template
from sop_lib.data.params import load_params
from sop_lib.data.store import Store

CYCLE = "2026-11"
MONTHS = ["2026-11", "2026-12", "2027-01"]
FAMILY = {"A": "Fizz", "B": "Fizz", "D": "Crunch"}
UNITS = {("A", "North"): 10.0, ("B", "North"): 20.0, ("D", "North"): 40.0,
         ("A", "South"): 5.0, ("B", "South"): 0.0, ("D", "South"): 10.0}
PRODUCTS = pd.DataFrame({"sku": list(FAMILY), "family": list(FAMILY.values())})
CSV_TEXT = (
    "owner,level,target,region,first_month,last_month,change_pct,change_units,reason\n"
    "Anna,family,Fizz,North,2026-12,2027-01,8,,Summer promotion\n"
    "Ben,sku,D,,2026-11,2026-11,,-5,Listing lost\n"
)


def _statistical() -> pd.DataFrame:
    return pd.DataFrame([{"sku": s, "region": r, "family": FAMILY[s], "period": pd.Timestamp(f"{m}-01"),
                          "forecast": u} for m in MONTHS for (s, r), u in UNITS.items()])


@pytest.fixture
def project(tmp_path: Path) -> Store:
    """A project with a snapshot of cycle 2026-11 (no forecast yet) and a 3-month horizon."""
    (tmp_path / "params" / "overrides").mkdir(parents=True)
    (tmp_path / "params" / "defaults.yaml").write_text("forecast:\n  horizon_months: 3\n", encoding="utf-8")
    store = Store(tmp_path)
    history = pd.DataFrame([{"sku": s, "region": r, "period": pd.Timestamp("2026-10-01"), "units": 1.0}
                            for s, r in UNITS])
    store.write_snapshot(CYCLE, {"products": PRODUCTS, "sales_history": history}, {}, pd.DataFrame())
    return store


def _workbook(path: Path, rows: list[list[object]], header_row: int = 1, sheet: str = "Overrides") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for j, name in enumerate(OVERRIDE_COLUMNS, start=1):
        ws.cell(row=header_row, column=j, value=name)
    for i, row in enumerate(rows, start=header_row + 1):
        for j, value in enumerate(row, start=1):
            ws.cell(row=i, column=j, value=value)
    book.save(path)
    return path


def _validated(store: Store) -> pd.DataFrame:
    return store.load_overrides(CYCLE, _statistical(), PRODUCTS)


def test_a_workbook_reads_as_the_equivalent_csv(project: Store) -> None:
    folder = project.params_dir / "overrides"
    (folder / f"{CYCLE}.csv").write_text(CSV_TEXT, encoding="utf-8")
    from_csv = _validated(project)
    (folder / f"{CYCLE}.csv").unlink()
    # the same two overrides as Excel holds them: a month as a date, 8 % as a percentage cell (0.08), units as a
    # number; a blank row between them that validation skips (so Ben's row is Excel's row 4, not 3)
    path = _workbook(folder / f"{CYCLE}.xlsx", [
        ["Anna", "family", "Fizz", "North", dt.datetime(2026, 12, 1), "2027-01", 0.08, None, "Summer promotion"],
        [None] * 9,
        ["Ben", "sku", "D", None, "2026-11", dt.date(2026, 11, 1), None, -5, "Listing lost"],
    ])
    book = openpyxl.load_workbook(path)
    book["Overrides"]["G2"].number_format = "0%"
    book.save(path)
    from_xlsx = _validated(project)
    assert from_xlsx["row"].tolist() == [2, 4]
    pd.testing.assert_frame_equal(from_xlsx.drop(columns="row"), from_csv.drop(columns="row"))
    assert from_xlsx.loc[0, "change_pct"] == 8.0 and from_xlsx.loc[0, "first_month"] == pd.Timestamp("2026-12-01")
    cells = read_overrides_file(path).cells
    assert cells.loc[0, "first_month"] == "2026-12" and cells.loc[2, "last_month"] == "2026-11"  # as a CSV has them


def test_problems_name_the_sheet_and_the_row_excel_shows(project: Store) -> None:
    folder = project.params_dir / "overrides"
    # a title and a blank row above the header: the header is Excel's row 3, so its rows are 4, 5, 6
    path = _workbook(folder / f"{CYCLE}.xlsx", [
        ["Anna", "family", "Fizz", "", "2026-12", "2026-12", 5, None, "promo"],
        ["Ben", "family", "Fizz", "", "2026-12", "2026-12", 5, None, "promo"],
        [None, "family", "Fizz", "", "2026-12", "2026-12", 5, None, "promo"],  # row 6: blank owner
    ], header_row=3)
    book = openpyxl.load_workbook(path)
    book["Overrides"]["A1"] = "Overrides of cycle 2026-11"
    book["Overrides"]["A5"] = ""  # row 5: an owner left empty as text
    book["Overrides"]["H4"] = 10  # row 4: both changes
    book.save(path)
    with pytest.raises(InputInvalid) as err:
        _validated(project)
    p = err.value.problems
    assert set(p["file"]) == {f"{path} sheet Overrides"}
    assert list(zip(p["row"], p["column"], strict=True)) == [(4, "change_pct, change_units"), (5, "owner"),
                                                             (6, "owner")]
    assert f"{path} sheet Overrides has 3 problems" in str(err.value) and "in the workbook" in str(err.value)


def test_a_blank_owner_on_excel_row_5_says_row_5_as_sop_run_checks_it(project: Store) -> None:
    path = _workbook(project.params_dir / "overrides" / f"{CYCLE}.xlsx", [
        ["Anna", "family", "Fizz", "", "2026-12", "2026-12", 5, None, "promo"],
        ["Anna", "family", "Crunch", "", "2026-12", "2026-12", 5, None, "promo"],
        ["Anna", "region", "North", "", "2026-12", "2026-12", 5, None, "promo"],
        [" ", "region", "South", "All regions", "2026-12", "2026-12", 5, None, "promo"],
    ])
    snapshot = project.read_snapshot(CYCLE)
    with pytest.raises(InputInvalid) as err:  # the check sop run and sop validate make before anything runs
        check_planner_inputs(project, CYCLE, snapshot.tables, load_params(project.params_dir, CYCLE))
    assert err.value.problems[["file", "row", "column"]].values.tolist() == [[f"{path} sheet Overrides", 5, "owner"]]


def test_a_csv_and_a_workbook_for_one_cycle_are_refused_naming_both(project: Store) -> None:
    folder = project.params_dir / "overrides"
    (folder / f"{CYCLE}.csv").write_text(CSV_TEXT, encoding="utf-8")
    _workbook(folder / f"{CYCLE}.xlsx", [])
    for read in (lambda: _validated(project), lambda: project.read_overrides(CYCLE),
                 lambda: make_overrides_template(project, CYCLE, project.root / "elsewhere.xlsx")):
        with pytest.raises(ParamsError) as err:
            read()
        assert f"{folder / CYCLE}.csv" in str(err.value) and f"{folder / CYCLE}.xlsx" in str(err.value)
        assert err.value.exit_code == 2
    with pytest.raises(ParamsError, match="edit them there"):  # the editor's writes do not make a second file
        (folder / f"{CYCLE}.csv").unlink()
        project.write_overrides(CYCLE, pd.DataFrame(columns=OVERRIDE_COLUMNS))


def test_a_workbook_without_the_sheet_or_not_a_workbook_is_a_message(project: Store) -> None:
    path = project.params_dir / "overrides" / f"{CYCLE}.xlsx"
    book = openpyxl.Workbook()
    book.active.title, _ = "Notes", book.create_sheet("Other")
    book.save(path)
    with pytest.raises(ParamsError, match="no sheet named Overrides.*Notes, Other"):
        _validated(project)
    path.write_text("owner,level\n", encoding="utf-8")  # a CSV saved with the wrong extension
    with pytest.raises(ParamsError, match="cannot be read as an Excel workbook"):
        _validated(project)
    _workbook(path, [["Anna", "family", "Fizz", "", "2026-12", "2026-12", 5, None, "promo"]], sheet="Sheet1")
    assert len(_validated(project)) == 1  # one sheet of another name: "Save as .xlsx" of the CSV reads


def test_the_forecast_is_summed_by_family_region_and_month() -> None:
    table = forecast_by_family_region(_statistical(), [pd.Timestamp(f"{m}-01") for m in MONTHS[:2]])
    got = {(f, r): (m1, m2, t) for f, r, m1, m2, t in table.itertuples(index=False)}
    assert list(table.columns) == ["family", "region", "2026-11", "2026-12", "total"]
    # Crunch first (sorted), each family's regions then its total; then each region over all families; then all
    assert list(got) == [("Crunch", "North"), ("Crunch", "South"), ("Crunch", "All regions"), ("Fizz", "North"),
                         ("Fizz", "South"), ("Fizz", "All regions"), ("All families", "North"),
                         ("All families", "South"), ("All families", "All regions")]
    assert got[("Fizz", "North")] == (30, 30, 60)  # A 10 + B 20, two months
    assert got[("Fizz", "All regions")] == (35, 35, 70)  # + A South 5
    assert got[("All families", "South")] == (15, 15, 30)  # A 5 + B 0 + D 10
    assert got[("All families", "All regions")] == (85, 85, 170)


def test_the_template_round_trips_with_its_lists_and_forecast(project: Store) -> None:
    results = project.scratch_dir(CYCLE) / "results"
    results.mkdir(parents=True)
    _statistical().to_parquet(results / "forecast.parquet")  # as `sop forecast` leaves it
    done = make_overrides_template(project, CYCLE)
    assert done.path == project.params_dir / "overrides" / f"{CYCLE}.xlsx" and done.csv_beside is None
    book = openpyxl.load_workbook(done.path)
    assert book.sheetnames == ["Read me", "Forecast", "Overrides", "Lists"]
    read_me = "\n".join(str(v) for row in book["Read me"].iter_rows(values_only=True) for v in row if v)
    assert project.read_manifest(CYCLE)["fingerprint"] in read_me and "cycle 2026-11" in read_me
    assert "any name is accepted" in read_me  # no owner list in params/
    ws = book["Overrides"]
    assert [c.value for c in ws[1]] == OVERRIDE_COLUMNS and ws.freeze_panes == "A2"
    assert "OverridesTable" in ws.tables
    rules = {str(d.sqref).split(":")[0]: (d.type, d.formula1, d.errorStyle) for d in ws.data_validations.dataValidation}
    assert rules["B2"] == ("list", "sop_levels", "stop") and rules["D2"] == ("list", "sop_regions", "stop")
    assert rules["E2"] == rules["F2"] == ("list", "sop_months", "stop")
    assert "A2" not in rules  # owner: free text (no owner list, no earlier cycle's owners)
    lists = _lists(book)
    assert lists["sop_levels"] == ["sku", "family", "region"]
    assert lists["sop_regions"] == ["All regions", "North", "South"]
    assert lists["sop_months"] == MONTHS
    forecast = {(r[0], r[1]): r[2:] for r in book["Forecast"].iter_rows(min_row=5, values_only=True)}
    assert forecast[("Fizz", "North")] == (30, 30, 30, 90) and forecast[("All families", "All regions")] == (85,) * 3 + (255,)
    assert "Statistical forecast of cycle 2026-11" in str(book["Forecast"]["A2"].value)
    # a planner fills two rows as Excel would (picking from the lists), saves, and the file validates
    ws["A2"], ws["B2"], ws["C2"], ws["D2"], ws["E2"], ws["F2"], ws["G2"], ws["I2"] = (
        "Anna", "family", "Fizz", "All regions", "2026-12", "2027-01", 10, "promo")
    ws["A3"], ws["B3"], ws["C3"], ws["E3"], ws["F3"], ws["H3"], ws["I3"] = (
        "Ben", "sku", "D", "2026-11", "2026-11", -5, "Listing lost")
    book.save(done.path)
    got = _validated(project)
    assert got[["row", "owner", "level", "target"]].values.tolist() == [[2, "Anna", "family", "Fizz"],
                                                                        [3, "Ben", "sku", "D"]]
    assert got.loc[0, "region"] is None and got.loc[0, "change_pct"] == 10.0 and got.loc[1, "change_units"] == -5.0


def _lists(book: openpyxl.Workbook) -> dict[str, list[object]]:
    out = {}
    for name, dn in book.defined_names.items():
        sheet, ref = dn.attr_text.split("!")
        out[name] = [row[0].value for row in book[sheet.strip("'")][ref.replace("$", "")]]
    return out


def test_the_template_copies_the_csv_and_keeps_formula_text_as_text(project: Store) -> None:
    folder = project.params_dir / "overrides"
    csv = folder / f"{CYCLE}.csv"
    csv.write_text(CSV_TEXT + '=cmd|"/c calc"!A1,family,Fizz,,2026-12,2026-12,12%,,"+SUM(1,2)"\n', encoding="utf-8")
    done = make_overrides_template(project, CYCLE)
    assert done.csv_beside == csv and csv.read_text(encoding="utf-8").startswith("owner,")  # the CSV is untouched
    assert done.content.forecast_note.startswith("No statistical forecast exists yet")  # none for it, none published
    assert "sop forecast --cycle 2026-11" in done.content.forecast_note
    ws = openpyxl.load_workbook(done.path)["Overrides"]
    assert [ws.cell(row=r, column=1).value for r in (2, 3, 4)] == ["Anna", "Ben", '=cmd|"/c calc"!A1']
    for ref in ("A4", "I4"):
        assert ws[ref].data_type == "s" and ws[ref].quotePrefix  # text, not a formula
    assert ws["G2"].value == 8 and ws["H3"].value == -5 and ws["G4"].value == "12%"  # numbers as numbers
    with pytest.raises(ParamsError, match="already exists.*--force"):
        make_overrides_template(project, CYCLE)
    with pytest.raises(ParamsError, match="ending in .xlsx"):
        make_overrides_template(project, CYCLE, out=csv, force=True)  # a CSV is never overwritten
    csv.unlink()  # the planner works in the workbook now
    rows = read_overrides_file(done.path).cells
    assert rows.loc[2, "owner"] == '=cmd|"/c calc"!A1' and rows.loc[2, "reason"] == "+SUM(1,2)"
    again = make_overrides_template(project, CYCLE, force=True)  # the rows of the workbook are kept
    assert again.content.rows.equals(rows.reindex(columns=OVERRIDE_COLUMNS))
    assert os.listdir(folder) == [f"{CYCLE}.xlsx"]  # no temporary file left behind


def test_sop_overrides_template_from_the_command_line(project: Store) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SOP_HOME"}
    cmd = [sys.executable, "-m", "sop_lib", "overrides", "template", "--cycle", CYCLE, "--root", str(project.root)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    assert f"Wrote {project.params_dir / 'overrides' / CYCLE}.xlsx" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert second.returncode == 2 and "already exists" in second.stderr and "Traceback" not in second.stderr


def test_without_its_own_forecast_the_template_shows_the_last_published_cycles_and_its_owners(project: Store
                                                                                              ) -> None:
    published = project.published_dir("2026-10")
    published.mkdir(parents=True)
    (published / "published.json").write_text('{"fingerprint": "x"}', encoding="utf-8")
    earlier = _statistical().assign(period=lambda f: f["period"] - pd.DateOffset(months=1))  # 2026-10 … 2026-12
    earlier.to_parquet(published / "forecast.parquet")
    pd.DataFrame({"owner": ["Cleo (marketing)", "=evil()"]}).to_parquet(published / "overrides.parquet")
    content = make_overrides_template(project, CYCLE).content
    assert "last published cycle, 2026-10" in content.forecast_note
    assert list(content.forecast.columns) == ["family", "region", "2026-11", "2026-12", "total"]  # what it covers
    assert content.forecast.set_index(["family", "region"]).loc[("Fizz", "North"), "total"] == 60  # 30 + 30
    assert content.owners == ["=evil()", "Cleo (marketing)"]
    book = openpyxl.load_workbook(make_overrides_template(project, CYCLE, force=True).path)
    rules = {str(d.sqref).split(":")[0]: d for d in book["Overrides"].data_validations.dataValidation}
    assert rules["A2"].formula1 == "sop_owners" and not rules["A2"].showErrorMessage  # a suggestion: any name goes
    owners = _lists(book)["sop_owners"]
    assert owners == ["=evil()", "Cleo (marketing)"]
    assert book["Lists"]["E2"].data_type == "s"  # a name that looks like a formula stays text


def test_the_editor_shows_a_workbooks_overrides_and_does_not_write_a_csv_beside_it(project: Store) -> None:
    from sop_lib.widgets.override_editor import OverrideEditor

    path = _workbook(project.params_dir / "overrides" / f"{CYCLE}.xlsx", [
        ["Anna", "family", "Fizz", "", "2026-12", "2026-12", 10, None, "promo"]])
    editor = OverrideEditor(project, CYCLE, _statistical(), PRODUCTS)
    assert editor.add_button.disabled and editor.delete_button.disabled and "edit them in Excel" in editor.message.value
    assert "Anna" in editor.table.value and "Fizz" in editor.preview.value
    editor.owner.value, editor.value.value, editor.reason.value = "Ben", 5.0, "promo"
    editor._on_add()
    assert os.listdir(path.parent) == [path.name]  # nothing written


def test_a_formula_without_a_stored_result_reads_as_its_text_not_as_a_blank(project: Store) -> None:
    # a workbook written by a script holds formulas without their results (Excel stores both when it saves)
    path = _workbook(project.params_dir / "overrides" / f"{CYCLE}.xlsx", [
        ["Anna", "family", "Fizz", "", "2026-12", "=E2", 10, None, "=CONCAT(\"pro\",\"mo\")"]])
    cells = read_overrides_file(path).cells
    assert cells.loc[0, "last_month"] == "=E2" and cells.loc[0, "reason"] == '=CONCAT("pro","mo")'
    with pytest.raises(InputInvalid) as err:
        _validated(project)
    assert err.value.problems[["row", "column", "value"]].values.tolist() == [[2, "last_month", "=E2"]]
