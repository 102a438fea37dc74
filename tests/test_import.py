"""`sop import`: a mapping file turns a company's own extract into the contract's files.

Every fixture is written in tmp_path; the expected numbers are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sop_lib.data.importer import (
    MAPPING_TEMPLATE,
    ImportFailed,
    MappingError,
    build_tables,
    load_mapping,
    parse_mapping,
    write_inputs,
)

PROJECT = Path(__file__).resolve().parent.parent

# Seven invoice lines, two SKUs (one with leading zeros), two months; one cancellation (C536367) and one
# return (-1). Dates as a spreadsheet export writes them: m/d/yyyy h:mm.
ORDER_LINES = """\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,Country
536365,00123,MUG,6,12/1/2010 8:26,2.50,United Kingdom
536366,00123,MUG,4,12/15/2010 9:00,3.00,United Kingdom
C536367,00123,MUG,-2,12/16/2010 9:00,2.50,United Kingdom
536368,85123A,LANTERN,10,12/20/2010 10:00,1.00,France
536369,00123,MUG,3,1/5/2011 11:00,2.00,United Kingdom
536370,85123A,LANTERN,-1,1/13/2011 12:00,1.00,France
536371,85123A,LANTERN,5,1/14/2011 12:00,1.20,France
"""

SALES_FROM_LINES = """\
  sales_history:
    source: lines
    filters:
      - drop: "starts_with(InvoiceNo, 'C')"
        reason: cancelled invoices
      - keep: "Quantity > 0"
        reason: returns and stock adjustments
    columns:
      period: InvoiceDate
      sku: StockCode
      region: "CASE WHEN Country = 'United Kingdom' THEN 'UK' ELSE 'International' END"
      units: Quantity
    aggregate: sum
"""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding=encoding)
    return path


def run_import(folder: Path, mapping: str) -> tuple[dict[str, pd.DataFrame], list[str], object]:
    """Build the tables of ``mapping`` (YAML text) in ``folder``; returns tables, printed lines and the result."""
    printed: list[str] = []
    result = build_tables(load_mapping(write(folder, "mapping.yaml", mapping)), folder, echo=printed.append)
    return result.tables, printed, result


def failed_import(folder: Path, mapping: str) -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        run_import(folder, mapping)
    return info.value


def rows(frame: pd.DataFrame) -> list[tuple]:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m")
    return [tuple(r) for r in out.itertuples(index=False)]


@pytest.fixture
def lines_dir(tmp_path: Path) -> Path:
    write(tmp_path, "raw/orders.csv", ORDER_LINES)
    return tmp_path


# --- order lines → months ----------------------------------------------------------------------------------------
def test_order_lines_become_monthly_sales(lines_dir: Path) -> None:
    tables, printed, result = run_import(lines_dir, "sources:\n  lines: {path: raw/orders.csv}\ntables:\n"
                                         + SALES_FROM_LINES)
    # 7 read; C536367 dropped (cancelled); the -1 return removed by keep Quantity > 0: 5 kept.
    # 2010-12 00123 UK: 6 + 4 = 10; 2010-12 85123A International: 10;
    # 2011-01 00123 UK: 3;           2011-01 85123A International: 5   → 4 rows
    assert rows(tables["sales_history"]) == [
        ("2010-12", "00123", "UK", 10.0),
        ("2010-12", "85123A", "International", 10.0),
        ("2011-01", "00123", "UK", 3.0),
        ("2011-01", "85123A", "International", 5.0),
    ]
    report = result.reports["sales_history"]
    assert report.rows_read == 7
    assert [(s.kind, s.removed, s.reason) for s in report.filters] == [
        ("drop", 1, "cancelled invoices"), ("keep", 1, "returns and stock adjustments")]
    assert report.rows_kept == 5
    assert report.rows_written == 4
    text = "\n".join(printed)
    assert "7 rows read" in text and "-1 row  (cancelled invoices)" in text and "5 rows kept" in text
    assert "dates in InvoiceDate read as MM/DD/YYYY (detected)" in text
    assert "4 rows to write, months 2010-12 … 2011-01" in text


def test_price_from_revenue_over_units_and_cost_from_margin(lines_dir: Path) -> None:
    tables, _, _ = run_import(lines_dir, """\
        sources:
          lines: {path: raw/orders.csv}
        tables:
          prices:
            source: lines
            filters:
              - keep: "Quantity > 0"
            columns:
              sku: StockCode
              valid_from: InvoiceDate
              units: Quantity
              revenue: "Quantity * UnitPrice"
            aggregate: sum
            derive:
              unit_price: revenue / units
              unit_cost: unit_price * (1 - 0.35)
        """)
    prices = tables["prices"]
    assert list(prices.columns) == ["sku", "valid_from", "unit_price", "unit_cost"]  # helpers not written
    # 00123  Dec: (6 × 2.50 + 4 × 3.00) / (6 + 4) = 27 / 10 = 2.70; cost 2.70 × 0.65 = 1.755
    # 85123A Dec: 10 × 1.00 / 10 = 1.00;                              cost 0.65
    # 00123  Jan: 3 × 2.00 / 3 = 2.00;                                cost 1.30
    # 85123A Jan: 5 × 1.20 / 5 = 1.20 (the -1 return is filtered);     cost 0.78
    expected = [("00123", "2010-12", 2.70, 1.755), ("00123", "2011-01", 2.00, 1.30),
                ("85123A", "2010-12", 1.00, 0.65), ("85123A", "2011-01", 1.20, 0.78)]
    for got, want in zip(rows(prices), expected, strict=True):
        assert got[:2] == want[:2]
        assert got[2:] == pytest.approx(want[2:])


def test_products_from_lines_keep_leading_zeros_with_a_constant_and_the_most_frequent_text(tmp_path: Path) -> None:
    write(tmp_path, "raw/items.csv", """\
        code,name,qty
        00123,Mug,1
        00123,MUG,1
        00123,MUG,1
        0042,Plate,1
        """)
    tables, _, _ = run_import(tmp_path, """\
        tables:
          products:
            source: {path: raw/items.csv}
            columns: {sku: code, description: name}
            constants: {family: Kitchen, status: active}
            aggregate: {description: mode}
        """)
    # 00123: MUG twice, Mug once → MUG; 0042 keeps both zeros; the helper qty is not a products column
    assert rows(tables["products"]) == [("00123", "Kitchen", "MUG", "active"), ("0042", "Kitchen", "Plate", "active")]


# --- dates -------------------------------------------------------------------------------------------------------
def test_day_month_year_dates_are_detected_and_printed(tmp_path: Path) -> None:
    write(tmp_path, "raw/s.csv", "Date,Item,Qty\n13/01/11,A,1\n02/01/11,A,2\n01/02/11,A,4\n")
    tables, printed, _ = run_import(tmp_path, """\
        tables:
          sales_history:
            source: {path: raw/s.csv}
            columns: {period: Date, sku: Item, units: Qty}
            constants: {region: All}
            aggregate: sum
        """)
    # 13/01/11 can only be DD/MM/YY: January = 1 + 2 = 3, February (01/02/11) = 4
    assert rows(tables["sales_history"]) == [("2011-01", "A", "All", 3.0), ("2011-02", "A", "All", 4.0)]
    assert "dates in Date read as DD/MM/YY (detected)" in "\n".join(printed)


S_CSV_SALES = """\
        tables:
          sales_history:
            source: {path: raw/s.csv}
            columns: {period: Date, sku: Item, units: Qty}
            constants: {region: All}
        """  # raw/s.csv (Date, Item, Qty) as sales in one region


def test_ambiguous_dates_are_a_problem_naming_both_formats(tmp_path: Path) -> None:
    write(tmp_path, "raw/s.csv", "Date,Item,Qty\n01/02/11,A,1\n03/04/11,A,2\n")
    mapping = S_CSV_SALES
    error = failed_import(tmp_path, mapping)
    text = str(error)
    assert "DD/MM/YY or MM/DD/YY" in text and "'%d/%m/%y' or '%m/%d/%y'" in text
    assert "tables.sales_history.date_format" in text
    assert len(error.problems) == 1  # said once for the column, not as a missing value per row
    # the explicit format settles it: 01/02/11 is 1 February, 03/04/11 is 3 April
    tables, printed, _ = run_import(tmp_path, mapping + "    date_format: '%d/%m/%y'\n")
    assert rows(tables["sales_history"]) == [("2011-02", "A", "All", 1.0), ("2011-04", "A", "All", 2.0)]
    assert "read as DD/MM/YY (date_format)" in "\n".join(printed)


def test_an_unreadable_date_is_a_problem_with_its_row_and_value(tmp_path: Path) -> None:
    write(tmp_path, "raw/s.csv", "Date,Item,Qty\n2011-01-13,A,1\n2011-13-45,A,2\n2011-02-01,A,4\n")
    error = failed_import(tmp_path, S_CSV_SALES)
    # the header is row 1, so the second data line is row 3
    assert error.problems[["row", "column", "value"]].values.tolist() == [[3, "period", "2011-13-45"]]
    assert "not a date" in error.problems["problem"].iloc[0]


# --- CSV dialects, encodings and hints ---------------------------------------------------------------------------
EURO_CSV = "Datum;Artikel;Menge;Gebiet\n13.01.2011;0042;1.234,5;Süd\n20.01.2011;0042;0,5;Süd\n03.02.2011;0042;2;Nord\n"
EURO_TABLES = """\
tables:
  sales_history:
    source: euro
    columns: {period: Datum, sku: Artikel, region: Gebiet, units: Menge}
    aggregate: sum
"""


def test_semicolon_decimal_comma_and_latin1(tmp_path: Path) -> None:
    write(tmp_path, "raw/euro.csv", EURO_CSV, encoding="latin-1")
    source = '  euro: {path: raw/euro.csv, separator: ";", encoding: latin-1, decimal: ",", thousands: "."}\n'
    tables, printed, _ = run_import(tmp_path, "sources:\n" + source + EURO_TABLES)
    # January, Süd: 1.234,5 + 0,5 = 1234.5 + 0.5 = 1235; February, Nord: 2
    assert rows(tables["sales_history"]) == [("2011-01", "0042", "Süd", 1235.0), ("2011-02", "0042", "Nord", 2.0)]
    assert "read as DD.MM.YYYY (detected)" in "\n".join(printed)


def test_encoding_and_separator_hints(tmp_path: Path) -> None:
    write(tmp_path, "raw/euro.csv", EURO_CSV, encoding="latin-1")
    error = failed_import(tmp_path, "sources:\n  euro: {path: raw/euro.csv}\n" + EURO_TABLES)
    assert "sources.euro.encoding" in str(error) and "not UTF-8" in str(error)
    assert "`encoding: latin-1`" in str(error)
    error = failed_import(tmp_path, "sources:\n  euro: {path: raw/euro.csv, encoding: latin-1}\n" + EURO_TABLES)
    assert "sources.euro.separator" in str(error) and 'separator: ";"' in str(error)


def test_a_decimal_comma_without_decimal_setting_is_a_row_problem_with_a_hint(tmp_path: Path) -> None:
    write(tmp_path, "raw/s.csv", 'Date,Item,Qty\n2011-01-01,A,"2,5"\n2011-01-02,B,x\n')
    error = failed_import(tmp_path, S_CSV_SALES)
    found = error.problems.set_index("row")
    assert found.loc[2, "value"] == "2,5" and 'decimal: ","' in found.loc[2, "problem"]
    assert found.loc[3, "value"] == "x" and found.loc[3, "problem"] == "not a number"


def test_a_column_made_text_by_a_bad_value_is_explained_with_its_rows(tmp_path: Path) -> None:
    write(tmp_path, "raw/s.csv", "Date,Item,Qty\n2011-01-01,A,2\n2011-01-02,A,n/a\n2011-01-03,A,3\n")
    error = failed_import(tmp_path, """\
        tables:
          sales_history:
            source: {path: raw/s.csv}
            columns: {period: Date, sku: Item, units: "Qty * 12"}
            constants: {region: All}
            aggregate: sum
        """)
    assert "tables.sales_history.columns.units" in str(error)
    found = error.problems[error.problems["row"].notna()]
    # n/a is on the second data line: row 3
    assert found[["row", "column", "value"]].values.tolist() == [[3, "Qty", "n/a"]]


def test_order_lines_without_aggregate_and_net_returns_get_hints(lines_dir: Path) -> None:
    mapping = """\
        sources:
          lines: {path: raw/orders.csv}
        tables:
          sales_history:
            source: lines
            columns: {period: InvoiceDate, sku: StockCode, units: Quantity}
            constants: {region: All}
        """
    error = failed_import(lines_dir, mapping)
    assert "add `aggregate: sum`" in str(error)
    # 2010-12 00123: 6 + 4 - 2 = 8 and 2011-01 85123A: -1 + 5 = 4 are fine; add a month of returns only
    write(lines_dir, "raw/orders.csv", ORDER_LINES + "536372,0042,PLATE,-3,1/20/2011 12:00,1.00,France\n")
    error = failed_import(lines_dir, mapping + "    aggregate: sum\n")
    assert error.problems[["column", "value"]].values.tolist() == [
        ["units", "-3.0 (period=2011-01-01, sku=0042, region=All)"]]
    assert 'keep: \"units >= 0\"' in error.problems["problem"].iloc[0]


def test_missing_column_and_sql_errors_name_the_key_path(lines_dir: Path) -> None:
    error = failed_import(lines_dir, """\
        sources:
          lines: {path: raw/orders.csv}
        tables:
          sales_history:
            source: lines
            filters:
              - keep: "Quantity >"
            columns: {period: InvoiceDate, sku: StockCode, units: Quantity}
            constants: {region: All}
          products:
            source: lines
            columns: {sku: StokCode, family: "'F'"}
        """)
    text = str(error)
    assert "tables.sales_history.filters[0].keep" in text and "Parser Error" in text
    assert "tables.products.columns.sku" in text
    assert 'column "StokCode" is not in source lines' in text and "InvoiceNo, StockCode, Description" in text
    assert "Traceback" not in text


# --- Excel, Parquet, SQL -----------------------------------------------------------------------------------------
def _workbook(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "read me first"
    sheet = book.create_sheet("Orders")
    sheet.append(["Date", "Item", "Qty"])
    sheet.append([dt.datetime(2011, 1, 13, 8, 26), "00123", 5])  # datetime cells, a code typed as text
    sheet.append([dt.datetime(2011, 1, 20), "00123", 2.5])
    sheet.append([dt.datetime(2011, 2, 1), "00123", 1])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def test_excel_sheet_by_name_and_a_missing_sheet(tmp_path: Path) -> None:
    _workbook(tmp_path / "raw" / "book.xlsx")
    mapping = """\
        tables:
          sales_history:
            source: {path: raw/book.xlsx, sheet: %s}
            columns: {period: Date, sku: Item, units: Qty}
            constants: {region: All}
            aggregate: sum
        """
    tables, _, _ = run_import(tmp_path, mapping % "Orders")
    # January: 5 + 2.5 = 7.5; February: 1
    assert rows(tables["sales_history"]) == [("2011-01", "00123", "All", 7.5), ("2011-02", "00123", "All", 1.0)]
    error = failed_import(tmp_path, mapping % "Sales")
    assert "sheet 'Sales' not found in book.xlsx; its sheets are: Notes, Orders" in str(error)


def test_parquet_date32_and_decimal128(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "raw").mkdir()
    pq.write_table(pa.table({
        "day": pa.array([dt.date(2011, 1, 13), dt.date(2011, 1, 31), dt.date(2011, 2, 1)], pa.date32()),
        "item": ["007", "007", "007"],
        "qty": pa.array([decimal.Decimal("1.50"), decimal.Decimal("2.25"), decimal.Decimal("4.00")],
                        pa.decimal128(10, 2)),
    }), tmp_path / "raw" / "sales.parquet")
    tables, printed, _ = run_import(tmp_path, """\
        tables:
          sales_history:
            source: {path: raw/sales.parquet}
            columns: {period: day, sku: item, units: "qty * 2"}
            constants: {region: All}
            aggregate: sum
        """)
    # January: (1.50 + 2.25) × 2 = 7.50; February: 4.00 × 2 = 8.00
    assert rows(tables["sales_history"]) == [("2011-01", "007", "All", 7.5), ("2011-02", "007", "All", 8.0)]
    assert "already dates" in "\n".join(printed)


PRODUCTS_FROM = """\
  products:
    source: %s
    columns: {sku: item}
    constants: {family: F}
    aggregate: sum
"""


def test_sql_sources_duckdb_query_duckdb_file_and_sqlite_url(tmp_path: Path) -> None:
    import duckdb

    write(tmp_path, "raw/lines.csv", "day,item,qty\n2011-01-13,A,1\n2011-01-14,A,2\n2011-02-01,B,5\n")
    con = duckdb.connect(str(tmp_path / "erp.duckdb"))
    con.execute("CREATE TABLE sales AS SELECT DATE '2011-03-05' AS day, 'C' AS item, 7.5 AS qty")
    con.close()
    (tmp_path / "data").mkdir()
    db = sqlite3.connect(tmp_path / "data" / "erp.db")
    db.execute("CREATE TABLE orders (day TEXT, item TEXT, qty REAL)")
    db.executemany("INSERT INTO orders VALUES (?, ?, ?)", [("2011-04-02", "D", 1.5), ("2011-04-30", "D", 2.0)])
    db.commit()
    db.close()
    tables, printed, _ = run_import(tmp_path, """\
        sources:
          files:
            query: "SELECT day, item, sum(qty) AS qty FROM read_csv('raw/lines.csv') GROUP BY ALL"
          warehouse: {format: sql, database: erp.duckdb, query: "SELECT * FROM sales"}
          erp: {format: sql, url: "sqlite:///data/erp.db", query: "SELECT * FROM orders WHERE qty > 0"}
        tables:
          sales_history:
            source: files
            columns: {period: day, sku: item, units: qty}
            constants: {region: All}
            aggregate: sum
          promotions:
            source: warehouse
            columns: {period: day, sku: item, discount_pct: qty}
            constants: {region: All}
          prices:
            source: erp
            columns: {sku: item, valid_from: day, unit_price: qty}
            aggregate: mean
        """)
    # the DuckDB query over the CSV: January A = 1 + 2 = 3, February B = 5
    assert rows(tables["sales_history"]) == [("2011-01", "A", "All", 3.0), ("2011-02", "B", "All", 5.0)]
    # the DuckDB database file: one row, 7.5 %
    assert rows(tables["promotions"]) == [("2011-03", "C", "All", 7.5)]
    # SQLite through the URL (relative to the mapping's folder): April D, mean of 1.5 and 2.0 = 1.75
    assert rows(tables["prices"]) == [("D", "2011-04", 1.75)]
    assert "SQL query on sqlite:///data/erp.db" in "\n".join(printed)


def test_a_failing_sql_query_is_one_line_with_its_key(tmp_path: Path) -> None:
    error = failed_import(tmp_path, """\
        sources:
          q: {query: "SELECT * FROM no_such_table"}
        tables:
          products:
            source: q
            columns: {sku: item, family: item}
        """)
    assert "sources.q.query: the query failed: Catalog Error" in str(error)


# --- the mapping file --------------------------------------------------------------------------------------------
def test_mapping_problems_are_reported_all_at_once_with_key_paths(tmp_path: Path) -> None:
    path = write(tmp_path, "mapping.yaml", """\
        sources:
          lines: {path: raw/orders.csv}
        tables:
          sales:
            source: lines
          sales_history:
            source: lnes
            columns: {period: InvoiceDate, sku: StockCode, units: Quantity, unts: Quantity}
            constants: {region: All}
            aggregate: {units: total}
        """)
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    error = info.value
    assert error.exit_code == 2
    expected = [
        "mapping.yaml: tables.sales: unknown table",
        "mapping.yaml: tables.sales_history.source: unknown source 'lnes' (did you mean 'lines'?)",
        "mapping.yaml: tables.sales_history.columns.unts: not a column of sales_history (did you mean 'units'?)",
        "mapping.yaml: tables.sales_history.aggregate: unknown aggregate function(s) units: total",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in error.problems), start
    assert len(error.problems) == 4


def test_mapping_refuses_unknown_keys_and_unquoted_yaml_booleans(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as info:
        parse_mapping({"sources": {"a": {"path": "x.csv", "colour": "red"}},
                       "tables": {"sales_history": {"source": "a", "columns": {"period": "d", "sku": "s",
                                                                                "units": "u"},
                                                    "constants": {"region": False}}}}, tmp_path / "m.yaml")
    text = str(info.value)
    assert "m.yaml: sources.a.colour: unknown key; allowed here: path, format" in text
    assert "m.yaml: tables.sales_history.constants.region: got false" in text and "quotes" in text


def test_template_is_yaml_that_imports_nothing_and_says_so(tmp_path: Path) -> None:
    assert yaml.safe_load(MAPPING_TEMPLATE) is None  # every line commented out
    mapping = load_mapping(write(tmp_path, "mapping.yaml", MAPPING_TEMPLATE))
    assert mapping.tables == {} and mapping.sources == {}
    with pytest.raises(MappingError, match="maps no tables yet"):
        build_tables(mapping, tmp_path, echo=lambda _: None)


def test_template_uncommented_is_a_valid_mapping(tmp_path: Path) -> None:
    # the example lines are '# ' followed by a top-level key or by indentation; the explanations are not
    body = "\n".join(line[2:] for line in MAPPING_TEMPLATE.splitlines()
                     if re.match(r"# (sources:|tables:|\s)", line))
    mapping = parse_mapping(yaml.safe_load(body), tmp_path / "mapping.yaml")
    assert {"sales_history", "products", "prices"} <= set(mapping.tables)
    assert mapping.tables["sales_history"].filters[0].reason == "cancelled invoices"


# --- writing -----------------------------------------------------------------------------------------------------
def test_nothing_is_written_when_one_table_fails(lines_dir: Path) -> None:
    inputs = lines_dir / "inputs"
    with pytest.raises(ImportFailed) as info:
        result = run_import(lines_dir, "sources:\n  lines: {path: raw/orders.csv}\ntables:\n" + SALES_FROM_LINES + """\
  products:
    source: lines
    columns: {sku: StockCode, family: NoSuchColumn}
""")[2]
        write_inputs(result, inputs)
    assert set(info.value.problems["table"]) == {"products"}
    assert not inputs.exists()


def test_csv_replaces_a_parquet_of_the_same_table(lines_dir: Path) -> None:
    inputs = lines_dir / "inputs"
    inputs.mkdir()
    pd.DataFrame({"sku": ["old"]}).to_parquet(inputs / "sales_history.parquet")
    write(inputs, "budget.csv", "family,period,units,revenue,gross_margin\n")  # not in the mapping: untouched
    _, _, result = run_import(lines_dir, "sources:\n  lines: {path: raw/orders.csv}\ntables:\n" + SALES_FROM_LINES)
    said: list[str] = []
    written = write_inputs(result, inputs, echo=said.append)
    assert written == [inputs / "sales_history.csv"]
    moved = list(inputs.glob("replaced-*/sales_history.parquet"))
    assert len(moved) == 1 and not (inputs / "sales_history.parquet").exists()
    assert any("moved sales_history.parquet" in line for line in said)
    assert (inputs / "budget.csv").read_text() == "family,period,units,revenue,gross_margin\n"
    assert (inputs / "sales_history.csv").read_text().splitlines()[:2] == [
        "period,sku,region,units", "2010-12-01,00123,UK,10"]
    assert "cancelled invoices" in (inputs / "import-report.txt").read_text()
    assert not list(inputs.glob(".*.tmp"))


# --- the command -------------------------------------------------------------------------------------------------
def _project(tmp_path: Path, products_family: str) -> Path:
    root = tmp_path / "project"
    write(root, "params/defaults.yaml", "company: Test Co\n")
    write(root, "raw/orders.csv", ORDER_LINES)
    write(root, "mapping.yaml", "sources:\n  lines: {path: raw/orders.csv}\ntables:\n" + SALES_FROM_LINES + f"""\
  products:
    source: lines
    columns: {{sku: StockCode, description: Description, family: {products_family}}}
    aggregate: sum
""")
    return root


def _sop(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOP_HOME"}
    return subprocess.run([sys.executable, "-m", "sop_lib", *args], capture_output=True, text=True, cwd=PROJECT,
                          env=env, timeout=300)


def test_cli_imports_and_validates_a_tiny_project(tmp_path: Path) -> None:
    root = _project(tmp_path, "\"'Gifts'\"")
    proc = _sop("import", "--root", str(root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "sales_history ← source lines (raw/orders.csv): 7 rows read" in out
    assert "filter drop starts_with(InvoiceNo, 'C'): -1 row  (cancelled invoices)" in out
    assert "4 rows to write" in out and "2 rows to write" in out  # products: 00123 and 85123A
    # the last sales month is 2011-01, so the cycle is 2011-02
    assert "(cycle 2011-02: the month after the last sales month; pass --cycle to choose)" in out
    assert (root / "inputs" / "sales_history.csv").exists() and (root / "inputs" / "products.csv").exists()


def test_cli_fails_with_exit_code_2_and_no_traceback(tmp_path: Path) -> None:
    root = _project(tmp_path, "NoSuchColumn")
    proc = _sop("import", "--root", str(root), "--cycle", "2011-02")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "tables.products.columns.family" in proc.stderr and "NoSuchColumn" in proc.stderr
    assert not (root / "inputs").exists()
