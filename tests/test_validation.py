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

from sop_lib.demo import write_demo_inputs
from sop_lib.errors import InputInvalid
from sop_lib.validate import validate_inputs

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
    An empty run-lock file under data/.locks/ is the only thing allowed to appear."""
    for folder in ("snapshot", "runs", "published", "scratch"):
        rel = f"data/cycles/{CYCLE}/{folder}"
        if not any(k.startswith(rel + "/") for k in before):  # a folder made by the test itself may stay
            assert not (root / rel).exists(), rel
    assert not (root / "reports").exists()
    after = tree(root)
    assert {k: after.get(k) for k in before} == before  # inputs and params unchanged
    new = {k: v for k, v in after.items() if k not in before}
    assert all(k.startswith("data/.locks/") and v == b"" for k, v in new.items()), sorted(new)


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
        (str(r.file), None if pd.isna(r.row) else int(r.row), str(r.column), str(r.problem), str(r.value))
        for r in problems.itertuples(index=False)
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
    """A project folder with the repository's parameters and a valid extract in inputs/."""
    shutil.copytree(PROJECT / "params", tmp_path / "params")
    shutil.copytree(demo_inputs, tmp_path / "inputs")
    return tmp_path


# --- one broken thing per case --------------------------------------------------------------------------

Expected = list[tuple[str, int | None, str, str]]  # file, row, column, problem


def _missing_column(inputs: Path) -> Expected:
    drop_column(inputs / "prices.csv", "unit_cost")
    return [("prices.csv", None, "unit_cost", "required column is missing")]


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
    path = inputs / "inventory.csv"
    path.write_text(lines_of(path)[0], encoding="utf-8")
    return [("inventory.csv", None, "", "file has no data rows")]


def _problems_in_three_files(inputs: Path) -> Expected:
    drop_column(inputs / "prices.csv", "unit_cost")
    set_cell(inputs / "capacity.csv", 5, "available_hours", "lots")
    set_cell(inputs / "budget.csv", 2, "period", "")
    return [("prices.csv", None, "unit_cost", "required column is missing"),
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
    assert proc.stdout.startswith("OK: 8 tables,") and f"valid for cycle {CYCLE}" in proc.stdout
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
