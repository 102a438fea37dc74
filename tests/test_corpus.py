"""The project's own bad-input corpus: hundreds of corrupted extracts made from the demo extract (8 SKUs, cycle
2026-11), covering every table and column, each refused with its file and problem named, or accepted with the
warning (or stated default) that says what was done — never accepted in silence, never a traceback.

Each case copies the pristine extract (made once for the module), breaks one thing in it and runs what
`sop validate` runs, in-process (``validate_inputs`` with the cycle's parameters, then ``check_planner_inputs``).
A few cases also go through the real command (a subprocess) for the exit code and stderr. Every case checks
that the inputs are byte for byte what the case wrote and that nothing was published or snapshotted. The counts
(cases, refused, accepted with a warning or a default) are printed by the last test (``pytest -rA``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pandas as pd
import pytest

from sop_lib.core.cycle import parse_cycle
from sop_lib.core.errors import SopError
from sop_lib.data.context import check_planner_inputs
from sop_lib.data.contract import TABLES, columns_of, required_columns_of
from sop_lib.data.params import CycleParams, load_params
from sop_lib.data.store import Store
from sop_lib.data.validate import validate_inputs
from sop_lib.demo import write_demo_inputs
from sop_lib.demo.project import ensure_demo_project

CYCLE = "2026-11"
PROJECT = Path(__file__).resolve().parent.parent
Outcome = Literal["refused", "warned", "default", "valid"]
NUMBERS = {"sales_history": ["units"], "prices": ["unit_price", "unit_cost"], "promotions": ["discount_pct"],
           "bill_of_resources": ["hours_per_unit"], "capacity": ["available_hours"], "inventory": ["on_hand"],
           "budget": ["units", "revenue", "gross_margin"]}
DATES = {"sales_history": "period", "prices": "valid_from", "promotions": "period", "capacity": "period",
         "budget": "period", "products": "end_period"}
NOT_FINITE = "not a finite number"
# numbers that also get -inf, NaN, empty, 1e400 and a decimal comma (read the same way for every column)
SAMPLED = (("sales_history", "units"), ("prices", "unit_cost"), ("capacity", "available_hours"))


@dataclass(frozen=True)
class Case:
    """One corrupted extract. ``text`` must be in the message (refused) or in a warning or default (accepted);
    ``file`` is the file the message must name; ``why`` says why accepting is right."""

    id: str
    mutate: Callable[[Path], None]
    outcome: Outcome
    file: str
    text: str
    why: str = ""
    cycle: str = CYCLE
    params: str = ""  # YAML appended to params/<cycle>.yaml
    row: int | None = None  # the row the problem must name, when one row is at fault


# --- editing an extract -----------------------------------------------------------------------------------


def read(inputs: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(inputs / f"{table}.csv", dtype=str, keep_default_na=False)


def write(inputs: Path, table: str, frame: pd.DataFrame) -> None:
    frame.to_csv(inputs / f"{table}.csv", index=False)


def edit(table: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def mutate(inputs: Path) -> None:
        write(inputs, table, change(read(inputs, table)))
    return mutate


def set_cell(table: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """``value`` in spreadsheet row ``row`` (header = 1) of ``column``."""
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row - 2, column] = value
        return frame
    return edit(table, change)


def raw_text(table: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    def mutate(inputs: Path) -> None:
        path = inputs / f"{table}.csv"
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    return mutate


def reencode(table: str, encoding: str, accent: bool = True) -> Callable[[Path], None]:
    """The file saved in another encoding; with ``accent``, a value with an accent (ASCII alone reads as UTF-8)."""
    def mutate(inputs: Path) -> None:
        path = inputs / f"{table}.csv"
        frame = read(inputs, table)
        if accent:
            frame["note"] = ["café"] + [""] * (len(frame) - 1)
        path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return mutate


def drop_rows(table: str, keep: Callable[[pd.DataFrame], pd.Series]) -> Callable[[Path], None]:
    return edit(table, lambda f: f[keep(f)].reset_index(drop=True))


def add_rows(table: str, rows: list[dict[str, str]]) -> Callable[[Path], None]:
    return edit(table, lambda f: pd.concat([f, pd.DataFrame(rows)], ignore_index=True).fillna(""))


def as_parquet(table: str, build: Callable[[pd.DataFrame], object]) -> Callable[[Path], None]:
    """The table as a Parquet file (``build`` turns the CSV's frame into a pyarrow table)."""
    def mutate(inputs: Path) -> None:
        import pyarrow.parquet as pq

        frame = read(inputs, table)
        (inputs / f"{table}.csv").unlink()
        pq.write_table(build(frame), inputs / f"{table}.parquet")
    return mutate


def as_excel(table: str, first_sheet: str | None = None, breaks: tuple[int, str, str] | None = None
             ) -> Callable[[Path], None]:
    """The table as an .xlsx workbook; with ``first_sheet``, a notes sheet comes first and the data second."""
    def mutate(inputs: Path) -> None:
        frame = read(inputs, table)
        if breaks:
            frame.loc[breaks[0] - 2, breaks[1]] = breaks[2]
        (inputs / f"{table}.csv").unlink()
        with pd.ExcelWriter(inputs / f"{table}.xlsx") as book:
            if first_sheet:
                pd.DataFrame({"note": ["exported from the ERP"]}).to_excel(book, sheet_name=first_sheet, index=False)
            frame.to_excel(book, sheet_name="Data", index=False)
    return mutate


def both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(inputs: Path) -> None:
        for m in mutations:
            m(inputs)
    return mutate


def nothing(inputs: Path) -> None:
    return None


# --- the cases --------------------------------------------------------------------------------------------

OPTIONAL_COLUMNS: dict[tuple[str, str], tuple[Outcome, str, str]] = {
    ("products", "status"): ("default", "No lifecycle status in products", "the contract's default: active"),
    ("prices", "unit_cost"): ("default", "No unit cost in the price list", "margin is then not computed, and said"),
    ("products", "description"): ("valid", "", "free text; no figure depends on it"),
    ("products", "end_period"): ("valid", "", "no end planned for any SKU, as the contract documents"),
}


def column_cases() -> list[Case]:
    """Every column of every table: left out, misnamed (capitals, a space for the underscore), and an extra
    column."""
    out = []
    for table in TABLES:
        file = f"{table}.csv"
        required = required_columns_of(table)
        for column in columns_of(table):
            drop = edit(table, lambda f, c=column: f.drop(columns=c))
            if column in required:
                out.append(Case(f"{table}-{column}-missing", drop, "refused", file, "required column is missing"))
            else:
                outcome, text, why = OPTIONAL_COLUMNS[(table, column)]
                out.append(Case(f"{table}-{column}-left-out", drop, outcome, file, text, why))
            upper = edit(table, lambda f, c=column: f.rename(columns={c: c.capitalize()}))
            out.append(Case(f"{table}-{column}-capitalised", upper, "refused", file,
                            f"column '{column.capitalize()}' is not read: the contract names it {column}"))
            if column in ("hours_per_unit", "valid_from"):
                spaced = edit(table, lambda f, c=column: f.rename(columns={c: c.replace("_", " ")}))
                out.append(Case(f"{table}-{column}-with-a-space", spaced, "refused", file,
                                f"column '{column.replace('_', ' ')}' is not read"))
        if table in ("sales_history", "products", "capacity"):
            out.append(Case(f"{table}-extra-column", edit(table, lambda f: f.assign(comment="from the ERP")),
                            "valid", file, "", "extra columns are ignored, as the contract says: extracts often "
                            "carry more"))
    return out


def value_cases() -> list[Case]:
    """Every number: text, infinite, huge, negative (and, for a sample, an overflow, -inf, NaN, empty and a
    decimal comma); every date: text (and beyond the years a timestamp holds); required text left empty."""
    out = []
    for table, columns in NUMBERS.items():
        file = f"{table}.csv"
        for column in columns:
            def cell(value: str, t: str = table, c: str = column) -> Callable[[Path], None]:
                return set_cell(t, 3, c, value)
            missing = "unit cost missing" if column == "unit_cost" else "value is missing"
            low = "must be > 0" if column in ("unit_price", "hours_per_unit") else "must be ≥ 0"
            high = "must be ≤ 100" if column == "discount_pct" else "beyond any plausible figure"
            out += [
                Case(f"{table}-{column}-text", cell("twelve"), "refused", file, "not a number", row=3),
                Case(f"{table}-{column}-inf", cell("inf"), "refused", file, NOT_FINITE, row=3),
                Case(f"{table}-{column}-1e20", cell("1e20"), "refused", file, high, row=3),
            ]
            if (table, column) in SAMPLED:
                out += [
                    Case(f"{table}-{column}-1e400", cell("1e400"), "refused", file, NOT_FINITE, row=3),
                    Case(f"{table}-{column}-empty", cell(""), "refused", file, missing, row=3),
                    Case(f"{table}-{column}-minus-inf", cell("-Infinity"), "refused", file, NOT_FINITE, row=3),
                    Case(f"{table}-{column}-nan-as-text", cell("NaN"), "refused", file, missing, row=3),
                    Case(f"{table}-{column}-decimal-comma", cell("1,5"), "refused", file, "write numbers with a dot",
                         row=3),
                ]
            if column == "gross_margin":
                out.append(Case(f"{table}-{column}-negative", cell("-5"), "valid", file, "",
                                "a negative margin is real: selling below cost"))
            else:
                out.append(Case(f"{table}-{column}-negative", cell("-5"), "refused", file, low, row=3))
    for table, column in DATES.items():
        file = f"{table}.csv"
        out.append(Case(f"{table}-{column}-text", set_cell(table, 3, column, "next month"), "refused", file,
                        "YYYY-MM", row=3))
        if table in ("products", "prices"):
            out.append(Case(f"{table}-{column}-year-9999", set_cell(table, 3, column, "9999-12-31"), "refused",
                            file, "a date outside the years 1678 … 2261", row=3))
    for table, column in (("sales_history", "sku"), ("sales_history", "region"), ("bill_of_resources", "resource"),
                          ("budget", "family"), ("capacity", "period"), ("prices", "valid_from")):
        out.append(Case(f"{table}-{column}-empty", set_cell(table, 3, column, ""), "refused", f"{table}.csv",
                        "value is missing", row=3))
    out += [
        Case("products-status-unknown", set_cell("products", 3, "status", "retired"), "refused", "products.csv",
             "must be one of", row=3),
        Case("products-status-empty", set_cell("products", 3, "status", ""), "default", "products.csv",
             "1 SKU has no lifecycle status in products", "the contract's default for an empty status: active"),
        Case("sales_history-unquoted-decimal-comma", raw_text("sales_history", lambda t: t.replace(
            ",2035\n", ",20,35\n", 1)), "refused", "sales_history.csv", "line 2 has 5 fields where the header"),
        Case("capacity-every-line-one-field-longer", raw_text("capacity", lambda t: t.replace("\n", ",x\n").replace(
            "available_hours,x\n", "available_hours\n")), "refused", "capacity.csv",
            "fields where the header"),
    ]
    return out


def file_cases() -> list[Case]:
    """Whole files: duplicate rows, encodings, separators, empty and header-only files."""
    out = []
    for table in TABLES:
        file = f"{table}.csv"
        out.append(Case(f"{table}-duplicate-row", edit(table, lambda f: pd.concat([f, f.iloc[[1]]],
                                                                                   ignore_index=True)),
                        "refused", file, "duplicate key"))
    # a file is read the same way whatever its table: half the tables each, alternating
    for i, table in enumerate(TABLES):
        file = f"{table}.csv"
        if i % 2 == 0:
            out += [Case(f"{table}-latin-1", reencode(table, "latin-1"), "refused", file, "not UTF-8"),
                    Case(f"{table}-semicolons", raw_text(table, lambda t: t.replace(",", ";")), "refused", file,
                         "separated by ';'"),
                    Case(f"{table}-utf-8-with-bom", reencode(table, "utf-8-sig"), "valid", file, "",
                         "Excel's 'CSV UTF-8' starts with a byte-order mark")]
        else:
            out += [Case(f"{table}-utf-16", reencode(table, "utf-16", accent=False), "refused", file, "UTF-16"),
                    Case(f"{table}-tabs", raw_text(table, lambda t: t.replace(",", "\t")), "refused", file,
                         "separated by tabs"),
                    Case(f"{table}-zero-bytes", raw_text(table, lambda t: ""), "refused", file, "file is empty")]
    header_only = {
        "sales_history": ("refused", "sales_history.csv", "file has no data rows", ""),
        "products": ("refused", "products.csv", "file has no data rows", ""),
        "prices": ("default", "prices", "No price list", "the template of a company without a price list"),
        "promotions": ("default", "promotions", "No promotions", "a company without promotions"),
        "bill_of_resources": ("refused", "capacity.csv", "capacity has rows but bill_of_resources has none", ""),
        "capacity": ("refused", "bill_of_resources.csv", "bill_of_resources has rows but capacity has none", ""),
        "inventory": ("warned", "inventory.csv", "no inventory given: opening stock taken as 0", "no stock data"),
        "budget": ("default", "budget", "No budget", "a company without a budget"),
    }
    for table, (outcome, file, text, why) in header_only.items():
        out.append(Case(f"{table}-header-only", raw_text(table, lambda t: t.split("\n", 1)[0] + "\n"), outcome,
                        file, text, why))
    out.append(Case("capacity-tables-both-header-only-but-params-name-resources", both(
            raw_text("capacity", lambda t: t.split("\n", 1)[0] + "\n"),
            raw_text("bill_of_resources", lambda t: t.split("\n", 1)[0] + "\n")), "refused", "defaults.yaml",
            "capacity is not modelled"))
    return out


def format_cases() -> list[Case]:
    """Excel workbooks and Parquet files as SQL exports write them (DATE and DECIMAL columns)."""
    return [
        Case("sales_history-xlsx-data-on-second-sheet", as_excel("sales_history", first_sheet="Notes"), "refused",
             "sales_history.xlsx (sheet 'Notes')", "are on sheet 'Data'"),
        Case("products-xlsx", as_excel("products"), "valid", "products.xlsx", "", "a workbook, data on sheet one"),
        Case("capacity-xlsx-text-in-hours", as_excel("capacity", breaks=(4, "available_hours", "lots")), "refused",
             "capacity.xlsx (sheet 'Data')", "not a number", row=4),
        Case("products-csv-and-xlsx", both(lambda d: shutil.copy(d / "products.csv", d / "keep.csv"),
                                           as_excel("products"), lambda d: (d / "keep.csv").rename(d / "products.csv")),
             "refused", "products.csv", "more than one file for this table"),
        Case("sales_history-parquet-date32-decimal", as_parquet("sales_history", _sql_sales), "valid",
             "sales_history.parquet", "", "SQL exports write DATE and DECIMAL columns: read as months and numbers"),
        Case("prices-parquet-date32-decimal", as_parquet("prices", _sql_prices), "valid", "prices.parquet", "",
             "as above, for the price list"),
        Case("sales_history-parquet-decimal-negative", as_parquet("sales_history", lambda f: _sql_sales(
            f, units={5: "-3.00"})), "refused", "sales_history.parquet", "must be ≥ 0", row=6),
        Case("sales_history-parquet-date32-1922", as_parquet("sales_history", lambda f: _sql_sales(
            f, dates={5: dt.date(1922, 11, 1)})), "refused", "sales_history.parquet", "100 years before", row=6),
        Case("capacity-parquet-float-inf", as_parquet("capacity", _float_capacity), "refused", "capacity.parquet",
             NOT_FINITE, row=3),
        Case("sales_history-parquet-true-false-units", as_parquet("sales_history", lambda f: _sql_sales(f).set_column(
            3, "units", _booleans(len(f)))), "refused", "sales_history.parquet", "not a number", row=1),
        Case("products-parquet-date32-9999", as_parquet("products", _product_ends), "refused", "products.parquet",
             "a date outside the years 1678 … 2261", row=1),
        Case("budget-parquet-numbers-as-text", as_parquet("budget", _text_table), "valid", "budget.parquet", "",
             "numbers written as text are read as numbers, as from a CSV"),
    ]


def _sql_sales(frame: pd.DataFrame, units: dict[int, str] | None = None,
               dates: dict[int, dt.date] | None = None) -> object:
    import pyarrow as pa

    days = [dt.date.fromisoformat(p) for p in frame["period"]]
    values = list(frame["units"])
    for i, v in (units or {}).items():
        values[i] = v
    for i, d in (dates or {}).items():
        days[i] = d
    return pa.table({"period": pa.array(days, type=pa.date32()), "sku": frame["sku"], "region": frame["region"],
                     "units": pa.array([Decimal(v).quantize(Decimal("0.01")) for v in values],
                                       type=pa.decimal128(12, 2))})


def _sql_prices(frame: pd.DataFrame) -> object:
    import pyarrow as pa

    return pa.table({"sku": frame["sku"], "valid_from": pa.array([dt.date.fromisoformat(v) for v in frame["valid_from"]],
                                                               type=pa.date32()),
                     "unit_price": pa.array([Decimal(v) for v in frame["unit_price"]], type=pa.decimal128(10, 2)),
                     "unit_cost": pa.array([Decimal(v) for v in frame["unit_cost"]], type=pa.decimal128(10, 2))})


def _float_capacity(frame: pd.DataFrame) -> object:
    import pyarrow as pa

    hours = frame["available_hours"].astype(float).tolist()
    hours[2] = float("inf")  # row 3 (Parquet rows from 1)
    return pa.table({"resource": frame["resource"], "period": pd.to_datetime(frame["period"]),
                     "available_hours": hours})


def _booleans(n: int) -> object:
    import pyarrow as pa

    return pa.array([True] + [False] * (n - 1))


def _product_ends(frame: pd.DataFrame) -> object:
    """products with ``end_period`` as a DATE column, the first SKU ending 9999-12-31 ('never', as ERPs write)."""
    import pyarrow as pa

    ends = [dt.date(9999, 12, 31)] + [dt.date.fromisoformat(v[:10]) if v else None for v in frame["end_period"][1:]]
    return pa.Table.from_pandas(frame.drop(columns="end_period"), preserve_index=False).append_column(
        "end_period", pa.array(ends, type=pa.date32()))


def _text_table(frame: pd.DataFrame) -> object:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def _first_sku_rows(frame: pd.DataFrame) -> pd.Series:
    return frame["sku"] != frame["sku"].iloc[0]


def far_date_cases() -> list[Case]:
    """A typo in a year: far before or after the rest of a monthly table, or of the history and the cycle."""
    return [
        Case("sales_history-period-1922", set_cell("sales_history", 5, "period", "1922-11-01"), "refused",
             "sales_history.csv", "1922-11 is 100 years before the rest of sales_history", row=5),
        Case("sales_history-period-2062", set_cell("sales_history", 5, "period", "2062-11-01"), "refused",
             "sales_history.csv", "2062-11 is 36 years after the rest of sales_history", row=5),
        Case("capacity-period-1922", set_cell("capacity", 3, "period", "1922-11-01"), "refused", "capacity.csv",
             "years before the rest of capacity", row=3),
        Case("capacity-period-2206", set_cell("capacity", 3, "period", "2206-11-01"), "refused", "capacity.csv",
             "years after the rest of capacity", row=3),
        Case("budget-period-1926", set_cell("budget", 3, "period", "1926-03-01"), "refused", "budget.csv",
             "years before the rest of budget", row=3),
        Case("promotions-period-1922", set_cell("promotions", 3, "period", "1922-12-01"), "refused",
             "promotions.csv", "more than 10 years before the first month of sales_history", row=3),
        Case("promotions-period-2062", set_cell("promotions", 3, "period", "2062-12-01"), "refused",
             "promotions.csv", "more than 10 years after", row=3),
        Case("prices-valid_from-2099", set_cell("prices", 3, "valid_from", "2099-04-01"), "refused", "prices.csv",
             "more than 10 years after", row=3),
        Case("prices-valid_from-1900", set_cell("prices", 2, "valid_from", "1900-01-01"), "valid", "prices.csv", "",
             "a price 'valid from 1900' is a common way to say 'always'"),
        Case("products-end_period-1926", set_cell("products", 3, "end_period", "1926-03-01"), "refused",
             "products.csv", "more than 10 years before the first month of sales_history", row=3),
        Case("products-end_period-2099", set_cell("products", 3, "end_period", "2099-12-01"), "valid",
             "products.csv", "", "an end in 2099 is a way to say 'no end planned'"),
    ]


def history_cases() -> list[Case]:
    """The sales history against the cycle: stale, missing months, rows in the cycle month, cycle ids."""
    stale = "the extract is a month short"
    return [
        Case("cycle-2026-12-with-history-to-2026-10", nothing, "refused", "sales_history.csv", stale,
             cycle="2026-12"),
        Case("cycle-2027-02-with-history-to-2026-10", nothing, "refused", "sales_history.csv",
             "the extract is 3 months short", cycle="2027-02"),
        Case("sales_history-last-month-missing", drop_rows("sales_history", lambda f: ~f["period"].str.startswith(
            "2026-10")), "refused", "sales_history.csv", stale),
        Case("sales_history-last-month-missing-allowed", drop_rows("sales_history", lambda f: ~f["period"].str.startswith(
            "2026-10")), "warned", "sales_history.csv", "accepted as forecast.allow_stale_months is 1",
            "the planner said the last month is known to be missing", params="forecast:\n  allow_stale_months: 1\n"),
        Case("cycle-1999-12", nothing, "refused", "sales_history.csv", "no sales history before cycle 1999-12",
             cycle="1999-12"),
        Case("sales_history-rows-in-the-cycle-month", add_rows("sales_history", [
            {"period": "2026-11-03", "sku": "SPK-101", "region": "North", "units": "12"}]), "warned",
            "sales_history.csv", "rows dated in or after the cycle month 2026-11 were left out",
            "an extract taken during the cycle month has a partial month: it must not count"),
        Case("sales_history-replay-an-earlier-cycle", nothing, "warned", "sales_history.csv",
             "rows dated in or after the cycle month 2026-09 were left out",
             "re-running an earlier cycle on a newer extract is normal", cycle="2026-09"),
        Case("sales_history-a-month-missing", drop_rows("sales_history", lambda f: ~f["period"].str.startswith(
            "2025-03")), "refused", "sales_history.csv", "no row at all, for any series, in 2025-03"),
        Case("sales_history-three-months-missing", drop_rows("sales_history", lambda f: ~f["period"].str[:7].isin(
            ["2024-06", "2024-07", "2024-08"])), "refused", "sales_history.csv", "in 2024-06 … 2024-08 (3 months"),
        Case("sales_history-one-series-missing-a-month", drop_rows("sales_history", lambda f: ~(
            f["period"].str.startswith("2025-03") & (f["sku"] == "SPK-101"))), "valid", "", "",
            "one series without a row in a month sold nothing that month: zero demand, as documented"),
    ]


def key_cases() -> list[Case]:
    """Keys in one table that another does not know: a problem where it takes data away from a real SKU or
    resource, a warning where the rows cannot change the plan."""
    return [
        Case("sales_history-unknown-sku", set_cell("sales_history", 4, "sku", "SPK-1O1"), "refused",
             "sales_history.csv", "SKU not in products", row=4),
        Case("bill_of_resources-mistyped-sku", set_cell("bill_of_resources", 3, "sku", "SPK-1O1"), "refused",
             "bill_of_resources.csv", "its hours would not be counted", row=3),
        Case("bill_of_resources-unknown-resource", set_cell("bill_of_resources", 3, "resource", "Welding"),
             "refused", "bill_of_resources.csv", "resource has no available hours in capacity", row=3),
        Case("products-sku-without-route", drop_rows("bill_of_resources", _first_sku_rows), "refused",
             "products.csv", "SKU unknown to the bill of resources"),
        Case("products-sku-without-price", drop_rows("prices", _first_sku_rows), "refused", "products.csv",
             "SKU has no price in prices"),
        Case("capacity-unknown-resource", add_rows("capacity", [
            {"resource": "Welding", "period": "2026-11-01", "available_hours": "100"}]), "warned", "capacity.csv",
            "resource not in bill_of_resources", "hours of a resource no SKU uses cannot change the plan"),
        Case("prices-unknown-sku", add_rows("prices", [
            {"sku": "XYZ-999", "valid_from": "2026-01-01", "unit_price": "1", "unit_cost": "0.5"}]), "warned",
            "prices.csv", "SKU not in products (ignored)", "price lists often cover the whole catalogue"),
        Case("inventory-unknown-sku", add_rows("inventory", [{"sku": "XYZ-999", "on_hand": "5"}]), "warned",
             "inventory.csv", "SKU not in products (ignored)", "warehouses hold items outside the plan"),
        Case("inventory-sku-without-row", drop_rows("inventory", lambda f: f.index != 0), "warned", "inventory.csv",
             "SKU has no opening stock row: taken as 0", "no row is no stock, and it is said"),
        Case("budget-unknown-family", add_rows("budget", [
            {"family": "Cider", "period": "2026-11-01", "units": "1", "revenue": "1", "gross_margin": "0"}]),
            "warned", "budget.csv", "family not in products (ignored)", "a budget line for a family not planned"),
        Case("promotions-unknown-sku", set_cell("promotions", 3, "sku", "XYZ-999"), "warned", "promotions.csv",
             "SKU not in products (ignored)", "promotion calendars cover more than the planned range"),
        Case("promotions-unknown-region", set_cell("promotions", 3, "region", "Mars"), "warned", "promotions.csv",
             "no sales history for this SKU in this region", "no forecast for the series: nothing to lift"),
    ]


def text_and_parameter_cases() -> list[Case]:
    """Formula and markup text; parameters that reach past the data."""
    return [
        Case("sales_history-sku-hyperlink", set_cell("sales_history", 3, "sku", '=HYPERLINK("http://x.test","y")'),
             "refused", "sales_history.csv", "looks like a spreadsheet formula or markup", row=3),
        Case("sales_history-region-script", set_cell("sales_history", 3, "region", "<script>alert(1)</script>"),
             "refused", "sales_history.csv", "looks like a spreadsheet formula or markup", row=3),
        Case("products-family-cmd", set_cell("products", 3, "family", "+cmd|' /C calc'!A0"), "refused",
             "products.csv", "looks like a spreadsheet formula or markup", row=3),
        Case("capacity-resource-at-formula", set_cell("capacity", 3, "resource", "@SUM(1+1)"), "refused", "capacity.csv",
             "looks like a spreadsheet formula or markup", row=3),
        Case("prices-sku-img", set_cell("prices", 3, "sku", "<img src=x onerror=alert(1)>"), "refused",
             "prices.csv", "looks like a spreadsheet formula or markup", row=3),
        Case("products-description-hyperlink", set_cell("products", 3, "description", '=HYPERLINK("http://x.test")'),
             "warned", "products.csv", "looks like a spreadsheet formula or markup: kept as plain text",
             "free text no figure depends on; kept as text, and said"),
        Case("params-horizon-60-past-capacity", nothing, "refused", "2026-11.yaml",
             "capacity has no hours for Baking, Bottling, Canning, Mixing, Packing in 2028-12 … 2031-10",
             params="forecast:\n  horizon_months: 60\n"),
        Case("budget-ends-before-the-horizon", nothing, "warned", "budget.csv", "budget ends 2027-12",
             "budgets are annual: a horizon reaching into a year not budgeted yet is normal"),
        Case("capacity-a-month-missing-in-the-horizon", drop_rows("capacity", lambda f: ~(
            (f["resource"] == "Bottling") & f["period"].str.startswith("2027-06"))), "refused", "defaults.yaml",
            "capacity has no hours for Bottling in 2027-06"),
    ]


CASES = (column_cases() + value_cases() + file_cases() + format_cases() + far_date_cases() + history_cases()
         + key_cases() + text_and_parameter_cases())
CLI_SAMPLE = ["sales_history-units-inf", "sales_history-period-1922", "bill_of_resources-mistyped-sku",
              "sales_history-latin-1", "products-utf-16", "capacity-unknown-resource",
              "params-horizon-60-past-capacity", "cycle-2026-12-with-history-to-2026-10"]
CLI_CYCLES = {"cycle-id-9999-12": "9999-12"}  # store.parse_cycle's range (the CLI's own check)


# --- running a case ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo project (parameters) with a valid extract in inputs/, made once."""
    root = tmp_path_factory.mktemp("pristine")
    ensure_demo_project(root)
    write_demo_inputs(CYCLE, root / "inputs", n_skus=8)
    return root


@dataclass
class Result:
    exit_code: int
    message: str
    warnings: pd.DataFrame | None = None
    assumptions: list[dict[str, str]] = field(default_factory=list)
    problems: pd.DataFrame | None = None


def prepare(case: Case, pristine: Path, base: Path) -> Path:
    """The case's project: the pristine extract with one thing broken; its own params when the case sets some."""
    root = base / "project"
    root.mkdir()
    shutil.copytree(pristine / "inputs", root / "inputs")
    if case.params:
        shutil.copytree(pristine / "params", root / "params")
        with open(root / "params" / f"{case.cycle}.yaml", "a", encoding="utf-8") as fh:
            fh.write("\n" + case.params)
    else:
        (root / "params").symlink_to(pristine / "params")
    case.mutate(root / "inputs")
    return root


@functools.cache
def shared_params(params_dir: Path, cycle: str) -> CycleParams:
    """The pristine project's parameters, read once per cycle (cases that change them have their own)."""
    return load_params(params_dir, cycle)


def validate_in_process(root: Path, cycle: str) -> Result:
    """What `sop validate` does, with the cycle's parameters passed to validation."""
    store = Store(root)
    try:
        params_dir = store.params_dir
        params = (shared_params(params_dir.resolve(), cycle) if params_dir.is_symlink()
                  else load_params(params_dir, cycle))
        validated = validate_inputs(root / "inputs", parse_cycle(cycle),
                                    allow_stale_months=params.forecast.allow_stale_months,
                                    horizon_months=params.forecast.horizon_months)
        check_planner_inputs(store, cycle, validated.tables, params)
    except SopError as exc:
        return Result(exc.exit_code, str(exc), problems=getattr(exc, "problems", None))
    return Result(0, "", validated.warnings, validated.assumptions)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def check(case: Case, result: Result, stderr: str = "") -> None:
    message = result.message + stderr
    assert "Traceback" not in message
    if case.outcome == "refused":
        assert result.exit_code == 2, (case.id, result.exit_code, message)
        assert case.file in message and case.text in message, (case.id, message)
        if case.row is not None and isinstance(result.problems, pd.DataFrame) and "row" in result.problems:
            mine = result.problems[result.problems["file"] == case.file]
            assert case.row in mine["row"].dropna().astype(int).tolist(), (case.id, mine)
        return
    assert result.exit_code == 0, (case.id, message)
    assert case.why, f"{case.id}: say why accepting this is right"
    if case.outcome == "warned":
        assert result.warnings is not None
        hits = result.warnings[result.warnings["problem"].str.contains(case.text, regex=False)]
        assert len(hits) and (hits["file"] == case.file).any(), (case.id, result.warnings.to_dict("records"))
    elif case.outcome == "default":
        said = [a for a in result.assumptions if case.text in a["assumption"]]
        assert said and any(case.file.split(".")[0] in a["table"] for a in said), (case.id, result.assumptions)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, pristine: Path, tmp_path: Path) -> None:
    root = prepare(case, pristine, tmp_path)
    before = digest(root / "inputs")
    check(case, validate_in_process(root, case.cycle))
    assert digest(root / "inputs") == before  # inputs untouched
    assert not (root / "reports").exists() and not (root / "data").exists()  # nothing snapshotted or published


def sop_validate(root: Path, cycle: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOP_HOME"}
    return subprocess.run([sys.executable, "-m", "sop_lib", "validate", "--cycle", cycle, "--root", str(root)],
                          capture_output=True, text=True, cwd=PROJECT, env=env, timeout=120)


@dataclass
class CommandRun:
    case: Case | None  # None: a cycle id that is not a sane YYYY-MM (the case's id says which)
    root: Path
    before: dict[str, str]
    done: Future[subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module", autouse=True)
def command_runs(pristine: Path, tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> Iterator[dict[str, CommandRun]]:
    """The command sample (the cases selected), started at the module's first test and run one at a time in the
    background (a second core, while the in-process cases use the first): each process mostly imports."""
    prefix = "test_case_through_the_command["
    selected = [item.name[len(prefix):-1] for item in request.session.items if item.name.startswith(prefix)]
    runs: dict[str, CommandRun] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        for case_id in selected:
            case = next((c for c in CASES if c.id == case_id), None)
            assert case is not None or case_id in CLI_CYCLES, case_id
            cycle = CLI_CYCLES.get(case_id, case.cycle if case else CYCLE)
            root = prepare(case or Case(case_id, nothing, "refused", "", ""), pristine,
                           tmp_path_factory.mktemp("command"))
            runs[case_id] = CommandRun(case, root, digest(root / "inputs"), pool.submit(sop_validate, root, cycle))
        yield runs


@pytest.mark.parametrize("case_id", CLI_SAMPLE + list(CLI_CYCLES))
def test_case_through_the_command(case_id: str, command_runs: dict[str, CommandRun]) -> None:
    """A sample through the real `sop validate`: the exit code, stderr without a traceback, nothing written but
    the list of problems under data/validation/."""
    run = command_runs[case_id]
    case, root, proc = run.case, run.root, run.done.result()
    assert "Traceback" not in proc.stderr, proc.stderr
    if case is None:  # a cycle id that is not a sane YYYY-MM
        assert proc.returncode == 2 and "Cycle" in proc.stderr, proc.stderr
    elif case.outcome == "refused":
        assert proc.returncode == 2, (proc.stdout, proc.stderr)
        assert case.file in proc.stderr and case.text in proc.stderr, proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("OK:"), proc.stdout
    assert digest(root / "inputs") == run.before
    assert not (root / "reports").exists() and not (root / "data" / "cycles").exists()
    written = [p for p in (root / "data").rglob("*") if p.is_file()] if (root / "data").exists() else []
    assert all(p.parent.name == "validation" and p.name.startswith("problems-") for p in written), written


def test_corpus_counts() -> None:
    """The corpus' size and what became of it (run with -rA to read the counts)."""
    outcomes = Counter(c.outcome for c in CASES)
    tables = {c.id.split("-")[0] for c in CASES}
    summary = (f"{len(CASES)} cases: {outcomes['refused']} refused (exit 2, file and problem named), "
               f"{outcomes['warned']} accepted with a warning, {outcomes['default']} accepted with a stated default, "
               f"{outcomes['valid']} accepted as valid (a format or value the contract reads, each with its reason); "
               f"{len(CLI_SAMPLE) + len(CLI_CYCLES)} also through the `sop validate` command")
    print(summary)
    assert len(CASES) >= 200, summary
    assert len({c.id for c in CASES}) == len(CASES)  # ids are unique
    assert set(TABLES) <= tables
    assert all(c.why for c in CASES if c.outcome != "refused")
