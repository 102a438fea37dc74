"""Optional tables and columns: an extract with only sales_history and products validates, and every default the
suite then takes is listed in words (``assumptions``), kept in the snapshot manifest and shown on the pack's
data-quality page. Small hand-written extracts; no notebooks, no subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sop_lib.core.errors import InputInvalid
from sop_lib.data.contract import ASSUMPTIONS, TABLES, columns_of
from sop_lib.data.input_files import read_input_file
from sop_lib.data.store import Store
from sop_lib.data.validate import validate_inputs, validate_tables
from sop_lib.pack.run import _env

CYCLE_START = pd.Timestamp("2026-11-01")

# 2 SKUs × 1 region × 3 months = 6 rows (spreadsheet rows 2-7)
SALES = """period,sku,region,units
2026-08,A,North,10
2026-09,A,North,12
2026-10,A,North,11
2026-08,B,North,5
2026-09,B,North,6
2026-10,B,North,7
"""
PRODUCTS = "sku,family,status\nA,Juice,active\nB,Juice,new\n"
OPTIONAL = ["prices", "promotions", "bill_of_resources", "capacity", "inventory", "budget"]

EVERY_DEFAULT = [
    {"table": "prices", "assumption": "No price list: plans and scenarios are in units; revenue and margin are not "
                                      "computed, and the budget is compared in units only."},
    {"table": "promotions", "assumption": "No promotions: the forecast has no promotion regressor."},
    {"table": "bill_of_resources, capacity",
     "assumption": "No bill of resources or capacity: capacity is not modelled; the supply plan is unconstrained "
                   "(demand is made in its month)."},
    {"table": "inventory", "assumption": "No inventory: opening stock is taken as 0 for every SKU."},
    {"table": "budget", "assumption": "No budget: the plan's value is shown without a budget comparison."},
]


def extract(folder: Path, **files: str) -> Path:
    """An inputs folder with sales_history.csv and products.csv (as above unless given) and ``files``."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {"sales_history": SALES, "products": PRODUCTS, **files}
    for name, text in contents.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def problems_of(inputs: Path) -> list[tuple[str, int | None, str, str]]:
    with pytest.raises(InputInvalid) as info:
        validate_inputs(inputs, CYCLE_START)
    return [(r.file, None if pd.isna(r.row) else int(r.row), r.column, r.problem)
            for r in info.value.problems.itertuples(index=False)]


def test_sales_and_products_alone_validate_and_list_every_default(tmp_path: Path) -> None:
    validated = validate_inputs(extract(tmp_path / "inputs"), CYCLE_START)
    assert validated.assumptions == EVERY_DEFAULT
    assert [a["assumption"] for a in EVERY_DEFAULT] == [
        ASSUMPTIONS[k] for k in ("prices", "promotions", "capacity", "inventory", "budget")]
    # the one warning: no inventory
    assert validated.warnings[["file", "problem"]].values.tolist() == [
        ["inventory.csv", "no inventory given: opening stock taken as 0 for every SKU"]]
    assert len(validated.tables["sales_history"]) == 6
    for name in OPTIONAL:  # empty, with the contract's columns and types
        table = validated.tables[name]
        assert table.empty and list(table.columns) == columns_of(name), name
        assert validated.sources[name] is None
    assert str(validated.tables["prices"]["valid_from"].dtype) == "datetime64[ns]"
    assert validated.tables["prices"]["unit_price"].dtype == "float64"
    assert str(validated.tables["capacity"]["period"].dtype) == "datetime64[ns]"
    assert validated.tables["inventory"]["on_hand"].dtype == "float64"


def test_header_only_optional_files_are_absent(tmp_path: Path) -> None:
    headers = {name: ",".join(columns_of(name)) + "\n" for name in OPTIONAL}
    inputs = extract(tmp_path / "inputs", **headers)
    validated = validate_inputs(inputs, CYCLE_START)
    assert validated.assumptions == EVERY_DEFAULT
    assert all(validated.sources[name] == inputs / f"{name}.csv" for name in OPTIONAL)
    raws = {name: read_input_file(name, inputs) for name in TABLES}
    checked = validate_tables(raws, CYCLE_START)
    assert checked.present == {"sales_history": True, "products": True, **dict.fromkeys(OPTIONAL, False)}


def test_required_table_with_only_its_header_is_a_problem(tmp_path: Path) -> None:
    inputs = extract(tmp_path / "inputs", products="sku,family,status\n")
    assert problems_of(inputs) == [("products.csv", None, "", "file has no data rows (a required table: fill it, or import your extract with `sop import`)")]


PRICES = "sku,valid_from,unit_price,unit_cost\nA,2026-01,2.0,1.2\nB,2026-01,3.0,1.5\n"


@pytest.mark.parametrize("prices", [
    "sku,valid_from,unit_price\nA,2026-01,2.0\nB,2026-01,3.0\n",  # no unit_cost column
    "sku,valid_from,unit_price,unit_cost\nA,2026-01,2.0,\nB,2026-01,3.0,\n",  # the column empty on every row
])
def test_unit_cost_left_out_is_a_default_and_stays_unknown(tmp_path: Path, prices: str) -> None:
    validated = validate_inputs(extract(tmp_path / "inputs", prices=prices), CYCLE_START)
    table = validated.tables["prices"]
    assert list(table.columns) == columns_of("prices")
    assert table["unit_cost"].dtype == "float64" and table["unit_cost"].isna().all()
    assert table["unit_price"].tolist() == [2.0, 3.0]
    assert validated.assumptions[0] == {"table": "prices", "assumption": "No unit cost in the price list: gross "
                                        "margin is not computed; a lost sale is valued at its price."}
    assert [a["table"] for a in validated.assumptions] == [
        "prices", "promotions", "bill_of_resources, capacity", "inventory", "budget"]


def test_unit_cost_empty_on_some_rows_is_a_problem_on_those_rows(tmp_path: Path) -> None:
    prices = "sku,valid_from,unit_price,unit_cost\nA,2026-01,2.0,1.2\nA,2026-06,2.2,\nB,2026-01,3.0,\n"
    missing = "unit cost missing: give every row a cost, or leave the column out"
    assert problems_of(extract(tmp_path / "inputs", prices=prices)) == [
        ("prices.csv", 3, "unit_cost", missing), ("prices.csv", 4, "unit_cost", missing)]


def test_status_left_out_means_active(tmp_path: Path) -> None:
    validated = validate_inputs(extract(tmp_path / "inputs", products="sku,family\nA,Juice\nB,Juice\n"),
                                CYCLE_START)
    assert validated.tables["products"]["status"].tolist() == ["active", "active"]
    assert validated.assumptions[0] == {
        "table": "products", "assumption": "No lifecycle status in products: every SKU is taken as active."}
    assert len(validated.assumptions) == 1 + len(EVERY_DEFAULT)


def test_status_empty_on_some_rows_is_active_and_said(tmp_path: Path) -> None:
    products = "sku,family,status\nA,Juice,\nB,Juice,phase_out\n"
    validated = validate_inputs(extract(tmp_path / "inputs", products=products), CYCLE_START)
    assert validated.tables["products"]["status"].tolist() == ["active", "phase_out"]
    assert validated.assumptions[0] == {
        "table": "products", "assumption": "1 SKU has no lifecycle status in products: it is taken as active."}


def test_a_given_status_must_still_be_known(tmp_path: Path) -> None:
    products = "sku,family,status\nA,Juice,Active\nB,Juice,\n"
    assert problems_of(extract(tmp_path / "inputs", products=products)) == [
        ("products.csv", 2, "status", "must be one of ['active', 'new', 'phase_out']")]


BOR = "sku,resource,hours_per_unit\nA,Filling,0.1\nB,Filling,0.2\n"
CAPACITY = "resource,period,available_hours\nFilling,2026-11,100\n"


def test_bill_of_resources_without_capacity_is_a_problem(tmp_path: Path) -> None:
    assert problems_of(extract(tmp_path / "a", bill_of_resources=BOR)) == [
        ("bill_of_resources.csv", None, "", "bill_of_resources has rows but capacity has none: give both (capacity "
         "is modelled) or neither (the plan is unconstrained)")]
    header_only = "resource,period,available_hours\n"
    assert problems_of(extract(tmp_path / "b", bill_of_resources=BOR, capacity=header_only))[0][3].startswith(
        "bill_of_resources has rows but capacity has none")
    assert problems_of(extract(tmp_path / "c", capacity=CAPACITY)) == [
        ("capacity.csv", None, "", "capacity has rows but bill_of_resources has none: give both (capacity is "
         "modelled) or neither (the plan is unconstrained)")]


def test_both_capacity_tables_given_are_modelled_and_checked(tmp_path: Path) -> None:
    validated = validate_inputs(extract(tmp_path / "a", bill_of_resources=BOR, capacity=CAPACITY), CYCLE_START)
    assert "bill_of_resources, capacity" not in [a["table"] for a in validated.assumptions]
    only_a = "sku,resource,hours_per_unit\nA,Filling,0.1\n"  # B has no route: the check still applies
    assert problems_of(extract(tmp_path / "b", bill_of_resources=only_a, capacity=CAPACITY)) == [
        ("products.csv", 3, "sku", "SKU unknown to the bill of resources: no resource makes it")]


def test_links_to_an_absent_table_are_not_checked(tmp_path: Path) -> None:
    # no price list and no bill of resources: no "no price" / "unknown to the bill of resources" problems
    validate_inputs(extract(tmp_path / "a"), CYCLE_START)
    # a price list that misses B: B has no price (as before)
    prices = "sku,valid_from,unit_price,unit_cost\nA,2026-01,2.0,1.2\n"
    assert problems_of(extract(tmp_path / "b", prices=prices)) == [
        ("products.csv", 3, "sku", "SKU has no price in prices")]


def test_a_file_with_no_bytes_is_still_a_problem(tmp_path: Path) -> None:
    """A header-only file says "we have no such table"; an empty one is more likely a failed export."""
    assert problems_of(extract(tmp_path / "inputs", budget="")) == [("budget.csv", None, "", "file is empty")]


def test_manifest_records_presence_and_defaults(tmp_path: Path) -> None:
    inputs = extract(tmp_path / "inputs", prices="sku,valid_from,unit_price\nA,2026-01,2.0\nB,2026-01,3.0\n",
                     budget=",".join(columns_of("budget")) + "\n")
    validated = validate_inputs(inputs, CYCLE_START)
    store = Store(tmp_path)
    snap = store.write_snapshot("2026-11", validated.tables, validated.sources, validated.warnings,
                                assumptions=validated.assumptions)
    manifest = json.loads((snap.folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest) >= {"cycle", "captured_at", "fingerprint", "tables", "warnings", "assumptions"}
    assert manifest["assumptions"] == validated.assumptions
    assert {n: e["present"] for n, e in manifest["tables"].items()} == {
        "sales_history": True, "products": True, "prices": True, "promotions": False, "bill_of_resources": False,
        "capacity": False, "inventory": False, "budget": False}
    budget = manifest["tables"]["budget"]  # header-only: its source is kept (a later filled file is a change)
    assert budget["rows"] == 0 and budget["source"] == str(inputs / "budget.csv") and budget["source_sha256"]
    assert set(budget) >= {"file", "sha256", "rows", "columns", "source", "source_sha256", "present"}
    restored = store.read_snapshot("2026-11")
    assert restored["prices"]["unit_cost"].isna().all() and restored["budget"].empty

    page = render_data_quality(manifest)
    assert "Defaults taken (tables or columns the extract did not have)" in page
    assert "No unit cost in the price list: gross margin is not computed" in page
    assert "No budget: the plan&#39;s value is shown without a budget comparison." in page
    assert page.count("(absent: optional table)") == 5
    assert "budget.csv has only its header" in page


def render_data_quality(manifest: dict) -> str:
    return _env().get_template("data_quality.html.j2").render(
        manifest=manifest, cycle="2026-11", current="data_quality.html", pages=[], company="Test", fingerprint="x")


def test_data_quality_page_of_a_full_extract_and_of_an_old_manifest() -> None:
    entry = {"file": "t.parquet", "sha256": "ab" * 32, "rows": 3, "columns": ["a"], "source": "/in/t.csv",
             "source_sha256": "cd" * 32}
    full = {"fingerprint": "f" * 64, "captured_at": "2026-11-02T08:00:00+00:00", "warnings": [], "assumptions": [],
            "tables": {"sales_history": {**entry, "present": True}}}
    page = render_data_quality(full)
    assert "None: every table was given." in page and "(absent: optional table)" not in page
    old = {k: v for k, v in full.items() if k != "assumptions"}  # written before this change
    old["tables"] = {"sales_history": entry, "promotions": {**entry, "rows": 0, "source": None,
                                                            "source_sha256": None}}
    page = render_data_quality(old)
    assert "Not recorded" in page and page.count("(absent: optional table)") == 1
