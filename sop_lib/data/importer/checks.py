"""The contract's columns of a table being built: read as months, numbers or exact text, and checked.

:func:`contract_values` runs on the source rows before aggregation (so a problem names its source row);
:func:`check_output` on the finished table (missing values, duplicate keys, numbers that are not finite, and the
contract's own rules through its pandera model, lazily: every problem at once).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa

from sop_lib.data.contract import TABLES
from sop_lib.data.dates import describe_format
from sop_lib.data.importer import sql
from sop_lib.data.importer.mapping import TableMap
from sop_lib.data.importer.problems import problem, row_problems
from sop_lib.data.importer.report import TableReport
from sop_lib.data.importer.rules import column_kind, contract_columns, key_columns, nullable_columns
from sop_lib.data.importer.sources import SourceData
from sop_lib.data.importer.values import MonthReading, exact_text, read_months, read_numbers
from sop_lib.data.validate import readable_check

_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})*,\d+$|^[+-]?\d+,\d+$")


def _origin(tmap: TableMap, column: str, data: SourceData) -> str:
    expr = tmap.columns.get(column)
    return expr if expr is not None and expr in data.columns else column


def _constant(table: str, column: str, value: object, n: int, problems: list[object]) -> pd.Series:
    kind = column_kind(table, column)
    values = pd.Series([value] * n, dtype=object)
    if kind == "month" and value is not None:
        reading = read_months(pd.Series([value], dtype=object))
        if reading.months.isna().all():
            problems.append(problem(table, None, column, f"tables.{table}.constants.{column}: not a date "
                                                         "(write it as YYYY-MM or YYYY-MM-DD)", value))
        return pd.Series([reading.months.iloc[0]] * n, dtype="datetime64[ns]")
    if kind == "number" and value is not None:
        number = read_numbers(pd.Series([value], dtype=object)).iloc[0]
        if pd.isna(number):
            problems.append(problem(table, None, column, f"tables.{table}.constants.{column}: not a number", value))
        return pd.Series([number] * n, dtype=float)
    return values


def contract_values(
    table: str, tmap: TableMap, frame: pd.DataFrame, data: SourceData, report: TableReport
) -> tuple[pd.DataFrame, list[object]]:
    """Add the constants and read the contract's columns of ``frame`` (source rows, with ``__sop_row``): months
    (first of the month), numbers, exact text. Returns the frame and the problems found (with source rows)."""
    problems: list[object] = []
    for column, value in tmap.constants.items():
        frame[column] = _constant(table, column, value, len(frame), problems).to_numpy()
    rows = frame[sql.ROW]
    reported: dict[str, pd.Series] = {}
    for column in [c for c in frame.columns if c != sql.ROW]:
        kind = column_kind(table, column)
        if kind == "month" and column not in tmap.constants:
            reading = read_months(frame[column], tmap.date_format)
            origin = _origin(tmap, column, data)
            problems.extend(_month_problems(table, tmap, column, origin, reading, frame[column], rows))
            if reading.how not in ("empty",):
                report.dates[column] = f"dates in {origin} read as {reading.label}"
            frame[column] = reading.months
            unknown = reading.how in ("ambiguous", "unreadable")  # said once for the column, not per row
            reported[column] = pd.Series(unknown, index=frame.index) | reading.unread
        elif kind == "number" and column not in tmap.constants:
            numbers = read_numbers(frame[column], data.decimal, data.thousands)
            bad = numbers.isna() & frame[column].notna()
            if bad.any():
                problems.extend(_number_problems(table, column, frame[column], bad, rows, data))
            frame[column] = numbers
            reported[column] = bad
        elif kind == "text":
            frame[column] = exact_text(frame[column])
    nullable = nullable_columns(table)
    for column in [c for c in contract_columns(table) if c in frame.columns and c not in nullable]:
        missing = frame[column].isna() & ~reported.get(column, pd.Series(False, index=frame.index))
        if missing.any():
            problems.append(row_problems(table, rows[missing], column, "value is missing", frame[column][missing]))
    return frame, problems


def _number_problems(
    table: str, column: str, values: pd.Series, bad: pd.Series, rows: pd.Series, data: SourceData
) -> list[pd.DataFrame]:
    comma = bad & values.astype(str).str.match(_DECIMAL_COMMA) if data.decimal == "." else bad & False
    plain = bad & ~comma
    out = [row_problems(table, rows[plain], column, "not a number", values[plain])]
    if comma.any():
        out.append(row_problems(table, rows[comma], column,
                                "not a number (a decimal comma? add `decimal: \",\"` to the source)", values[comma]))
    return out


def _month_problems(
    table: str, tmap: TableMap, column: str, origin: str, reading: MonthReading, values: pd.Series, rows: pd.Series
) -> list[object]:
    where = f"tables.{table}.date_format"
    if reading.how == "ambiguous":
        a, b = reading.ties[:2]
        return [problem(table, None, column,
                        f"dates in {origin} could be {describe_format(a)} or {describe_format(b)} (no day above 12 "
                        f"tells which): set {where} to '{a}' or '{b}'", reading.example)]
    if reading.how == "unreadable":
        return [problem(table, None, column,
                        f"no date format reads the dates in {origin}: set {where} to the strptime format they "
                        "are written in (e.g. '%d.%m.%Y' for 13.01.2011)", reading.example)]
    if reading.unread.any():
        label = reading.label
        return [row_problems(table, rows[reading.unread], column, f"not a date (dates in {origin} read as {label})",
                             values[reading.unread])]
    return []


def _where(frame: pd.DataFrame, index: pd.Index, keys: list[str]) -> pd.Series:
    """A row of a grouped table said by its key: ``period=2011-01-01, sku=85123A``."""
    parts = [f"{k}=" + exact_text(frame.loc[index, k]).fillna("").astype(str) for k in keys if k in frame]
    if not parts:
        return pd.Series("", index=index)
    out = parts[0]
    for part in parts[1:]:
        out = out + ", " + part
    return out


def check_output(
    table: str, tmap: TableMap, frame: pd.DataFrame, report: TableReport
) -> tuple[pd.DataFrame, list[object]]:
    """The finished table: the contract's columns in contract order, checked. Returns it and the problems."""
    grouped = tmap.aggregate is not None
    keys = key_columns(table)
    columns = [c for c in contract_columns(table) if c in frame.columns]
    out = frame[columns].copy()
    rows = frame[sql.ROW] if (sql.ROW in frame and not grouped) else pd.Series(pd.NA, index=frame.index)
    label = _where(frame, frame.index, keys)
    problems: list[object] = []
    if out.empty:
        steps = report.filters + report.having
        why = "; the filters removed every row" if any(s.removed for s in steps) else ""
        if not TABLES[table].required:  # an optional table may be a header only
            report.hints.append(f"no rows to write{why}: {table}.csv will hold only its header")
            return out.reset_index(drop=True), []
        return out, [problem(table, None, "", f"no rows to write{why}")]
    for column in columns:
        kind = column_kind(table, column)
        if kind == "number":
            numbers = read_numbers(out[column])
            bad = numbers.notna() & ~np.isfinite(numbers.fillna(0))
            bad |= numbers.isna() & out[column].notna()
            if bad.any():
                problems.append(row_problems(table, rows[bad], column,
                                             "not a finite number (a division by zero in derive:?)", label[bad]))
            out[column] = numbers
        elif kind == "text":
            out[column] = exact_text(out[column])
        elif not pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = read_months(out[column], "auto").months
    for column in [c for c in columns if c not in nullable_columns(table)]:
        missing = out[column].isna()
        if missing.any():
            problems.append(row_problems(table, rows[missing], column, "value is missing", label[missing]))
    present = [k for k in keys if k in out]
    if present and len(present) == len(keys):
        dup = out.duplicated(subset=keys, keep=False)
        if dup.any():
            hint = "" if grouped else " (order lines? add `aggregate: sum`)"
            problems.append(row_problems(table, rows[dup], ", ".join(keys),
                                         f"duplicate key once dates are read as months{hint}", label[dup]))
    if not problems:
        problems.extend(_contract_rules(table, out, rows, label))
    return out.reset_index(drop=True), problems


def _rule_words(table: str, column: str, check: str) -> str:
    """A failed contract check in the words ``sop validate`` uses, with the import's own hint where one helps."""
    text = readable_check(check)
    if table == "sales_history" and column == "units" and check.startswith("greater_than_or_equal_to(0"):
        text += ("; months where returns exceed sales: remove them with `having: [{keep: \"units >= 0\"}]` "
                 "or leave returns out with filters:")
    return text


def _contract_rules(table: str, out: pd.DataFrame, rows: pd.Series, label: pd.Series) -> list[dict[str, object]]:
    """The contract's own checks (ranges, allowed values) on the finished table, every failure at once."""
    try:
        TABLES[table].model.validate(out, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["index"].notna() & ~cases["check"].astype(str).str.startswith(("dtype(", "coerce_dtype"))]
        found = []
        for rec in cases.itertuples(index=False):
            idx = int(rec.index)
            if str(rec.check) in ("not_nullable", "field_uniqueness", "multiple_fields_uniqueness"):
                continue  # reported above with the key
            where = label.get(idx, "")
            found.append(problem(table, None if pd.isna(rows.get(idx)) else int(rows[idx]), str(rec.column),
                                 _rule_words(table, str(rec.column), str(rec.check)),
                                 f"{rec.failure_case} ({where})" if where else rec.failure_case))
        return found
    return []
