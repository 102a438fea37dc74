"""The SQL steps of an import, run by DuckDB: filters, columns, aggregation, derived columns.

Each step reads one temporary table and writes the next, so each filter's removed rows can be counted. Every
table carries ``__sop_row``, the source row number, so a problem can name its row. DuckDB runs with
``old_implicit_casting`` so that text functions take number columns (``starts_with(InvoiceNo, 'C')`` works
when a file holds no cancellation and ``InvoiceNo`` reads as numbers). A failing expression raises
:class:`SqlProblem` with the key path of the mapping it comes from and DuckDB's message on one line.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping as MappingType

import duckdb

from sop_lib.data.importer.mapping import Filter
from sop_lib.data.importer.report import FilterStep

ROW = "__sop_row"
_FUNCTIONS = {"sum": "sum({c})", "mean": "avg({c})", "min": "min({c})", "max": "max({c})",
              "first": "first({c} ORDER BY __sop_row) FILTER (WHERE {c} IS NOT NULL)",
              "last": "last({c} ORDER BY __sop_row) FILTER (WHERE {c} IS NOT NULL)"}
_MISSING_COLUMN = re.compile(r'Referenced column "?([^"]+?)"? not found')


class SqlProblem(Exception):
    """An expression of the mapping failed in DuckDB. ``key`` is its key path."""

    def __init__(self, message: str, key: str) -> None:
        self.key = key
        super().__init__(message)


def quote(name: str) -> str:
    """A column name as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(base_dir: str = "") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB; files named in expressions (``sku IN (SELECT sku FROM 'raw/keep.csv')``) are found
    relative to ``base_dir``, the mapping's folder."""
    con = duckdb.connect()
    with contextlib.suppress(duckdb.Error):  # a DuckDB without it: text functions need CAST(x AS VARCHAR)
        con.execute("SET old_implicit_casting = true")
    if base_dir:
        con.execute("SET file_search_path = ?", [base_dir])
    return con


def duck_message(exc: BaseException, columns: list[str] | None = None, where: str = "the source") -> str:
    """DuckDB's message on one line; a missing column is said with the columns there are."""
    text = str(exc)
    missing = _MISSING_COLUMN.search(text)
    if missing and columns is not None:
        shown = ", ".join(c for c in columns if c != ROW)
        return f'column "{missing.group(1)}" is not in {where}; its columns are: {shown}'
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else exc.__class__.__name__


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0  # count(*) always has its row


def apply_filters(
    con: duckdb.DuckDBPyConnection, table: str, filters: list[Filter], key: str, where: str
) -> tuple[str, list[FilterStep]]:
    """Apply ``filters`` in order to ``table``; returns the last table written and a step per filter.

    ``keep`` keeps the rows where the condition is true (false or NULL: removed); ``drop`` removes the rows where
    it is true (false or NULL: kept). ``key`` is the key path of the list (``tables.x.filters``)."""
    steps = []
    current, before = table, count(con, table)
    for i, flt in enumerate(filters):
        test = f"coalesce(({flt.condition}\n), false)"
        out = f"{table}_{key.rsplit('.', 1)[-1]}{i}"
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * FROM {current} "
                        f"WHERE {test if flt.kind == 'keep' else 'NOT ' + test}")
        except duckdb.Error as exc:
            raise SqlProblem(duck_message(exc, columns_of(con, current), where),
                             f"{key}[{i}].{flt.kind}") from None
        after = count(con, out)
        steps.append(FilterStep(flt.kind, flt.condition, flt.reason, before - after))
        current, before = out, after
    return current, steps


def select_columns(
    con: duckdb.DuckDBPyConnection, table: str, columns: MappingType[str, str], key: str, where: str
) -> str:
    """Build ``table``'s columns: a value that is exactly a column of ``table`` is a rename, anything else a SQL
    expression (which may use columns named before it). Returns the table written."""
    have = columns_of(con, table)
    items = [f"{quote(expr) if expr in have else '(' + expr + chr(10) + ')'} AS {quote(col)}"
             for col, expr in columns.items()]
    out = f"{table}_columns"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT {ROW}{''.join(', ' + i for i in items)} "
                    f"FROM {table}")
    except duckdb.Error as exc:
        names = list(columns)
        for i in range(len(items)):  # which expression: the first prefix of the list that fails
            try:
                con.execute(f"SELECT max(hash({quote(names[i])})) FROM (SELECT {', '.join(items[: i + 1])} "
                            f"FROM {table})").fetchall()
            except duckdb.Error as inner:
                raise SqlProblem(duck_message(inner, have, where), f"{key}.{names[i]}") from None
        raise SqlProblem(duck_message(exc, have, where), key) from None
    return out


def aggregate(
    con: duckdb.DuckDBPyConnection, table: str, keys: list[str], functions: dict[str, str], key: str
) -> str:
    """Group ``table`` by ``keys``; ``functions`` maps every other column to sum, mean, min, max, first, last or
    mode (the most frequent value; a tie goes to the value seen first in the source). ``__sop_row`` becomes the
    first source row of the group. Returns the table written."""
    by = ", ".join(quote(k) for k in keys)
    plain = [f"{_FUNCTIONS[fn].format(c=quote(col))} AS {quote(col)}"
             for col, fn in functions.items() if fn != "mode"]
    modes = [col for col, fn in functions.items() if fn == "mode"]
    ctes = [f"g AS (SELECT {by}, {', '.join([*plain, f'min({ROW}) AS {ROW}'])} FROM {table} GROUP BY {by})"]
    joins = ""
    for i, col in enumerate(modes):
        c = quote(col)
        ctes.append(f"m{i} AS (SELECT {by}, first({c} ORDER BY n DESC, r) AS {c} FROM (SELECT {by}, {c}, "
                    f"count(*) AS n, min({ROW}) AS r FROM {table} WHERE {c} IS NOT NULL GROUP BY ALL) GROUP BY {by})")
        joins += f" LEFT JOIN m{i} USING ({by})"
    out = f"{table}_grouped"
    picked = "".join(f", m{i}.{quote(col)}" for i, col in enumerate(modes))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS WITH {', '.join(ctes)} SELECT g.*{picked} FROM g{joins}")
    except duckdb.Error as exc:
        raise SqlProblem(duck_message(exc), key) from None
    return out


def derive(con: duckdb.DuckDBPyConnection, table: str, derived: MappingType[str, str], key: str) -> str:
    """Add (or replace) columns computed from the columns of ``table``, one after the other, so each may use the
    ones before it. Returns the table written."""
    current = table
    for i, (col, expr) in enumerate(derived.items()):
        have = columns_of(con, current)
        value = f"({expr}\n) AS {quote(col)}"
        select = (f"* REPLACE ({value})" if col.lower() in {h.lower() for h in have} else f"*, {value}")
        out = f"{table}_derived{i}"
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT {select} FROM {current}")
        except duckdb.Error as exc:
            raise SqlProblem(duck_message(exc, have, "the table's columns"), f"{key}.{col}") from None
        current = out
    return current
