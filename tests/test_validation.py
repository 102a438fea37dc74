"""Bad inputs stop the cycle through the real ``sop`` command: exit code 2, every problem named by file, row
(as a spreadsheet shows it, header = row 1) and column in words, and nothing written anywhere.

Each case starts from a valid demo extract (8 SKUs) and breaks one thing in it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from sop_lib.core.errors import InputInvalid
from sop_lib.data.validate import validate_inputs
from sop_lib.demo import write_demo_inputs
from sop_lib.demo.project import ensure_demo_project

PROJECT = Path(__file__).resolve().parent.parent
CYCLE = "2026-11"
STALLION = PROJECT.parent / "shared" / "data" / "stallion.parquet"
_SCRIPT = Path(sys.executable).with_name("sop")  # the console script: sop_lib.cli:main
SOP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "sop_lib"]


# --- helpers --------------------------------------------------------------------------------------------


def sop(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOP_HOME"}
    return subprocess.run([*SOP, *args], capture_output=True, text=True, cwd=PROJECT, env=env, timeout=300)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_nothing_written(root: Path, before: dict[str, bytes]) -> None:
    """No snapshot, run, published result or report; every file that was there is byte for byte the same.
    An empty run-lock file under data/.locks/ and the list of problems under data/validation/ (every problem,
    as CSV) are the only things allowed to appear."""
    for folder in ("snapshot", "runs", "published", "scratch"):
        rel = f"data/cycles/{CYCLE}/{folder}"
        if not any(k.startswith(rel + "/") for k in before):  # a folder made by the test itself may stay
            assert not (root / rel).exists(), rel
    assert not (root / "reports").exists()
    after = tree(root)
    assert {k: after.get(k) for k in before} == before  # inputs and params unchanged
    new = {k: v for k, v in after.items() if k not in before}
    assert all((k.startswith("data/.locks/") and v == b"") or (k.startswith("data/validation/problems-")
                                                                and k.endswith(".csv")) for k, v in new.items()), sorted(new)


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Write ``value`` in spreadsheet row ``row`` (header = 1) of a CSV without quoted fields."""
    lines = lines_of(path)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[row - 1].rstrip("\n").split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def drop_column(path: Path, column: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.drop(columns=column).to_csv(path, index=False)


def problem_rows(problems: pd.DataFrame) -> list[tuple[str, int | None, str, str, str]]:
    """The problem table as plain tuples (file, row, column, problem, value), sorted; no row → None."""
    return sorted(
        ((str(r.file), None if pd.isna(r.row) else int(r.row), str(r.column), str(r.problem), str(r.value))
         for r in problems.itertuples(index=False)),
        key=lambda p: (p[0], p[1] is not None, p[1] or 0, *p[2:]),
    )


def problem_line(file: str, row: int | None, column: str, problem: str) -> re.Pattern[str]:
    """One line of the problem table the CLI prints: file, row, column, problem (then the value)."""
    parts = [re.escape(file)]
    if row is not None:
        parts.append(str(row))
    if column:
        parts.append(re.escape(column))
    parts.append(re.escape(problem))
    return re.compile(r"^\s*" + r"\s+".join(parts), re.MULTILINE)


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-inputs")
    write_demo_inputs(CYCLE, folder, n_skus=8)
    return folder


@pytest.fixture()
def root(tmp_path: Path, demo_inputs: Path) -> Path:
    """A project folder with the demo company's parameters and a valid extract in inputs/."""
    ensure_demo_project(tmp_path)
    shutil.copytree(demo_inputs, tmp_path / "inputs")
    return tmp_path


# --- one broken thing per case --------------------------------------------------------------------------

Expected = list[tuple[str, int | None, str, str]]  # file, row, column, problem


def _missing_column(inputs: Path) -> Expected:
    drop_column(inputs / "prices.csv", "unit_price")  # (unit_cost may be left out: test_contract_optional.py)
    return [("prices.csv", None, "unit_price", "required column is missing")]


def _unparsable_date(inputs: Path) -> Expected:
    set_cell(inputs / "sales_history.csv", 7, "period", "2024-13-45")
    return [("sales_history.csv", 7, "period", "not a date (expected YYYY-MM or YYYY-MM-DD)")]


def _negative_units(inputs: Path) -> Expected:
    set_cell(inputs / "sales_history.csv", 12, "units", "-5")
    return [("sales_history.csv", 12, "units", "must be ≥ 0")]


def _duplicate_key(inputs: Path) -> Expected:
    path = inputs / "sales_history.csv"
    lines = lines_of(path)
    period, sku, region, _ = lines[19 - 1].rstrip("\n").split(",")
    assert lines[20 - 1].split(",")[:3] != [period, sku, region]  # rows 19 and 20 differ to begin with
    lines[20 - 1] = f"{period},{sku},{region},123\n"
    path.write_text("".join(lines), encoding="utf-8")
    problem = "duplicate key: another row has the same (period, sku, region)"
    return [("sales_history.csv", 19, "period, sku, region", problem),
            ("sales_history.csv", 20, "period, sku, region", problem)]


def _sku_without_route(inputs: Path) -> Expected:
    sku = lines_of(inputs / "products.csv")[3 - 1].split(",")[0]  # the SKU in row 3 of products.csv
    path = inputs / "bill_of_resources.csv"
    kept = [line for line in lines_of(path) if not line.startswith(f"{sku},")]
    assert len(kept) < len(lines_of(path))
    path.write_text("".join(kept), encoding="utf-8")
    return [("products.csv", 3, "sku", "SKU unknown to the bill of resources: no resource makes it")]


def _empty_file(inputs: Path) -> Expected:
    (inputs / "capacity.csv").write_bytes(b"")
    return [("capacity.csv", None, "", "file is empty")]


def _header_only(inputs: Path) -> Expected:
    path = inputs / "sales_history.csv"  # a required table (an optional one with only its header is absent)
    path.write_text(lines_of(path)[0], encoding="utf-8")
    return [("sales_history.csv", None, "", "file has no data rows (a required table: fill it, or import your extract "
                                            "with `sop import`)")]


def _problems_in_three_files(inputs: Path) -> Expected:
    drop_column(inputs / "prices.csv", "unit_price")
    set_cell(inputs / "capacity.csv", 5, "available_hours", "lots")
    set_cell(inputs / "budget.csv", 2, "period", "")
    return [("prices.csv", None, "unit_price", "required column is missing"),
            ("capacity.csv", 5, "available_hours", "not a number"),
            ("budget.csv", 2, "period", "value is missing")]


CASES: dict[str, Callable[[Path], Expected]] = {
    "missing-column": _missing_column,
    "unparsable-date": _unparsable_date,
    "negative-units": _negative_units,
    "duplicate-key": _duplicate_key,
    "sku-without-route": _sku_without_route,
    "empty-file": _empty_file,
    "header-only": _header_only,
    "three-files-at-once": _problems_in_three_files,
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_snapshot_and_run_and_writes_nothing(root: Path, case: str) -> None:
    expected = CASES[case](root / "inputs")
    before = tree(root)
    # snapshot first: should validation wrongly pass, the test stops here instead of running the notebooks
    for command in ("snapshot", "run"):
        proc = sop(command, "--cycle", CYCLE, "--root", str(root))
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert "nothing was snapshotted or published" in proc.stderr
        n = len(expected)
        assert f"have {n} problem{'s' if n > 1 else ''} in {len({e[0] for e in expected})} file" in proc.stderr
        for file, row, column, problem in expected:
            assert problem_line(file, row, column, problem).search(proc.stderr), (command, file, row, proc.stderr)
        assert_nothing_written(root, before)


def test_error_output_has_no_python_warnings(root: Path) -> None:
    _negative_units(root / "inputs")
    proc = sop("snapshot", "--cycle", CYCLE, "--root", str(root))
    assert proc.returncode == 2
    assert "Warning" not in proc.stderr, proc.stderr


def test_date_in_another_format_is_reported_with_its_row(root: Path) -> None:
    set_cell(root / "inputs" / "sales_history.csv", 4, "period", "01/11/2022")
    with pytest.raises(InputInvalid) as info:
        validate_inputs(root / "inputs", pd.Timestamp(f"{CYCLE}-01"))
    assert problem_rows(info.value.problems) == [
        ("sales_history.csv", 4, "period", "not a date (expected YYYY-MM or YYYY-MM-DD)", "01/11/2022"),
    ]


def test_month_written_as_yyyy_mm_among_full_dates_is_accepted(root: Path) -> None:
    path = root / "inputs" / "sales_history.csv"
    month = lines_of(path)[4 - 1].split(",")[0][:7]  # row 4's own month, e.g. 2022-11-01 → 2022-11
    set_cell(path, 4, "period", month)
    validated = validate_inputs(root / "inputs", pd.Timestamp(f"{CYCLE}-01"))
    assert validated.tables["sales_history"]["period"].iloc[4 - 2] == pd.Timestamp(f"{month}-01")


def test_valid_folder_passes_validate(root: Path) -> None:
    before = tree(root)
    proc = sop("validate", "--cycle", CYCLE, "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: 8 of 8 tables given,") and f"valid for cycle {CYCLE}" in proc.stdout
    assert_nothing_written(root, before)


def test_validate_reports_like_snapshot(root: Path) -> None:
    _negative_units(root / "inputs")
    proc = sop("validate", "--cycle", CYCLE, "--root", str(root))
    assert proc.returncode == 2
    assert problem_line("sales_history.csv", 12, "units", "must be ≥ 0").search(proc.stderr), proc.stderr


def test_unknown_parameter_key_stops_the_run(root: Path) -> None:
    (root / "params" / f"{CYCLE}.yaml").write_text("forecast:\n  horizon_monthz: 12\n", encoding="utf-8")
    before = tree(root)
    proc = sop("run", "--cycle", CYCLE, "--root", str(root))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert f"{CYCLE}.yaml" in proc.stderr
    assert "forecast.horizon_monthz: Extra inputs are not permitted" in proc.stderr
    assert_nothing_written(root, before)


@pytest.mark.parametrize("command", ["validate", "snapshot", "run"])
def test_bad_cycle_is_refused_in_words(root: Path, command: str) -> None:
    before = tree(root)
    proc = sop(command, "--cycle", "2026-13", "--root", str(root))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "Cycle '2026-13' is not a month in the form YYYY-MM" in proc.stderr
    assert_nothing_written(root, before)


def test_run_of_a_published_cycle_needs_force(root: Path) -> None:
    published = root / "data" / "cycles" / CYCLE / "published"
    published.mkdir(parents=True)
    (published / "published.json").write_text('{"cycle": "2026-11", "run_id": "by-hand"}', encoding="utf-8")
    before = tree(root)
    proc = sop("run", "--cycle", CYCLE, "--root", str(root))
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert f"Cycle {CYCLE} is already published" in proc.stderr
    assert "--force" in proc.stderr
    assert_nothing_written(root, before)


# --- real data ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not STALLION.exists(), reason=f"real data set not found: {STALLION}")
def test_real_stallion_extract_reports_the_negative_price(tmp_path: Path) -> None:
    """The data README says one row of stallion.parquet has a negative actual price (Agency_46, SKU_17,
    2017-06). Mapped to the contract, validation must name that row of prices.csv."""
    raw = pd.read_parquet(STALLION)
    raw["agency"], raw["sku"] = raw["agency"].astype(str), raw["sku"].astype(str)
    part = raw[(raw["agency"] == "Agency_46") & raw["sku"].isin(["SKU_01", "SKU_17"])
               & raw["date"].between("2017-01-01", "2017-10-01")].sort_values(["sku", "date"])
    assert len(part) == 20  # 2 SKUs × 10 months (2017-01 … 2017-10)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    sales = pd.DataFrame({"period": part["date"], "sku": part["sku"], "region": part["agency"],
                          "units": part["volume"]})
    prices = pd.DataFrame({"sku": part["sku"], "valid_from": part["date"], "unit_price": part["price_actual"],
                           "unit_cost": part["price_actual"] * 0.6})
    sales.to_csv(inputs / "sales_history.csv", index=False, date_format="%Y-%m-%d")
    prices.to_csv(inputs / "prices.csv", index=False, date_format="%Y-%m-%d")
    # what the extract lacks, supplied by hand
    (inputs / "products.csv").write_text("sku,family,status\nSKU_01,Beer,active\nSKU_17,Beer,active\n")
    (inputs / "bill_of_resources.csv").write_text("sku,resource,hours_per_unit\nSKU_01,Brewing,0.5\n"
                                                  "SKU_17,Brewing,0.5\n")
    (inputs / "capacity.csv").write_text("resource,period,available_hours\nBrewing,2017-11-01,1000\n")
    (inputs / "inventory.csv").write_text("sku,on_hand\nSKU_01,0\nSKU_17,0\n")
    (inputs / "budget.csv").write_text("family,period,units,revenue,gross_margin\nBeer,2017-11-01,1,1,0\n")

    with pytest.raises(InputInvalid) as info:
        validate_inputs(inputs, pd.Timestamp("2017-11-01"))
    problems = info.value.problems
    # prices.csv: SKU_01 fills rows 2-11, SKU_17 rows 12-21; its 6th month (2017-06) is row 17.
    # unit_cost (price × 0.6) is negative there too: "must be ≥ 0"
    found = problem_rows(problems)
    assert [r[:4] for r in found] == [
        ("prices.csv", 17, "unit_cost", "must be ≥ 0"),
        ("prices.csv", 17, "unit_price", "must be > 0"),
    ]
    assert found[1][4].startswith("-3121.69")  # the price as the extract has it
    assert "prices.csv" in str(info.value) and "must be > 0" in str(info.value)


def test_planner_inputs_are_checked_before_anything_runs(root: Path) -> None:
    """Overrides, scenarios and overtime come from planners, not the extract: `sop validate` and `sop run`
    check them first and stop with the problem named (exit 2), writing nothing."""
    overrides = root / "params/overrides/2026-11.csv"
    original = overrides.read_text(encoding="utf-8")
    overrides.write_text(original + "Ann,family,Cider,,2027-01,2026-12,5,,typo in family and months\n",
                         encoding="utf-8")
    proc = sop("validate", "--cycle", "2026-11", "--root", str(root))
    assert proc.returncode == 2, proc.stderr
    assert "Cider" in proc.stderr and "Traceback" not in proc.stderr
    run = sop("run", "--cycle", "2026-11", "--root", str(root))
    assert run.returncode == 2 and not (root / "reports/2026-11").exists()

    overrides.write_text(original, encoding="utf-8")
    (root / "params/2026-11.yaml").write_text("supply:\n  overtime:\n    Bottlng: {max_hours: 10, cost_per_hour: 5}\n",
                                              encoding="utf-8")
    proc = sop("validate", "--cycle", "2026-11", "--root", str(root))
    assert proc.returncode == 2 and "Bottlng" in proc.stderr and "Bottling" in proc.stderr
    (root / "params/2026-11.yaml").write_text("scenarios:\n  more:\n    extra_hours: {Welding: 10}\n",
                                              encoding="utf-8")
    proc = sop("validate", "--cycle", "2026-11", "--root", str(root))
    assert proc.returncode == 2 and "Welding" in proc.stderr


# --- messages a planner can act on (small hand-written extracts, no subprocess) -----------------------------

START = pd.Timestamp("2026-11-01")
PRODUCTS_AB = "sku,family\nA,Juice\nB,Juice\nC,Juice\n"


def small_extract(folder: Path, sales: str, products: str = PRODUCTS_AB) -> Path:
    """sales_history.csv and products.csv only (every other table is optional)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sales_history.csv").write_text(sales, encoding="utf-8")
    (folder / "products.csv").write_text(products, encoding="utf-8")
    return folder


def invalid(inputs: Path, **kwargs: object) -> InputInvalid:
    with pytest.raises(InputInvalid) as info:
        validate_inputs(inputs, START, **kwargs)  # type: ignore[arg-type]
    assert "Traceback" not in str(info.value)
    return info.value


def retailer_sales(n_days: int, fmt: str, first: str = "2011-01-13") -> str:
    """3 SKUs a day for ``n_days`` days from ``first``, dates written with ``fmt``: 3 × n_days rows."""
    days = pd.date_range(first, periods=n_days, freq="D")
    lines = [f"{d.strftime(fmt)},{sku},North,{i % 7}" for i, d in enumerate(days) for sku in "ABC"]
    return "period,sku,region,units\n" + "\n".join(lines) + "\n"


def test_a_date_column_in_dd_mm_yy_is_one_problem_naming_the_format(tmp_path: Path) -> None:
    """The retailer's case: 300 rows dated dd/mm/yy give one problem, not 300 "not a date" and 300
    "duplicate key" (each day's 3 rows would share a key if their unreadable dates counted)."""
    error = invalid(small_extract(tmp_path / "inputs", retailer_sales(100, "%d/%m/%y")))
    assert problem_rows(error.problems) == [(
        "sales_history.csv", 2, "period",
        "300 dates are not YYYY-MM-DD: they look like DD/MM/YY (e.g. '13/01/11', first at row 2). Write them as "
        "YYYY-MM-DD, or import the file with `sop import` and `date_format: \"%d/%m/%y\"` in mapping.yaml",
        "13/01/11")]


def test_ambiguous_dates_name_both_formats(tmp_path: Path) -> None:
    sales = retailer_sales(10, "%d/%m/%y", first="2011-02-01")  # 01/02/11 … 10/02/11: no day above 12
    problem = problem_rows(invalid(small_extract(tmp_path / "inputs", sales)).problems)
    assert len(problem) == 1
    text = problem[0][3]
    assert text.startswith("30 dates are not YYYY-MM-DD: they look like DD/MM/YY or MM/DD/YY (the values do not "
                           "tell which)")
    assert '`date_format: "%d/%m/%y"` or `date_format: "%m/%d/%y"`' in text


def test_a_few_odd_dates_among_iso_dates_stay_one_problem_each(tmp_path: Path) -> None:
    # 10 months × SKUs A, B, C (rows 2-31); row 4 is (2025-02, A), row 10 (2025-04, A)
    lines = [f"2025-{m:02d}-01,{sku},North,1" for m in range(1, 11) for sku in "ABC"]
    lines[4 - 2] = "13/02/2025,A,North,1"
    lines[10 - 2] = "2025-04-31,A,North,1"
    sales = "period,sku,region,units\n" + "\n".join(lines) + "\n"
    assert problem_rows(invalid(small_extract(tmp_path / "inputs", sales)).problems) == [
        ("sales_history.csv", 4, "period", "not a date (expected YYYY-MM or YYYY-MM-DD)", "13/02/2025"),
        ("sales_history.csv", 10, "period", "not a date (expected YYYY-MM or YYYY-MM-DD)", "2025-04-31")]


def test_order_lines_give_the_aggregate_hint_once(tmp_path: Path) -> None:
    # rows 2-7: A on six days of 2026-09; rows 8-13: B the same; rows 14-15: A twice on 2026-08-01;
    # row 16: B on 2026-08-01 (alone). 12 rows share a month, 2 share a day: 14 rows share a key.
    days = [f"2026-09-0{d}" for d in range(1, 7)]
    rows = [f"{d},A,North,1" for d in days] + [f"{d},B,North,1" for d in days]
    rows += ["2026-08-01,A,North,1", "2026-08-01,A,North,2", "2026-08-01,B,North,1"]
    error = invalid(small_extract(tmp_path / "inputs", "period,sku,region,units\n" + "\n".join(rows) + "\n"))
    found = problem_rows(error.problems)
    hint = ("14 rows share a (period, sku, region) with another row: if the extract has one row per order line, "
            "sum them to months with `aggregate: sum` in mapping.yaml (`sop import`)")
    assert [r for r in found if r[1] is None] == [("sales_history.csv", None, "period, sku, region", hint, "")]
    assert len(found) == 15
    same_day = [r[1] for r in found if r[3] == "duplicate key: another row has the same (period, sku, region)"]
    assert same_day == [14, 15]
    assert [r[1] for r in found if r[3] == "duplicate key once dates are read as months"] == list(range(2, 14))
    assert error.problems["row"].isna().tolist()[0]  # the hint comes first in its file


def test_two_duplicate_rows_give_no_order_line_hint(tmp_path: Path) -> None:
    sales = "period,sku,region,units\n2026-09,A,North,1\n2026-09,A,North,2\n2026-09,B,North,1\n"
    found = problem_rows(invalid(small_extract(tmp_path / "inputs", sales)).problems)
    assert [r[1] for r in found] == [2, 3]


def test_problems_are_sorted_by_file_then_row_whole_file_first(tmp_path: Path) -> None:
    sales = "period,sku,region,units\n2026-09,A,North,-1\n2026-09,B,North,2\n2026-09,C,North,-3\n"
    products = "sku,status\nA,active\nB,gone\n"
    error = invalid(small_extract(tmp_path / "inputs", sales, products))
    assert [(f, None if pd.isna(r) else r, c) for f, r, c, *_ in error.problems.itertuples(index=False)] == [
        ("products.csv", None, "family"), ("products.csv", 3, "status"),
        ("sales_history.csv", 2, "units"), ("sales_history.csv", 4, "units")]


def test_many_problems_start_with_a_summary_and_the_full_list_goes_to_csv(tmp_path: Path) -> None:
    # 35 negative units in sales_history.csv (rows 2-36, units -1 … -35) and an unknown status in products.csv
    # (row 3): 36 problems; sorted, products.csv comes first, so the first 30 are it and sales rows 2-30
    lines = [f"2026-{1 + i // 3:02d},{'ABC'[i % 3]},North,-{i + 1}" for i in range(35)]
    sales = "period,sku,region,units\n" + "\n".join(lines) + "\n"
    products = "sku,family,status\nA,Juice,active\nB,Juice,gone\nC,Juice,new\n"
    error = invalid(small_extract(tmp_path / "inputs", sales, products), report_dir=tmp_path / "data" / "validation")
    text = str(error)
    assert "have 36 problems in 2 files" in text
    summary, detail = text.index("Summary by file, column and problem:"), text.index("The first 30 problems:")
    assert summary < detail
    assert re.search(r"^products\.csv\s+status\s+1\s+3\s+must be one of \['active', 'new', 'phase_out'\] "
                     r"\(e\.g\. gone\)$", text, re.MULTILINE)
    assert re.search(r"^sales_history\.csv\s+units\s+35\s+2\s+must be ≥ 0 \(e\.g\. -1\)$", text, re.MULTILINE)
    detail_lines = text[detail:].splitlines()[2:-1]  # after the title and the header, before the last line
    assert len(detail_lines) == 30
    assert problem_line("products.csv", 3, "status", "must be one of").search(detail_lines[0])
    assert problem_line("sales_history.csv", 30, "units", "must be ≥ 0 (value: -29)").search(detail_lines[-1])
    assert not problem_line("sales_history.csv", 31, "units", "must be ≥ 0").search(text)
    path = error.report_path
    assert path is not None and path.parent == tmp_path / "data" / "validation"
    assert re.fullmatch(r"problems-\d{8}T\d{6}\.csv", path.name)
    assert text.rstrip().endswith(f"The full list (36 problems) is in {path}.")
    written = pd.read_csv(path, encoding="utf-8-sig")
    assert list(written.columns) == ["file", "row", "column", "problem", "value"] and len(written) == 36
    assert written["row"].tolist() == [3, *range(2, 37)]


def test_write_report_names_the_file_in_the_message(tmp_path: Path) -> None:
    problems = pd.DataFrame([{"file": "a.csv", "row": 2, "column": "x", "problem": "value is missing", "value": ""}])
    error = InputInvalid(problems, "inputs")
    assert error.report_path is None and "The list is also in" not in str(error)
    path = error.write_report(tmp_path / "new" / "folder" / "p.csv")
    assert path.exists() and error.report_path == path and f"The list is also in {path}." in str(error)


def test_a_latin1_csv_is_one_problem_saying_how_to_save_it(tmp_path: Path) -> None:
    inputs = small_extract(tmp_path / "inputs", "period,sku,region,units\n2026-10,A,North,1\n")
    (inputs / "products.csv").write_bytes("sku,family,description\nA,Juice,Jus d'orange pressé\n".encode("latin-1"))
    found = problem_rows(invalid(inputs).problems)
    assert len(found) == 1 and found[0][:3] == ("products.csv", None, "")
    assert found[0][3].startswith("not UTF-8 (it reads as latin-1 / cp1252: line 2 has 'A,Juice,Jus d'orange press")
    assert found[0][3].endswith("save it as 'CSV UTF-8' from Excel, or import it with `sop import` and "
                                "`encoding: latin-1` in mapping.yaml")


def test_a_utf8_csv_from_excel_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    inputs = small_extract(tmp_path / "inputs", "period,sku,region,units\n2026-10,A,North,1\n")
    (inputs / "products.csv").write_text(PRODUCTS_AB, encoding="utf-8-sig")
    assert validate_inputs(inputs, START).tables["products"]["sku"].tolist() == ["A", "B", "C"]


def test_a_semicolon_csv_is_one_problem_not_every_column_missing(tmp_path: Path) -> None:
    sales = "period;sku;region;units\n2026-09;A;North;1,5\n"
    found = problem_rows(invalid(small_extract(tmp_path / "inputs", sales)).problems)
    assert found == [("sales_history.csv", None, "", "the file looks separated by ';' (semicolons), not commas "
                      "(header: 'period;sku;region;units'): save it comma-separated or set `separator: \";\"` in "
                      "mapping.yaml (`sop import`)", "")]


def test_excel_data_on_another_sheet_is_named(tmp_path: Path) -> None:
    from openpyxl import Workbook

    inputs = small_extract(tmp_path / "inputs", "period,sku,region,units\n2026-10,A,North,1\n")
    (inputs / "products.csv").unlink()
    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["note"])
    notes.append(["exported from the ERP"])
    data = book.create_sheet("Product master")
    for row in (["sku", "family"], ["A", "Juice"]):
        data.append(row)
    book.save(inputs / "products.xlsx")
    found = problem_rows(invalid(inputs).problems)
    assert found == [("products.xlsx (sheet 'Notes')", None, "", "columns sku, family are on sheet 'Product "
                      "master', not on the first sheet 'Notes' that was read: put the data on the first sheet or "
                      "import it with `sop import` and `sheet: \"Product master\"` in mapping.yaml", "")]
    # the data on the first sheet: read, and problems name the sheet
    book.move_sheet("Product master", offset=-1)
    data.append(["B", ""])
    book.save(inputs / "products.xlsx")
    assert problem_rows(invalid(inputs).problems) == [
        ("products.xlsx (sheet 'Product master')", 3, "family", "value is missing", "")]


def test_parquet_dates_and_decimals_from_sql_exports_validate(tmp_path: Path) -> None:
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    inputs = small_extract(tmp_path / "inputs", "")
    (inputs / "sales_history.csv").unlink()
    table = pa.table({
        "period": pa.array([dt.date(2026, 9, 1), dt.date(2026, 10, 15), None], type=pa.date32()),
        "sku": ["A", "B", "C"], "region": ["North"] * 3,
        "units": pa.array([Decimal("10.50"), Decimal("3.00"), Decimal("1.25")], type=pa.decimal128(10, 2)),
    })
    pq.write_table(table.slice(0, 2), inputs / "sales_history.parquet")
    sales = validate_inputs(inputs, START).tables["sales_history"]
    assert sales["period"].tolist() == [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]
    assert sales["units"].dtype == "float64" and sales["units"].tolist() == [10.5, 3.0]
    pq.write_table(table, inputs / "sales_history.parquet")  # a missing date: row 3 (Parquet rows from 1)
    assert problem_rows(invalid(inputs).problems) == [("sales_history.parquet", 3, "period", "value is missing", "")]


@pytest.mark.parametrize(("table", "text", "column"), [
    ("sales_history", "period,sku,units\n2026-09,A,1\n2026-09,A,2\n", "region"),
    ("products", "family,status\nJuice,active\n", "sku"),
])
def test_a_missing_key_column_is_a_problem_not_a_traceback(tmp_path: Path, table: str, text: str,
                                                           column: str) -> None:
    inputs = small_extract(tmp_path / "inputs", "period,sku,region,units\n2026-10,A,North,1\n")
    (inputs / f"{table}.csv").write_text(text, encoding="utf-8")
    assert problem_rows(invalid(inputs).problems) == [(f"{table}.csv", None, column, "required column is missing", "")]


def test_a_missing_key_column_of_an_optional_table_is_a_problem(tmp_path: Path) -> None:
    inputs = small_extract(tmp_path / "inputs", "period,sku,region,units\n2026-10,A,North,1\n")
    (inputs / "inventory.csv").write_text("on_hand\n5\n", encoding="utf-8")
    assert problem_rows(invalid(inputs).problems) == [("inventory.csv", None, "sku", "required column is missing", "")]


def test_a_missing_inputs_folder_is_one_problem(tmp_path: Path) -> None:
    folder = tmp_path / "no-such-folder"
    error = invalid(folder)
    assert problem_rows(error.problems) == [("no-such-folder/", None, "", f"the inputs folder {folder} does not exist: put "
                                             "the extract's files there (sales_history and products at least), or "
                                             "pass --inputs DIR", "")]
    assert "have 1 problem in 1 file" in str(error)
