"""Building the contract tables from a mapping: read → filters → columns → months and numbers → aggregate →
derive → having → checks.

For each table of the mapping, in this order:

1. the source is read (once, even when several tables use it); CSV and Excel columns whose every value is a plain
   number become numbers, except columns renamed to a text or date column of the contract (codes stay exact);
2. ``filters`` run in order on the source rows (each counted);
3. ``columns`` are built (a rename, or a SQL expression) and ``constants`` added;
4. the table's date columns (the contract's ``month_columns``) are read with ``date_format`` or a detected format
   and set to the first of their month; number columns are read as numbers; text is kept exactly;
5. ``aggregate`` groups the rows by the table's key (so order lines add up to months);
6. ``derive`` adds columns computed from the grouped ones; ``having`` filters the result;
7. the contract's columns are checked (missing values, duplicate keys, the contract's own rules).

Every problem of every table is collected; :func:`build_tables` raises :class:`ImportFailed` listing them all, or
returns the tables and their reports. Nothing is written here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from sop_lib.data.contract import TABLES
from sop_lib.data.importer import sql
from sop_lib.data.importer.checks import check_output, contract_values
from sop_lib.data.importer.mapping import Mapping, TableMap
from sop_lib.data.importer.problems import ImportFailed, MappingError, problem, problem_frame, row_problems
from sop_lib.data.importer.report import ImportResult, TableReport
from sop_lib.data.importer.rules import column_kind, key_columns
from sop_lib.data.importer.sources import SourceData, SourceProblem, read_source
from sop_lib.data.importer.values import exact_text, numeric_column, read_numbers

Echo = Callable[[str], None]


def build_tables(mapping: Mapping, base_dir: Path, echo: Echo = print) -> ImportResult:
    """Build every table of ``mapping`` from its source (relative paths against ``base_dir``), printing each
    table's report through ``echo``. Raises :class:`ImportFailed` listing every problem of every table."""
    name = mapping.path.name if mapping.path else "the mapping"
    if not mapping.tables:
        raise MappingError(
            f"{name} maps no tables yet: every key in it is still commented out (or it has no tables: block). "
            "Uncomment and fill in a sources: and a tables: entry for at least sales_history (docs/import.md has "
            "worked examples), then run `sop import` again. Nothing was imported.")
    con = sql.connect(str(Path(base_dir).resolve()))
    cache: dict[str, SourceData | SourceProblem] = {}
    tables: dict[str, pd.DataFrame] = {}
    reports: dict[str, TableReport] = {}
    found: list[object] = []
    try:
        for table in mapping.tables:
            frame, report, problems = _build_one(con, mapping, table, Path(base_dir), cache)
            for line in report.lines():
                echo(line)
            reports[table] = report
            found.extend(problems)
            if frame is not None:
                tables[table] = frame
    finally:
        con.close()
    if found:
        raise ImportFailed(problem_frame(found), name)
    return ImportResult(tables, reports, mapping.path)


def _read_cached(cache: dict[str, SourceData | SourceProblem], mapping: Mapping, table: str,
                 base_dir: Path) -> SourceData:
    source, key, cache_key = mapping.source_of(table)
    if cache_key not in cache:
        try:
            cache[cache_key] = read_source(source, base_dir, key)
        except SourceProblem as exc:
            cache[cache_key] = exc
    got = cache[cache_key]
    if isinstance(got, SourceProblem):
        raise got
    return got


def _source_name(tmap: TableMap) -> str:
    return f"source {tmap.source}" if isinstance(tmap.source, str) else "inline source"


def _build_one(
    con: duckdb.DuckDBPyConnection, mapping: Mapping, table: str, base_dir: Path,
    cache: dict[str, SourceData | SourceProblem],
) -> tuple[pd.DataFrame | None, TableReport, list[object]]:
    tmap = mapping.tables[table]
    report = TableReport(table, source=_source_name(tmap))
    try:
        data = _read_cached(cache, mapping, table, base_dir)
    except SourceProblem as exc:
        report.failed = True
        return None, report, [problem(table, None, "", f"{exc.key}: {exc}")]
    report.source = f"{_source_name(tmap)} ({data.label})"
    report.rows_read, report.notes = data.rows, list(data.notes)
    where = f"{_source_name(tmap)} ({data.label})"
    try:
        current = _load_source(con, table, tmap, data)
        current, report.filters = sql.apply_filters(con, current, tmap.filters, f"tables.{table}.filters", where)
        report.rows_kept = sql.count(con, current)
        current = sql.select_columns(con, current, tmap.columns, f"tables.{table}.columns", where)
        frame = con.execute(f"SELECT * FROM {current}").df()
        frame, problems = contract_values(table, tmap, frame, data, report)
        if problems:
            report.failed = True
            return None, report, problems
        frame = _group_and_derive(con, table, tmap, frame, report)
    except sql.SqlProblem as exc:
        report.failed = True
        return None, report, [problem(table, None, "", f"{exc.key}: {exc}"), *_text_numbers(table, tmap, data)]
    out, problems = check_output(table, tmap, frame, report)
    if problems:
        report.failed = True
        return None, report, problems
    report.rows_written = len(out)
    _add_hints(table, out, report)
    return out, report, []


def _load_source(con: duckdb.DuckDBPyConnection, table: str, tmap: TableMap, data: SourceData) -> str:
    """Put the source's rows in DuckDB as ``t_<table>`` with the row numbers; text columns that are numbers
    throughout become numbers, except those renamed to a text or date column of the contract."""
    first, n = data.first_row, data.rows
    rows = np.arange(first, first + n, dtype="int64")
    if isinstance(data.frame, pd.DataFrame):
        keep_text = {expr for col, expr in tmap.columns.items()
                     if expr in data.columns and column_kind(table, col) in ("text", "month")}
        columns: dict[str, pd.Series] = {}
        for col in data.columns:
            if col == sql.ROW:
                continue
            columns[col] = _prepared(data, col, col in keep_text)
        relation: object = pd.DataFrame(columns).assign(**{sql.ROW: rows})
    else:
        import pyarrow as pa_

        arrow = data.frame
        relation = arrow.append_column(sql.ROW, pa_.array(rows))  # type: ignore[attr-defined]
    view = f"v_{table}"
    con.register(view, relation)
    con.execute(f"CREATE OR REPLACE TEMP TABLE t_{table} AS SELECT * FROM {view}")
    con.unregister(view)
    return f"t_{table}"


def _text_numbers(table: str, tmap: TableMap, data: SourceData) -> list[object]:
    """When an expression fails, the likely cause: a column the expression uses as a number is text in SQL because
    some of its values are not numbers. Those values, with their rows."""
    if not data.textual:
        return []
    texts = [f.condition for f in tmap.filters] + list(tmap.columns.values())
    found: list[object] = []
    for col, values in [(c, v) for (c, as_text), v in data.prepared.items() if not as_text]:
        if values.dtype != object or not any(re.search(rf"(?<![\w]){re.escape(col)}(?![\w])", t) for t in texts):
            continue
        numbers = read_numbers(values, data.decimal, data.thousands)
        bad = numbers.isna() & values.notna()
        if numbers.notna().any() and bad.any():
            rows = pd.Series(np.flatnonzero(bad.to_numpy()) + data.first_row)
            found.append(row_problems(table, rows, col, f"not a number, so {col} is text in SQL where the "
                                      "mapping needs a number", values[bad]))
    return found


def _prepared(data: SourceData, column: str, as_text: bool) -> pd.Series:
    """A source column as DuckDB gets it (kept per source: tables built from one source share the work)."""
    if not data.textual:
        return data.frame[column].reset_index(drop=True)  # type: ignore[index]
    if (column, as_text) not in data.prepared:
        values = data.frame[column].reset_index(drop=True)  # type: ignore[index]
        number = None if as_text else numeric_column(values, data.decimal, data.thousands)
        if number is None:
            number = data.prepared.get((column, True))
            number = number if number is not None else exact_text(values)
        data.prepared[(column, as_text)] = number
    return data.prepared[(column, as_text)]


def _functions(tmap: TableMap, frame: pd.DataFrame, keys: list[str]) -> dict[str, str]:
    """The aggregate function of every column that is not a key (see ``docs/import.md``)."""
    chosen = tmap.aggregate if isinstance(tmap.aggregate, dict) else {}
    single = tmap.aggregate if isinstance(tmap.aggregate, str) else "sum"
    out = {}
    for col in frame.columns:
        if col in keys or col == sql.ROW:
            continue
        is_number = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
        if col in chosen:
            out[col] = chosen[col]
        elif is_number or single in ("first", "last", "mode", "min", "max"):
            out[col] = single
        else:
            out[col] = "max" if pd.api.types.is_datetime64_any_dtype(frame[col]) else "mode"
    return out


def _aggregate_words(tmap: TableMap) -> str:
    if isinstance(tmap.aggregate, dict):
        named = ", ".join(f"{c}: {f}" for c, f in tmap.aggregate.items())
        return f"{named}; other numbers summed, text its most frequent value"
    if tmap.aggregate in ("sum", "mean"):
        verb = "summed" if tmap.aggregate == "sum" else "averaged"
        return f"numbers {verb}, text its most frequent value"
    return f"{tmap.aggregate} of every column"


def _group_and_derive(
    con: duckdb.DuckDBPyConnection, table: str, tmap: TableMap, frame: pd.DataFrame, report: TableReport
) -> pd.DataFrame:
    view, current = f"v_{table}_built", f"t_{table}_built"
    con.register(view, frame)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {current} AS SELECT * FROM {view}")
    con.unregister(view)
    keys = key_columns(table)
    order = sql.ROW
    if tmap.aggregate is not None:
        current = sql.aggregate(con, current, keys, _functions(tmap, frame, keys), f"tables.{table}.aggregate")
        report.aggregate = (f"aggregated to one row per {', '.join(keys)} ({_aggregate_words(tmap)}): "
                            f"{len(frame):,} rows → {sql.count(con, current):,}")
        order = ", ".join(sql.quote(k) for k in keys)
    current = sql.derive(con, current, tmap.derive, f"tables.{table}.derive")
    current, report.having = sql.apply_filters(con, current, tmap.having, f"tables.{table}.having",
                                               "the table's columns")
    return con.execute(f"SELECT * FROM {current} ORDER BY {order}").df()


def _add_hints(table: str, out: pd.DataFrame, report: TableReport) -> None:
    months = [c for c in TABLES[table].month_columns if c in out and out[c].notna().any()]
    if "period" in months:
        first, last = out["period"].min(), out["period"].max()
        report.months = f"months {first:%Y-%m} … {last:%Y-%m}" if first != last else f"month {first:%Y-%m}"
    if table != "sales_history" or out.empty:
        return
    per_month = out.groupby("period")["units"].sum().sort_index()
    if len(per_month) >= 4:
        last, typical = per_month.iloc[-1], per_month.iloc[:-1].tail(12).median()
        if typical > 0 and last < 0.5 * typical:
            report.hints.append(
                f"the last month, {per_month.index[-1]:%Y-%m}, has {last / typical:.0%} of the units of a typical "
                f"month: if it is not over yet, pass --cycle {per_month.index[-1]:%Y-%m} to plan from the month "
                "before (rows of the cycle month are left out)")

