"""What a mapping must agree with: the contract's tables and columns, and what each kind of source can read.

:func:`meaning_problems` checks a mapping as read from YAML (a plain dict, so that it runs even where the
structure check failed and every problem is reported at once): known tables, contract columns or helper columns
that some expression uses, known source names, the contract's required columns given, aggregate columns that are
not part of the key, one of ``keep``/``drop`` per filter, a ``date_format`` that is a strptime format, and source
options that fit the source's format. The contract helpers (:func:`key_columns`, :func:`column_kind`, …) read the
pandera models of :mod:`sop_lib.data.contract`, so a change of the contract needs no change here.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

from sop_lib.data.contract import TABLES, columns_of, key_of, required_columns_of

AGGREGATES = ("sum", "mean", "min", "max", "first", "last", "mode")
SUFFIX_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".xlsm": "excel",
                  ".parquet": "parquet", ".pq": "parquet"}
_CSV_KEYS = ("separator", "encoding", "decimal", "thousands")
_SQL_KEYS = ("query", "database", "url")


# --- what the contract says about a table ----------------------------------------------------------------------
# the contract's own helpers, under the names this package reads best with
contract_columns = columns_of
key_columns = key_of
required_columns = required_columns_of


def column_kind(table: str, column: str) -> Literal["month", "number", "text", "helper"]:
    """How a column of a table is read: a month, a number, text, or a helper (not in the contract)."""
    columns = TABLES[table].model.to_schema().columns
    if column not in columns:
        return "helper"
    if column in TABLES[table].month_columns or str(columns[column].dtype).startswith("datetime"):
        return "month"
    return "number" if str(columns[column].dtype).startswith(("float", "int")) else "text"


def nullable_columns(table: str) -> set[str]:
    return {name for name, col in TABLES[table].model.to_schema().columns.items() if col.nullable}


def format_of_path(path: str) -> str | None:
    """The format a file's suffix tells (``orders.csv.gz`` → csv), or ``None``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _mapping(value: Any) -> dict[Any, Any]:
    """A block of the YAML as a mapping; anything else (absent, a list, text) as an empty one (the structure check
    reports it)."""
    return value if isinstance(value, dict) else {}


def meaning_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """What the structure check cannot see: names against the contract and the sources, and source options."""
    out: list[tuple[str, str]] = []
    sources = _mapping(raw.get("sources"))
    for name, block in sources.items():
        out.extend(_source_problems(block, f"sources.{name}"))
    for table, block in _mapping(raw.get("tables")).items():
        key = f"tables.{table}"
        if table not in TABLES:
            out.append((key, f"unknown table{_did_you_mean(str(table), list(TABLES))}; the contract's tables are: "
                             f"{', '.join(TABLES)}"))
            continue
        if not isinstance(block, dict):
            continue
        ref = block.get("source")
        if isinstance(ref, str) and ref not in sources:
            known = ", ".join(sources) if sources else "none (no sources: block)"
            out.append((f"{key}.source", f"unknown source '{ref}'{_did_you_mean(ref, list(sources))}; the "
                                         f"sources are: {known}"))
        elif isinstance(ref, dict):
            out.extend(_source_problems(ref, f"{key}.source"))
        out.extend(_table_problems(table, block, key))
    return out


def _source_problems(block: Any, key: str) -> list[tuple[str, str]]:
    if not isinstance(block, dict):
        return [] if block is None else [(key, "must be a block of keys (path:, format:, …)")]
    out: list[tuple[str, str]] = []
    fmt = block.get("format")
    path = block.get("path")
    if fmt not in (None, "csv", "excel", "parquet", "sql"):
        return out  # the structure check reports it
    kind = fmt or ("sql" if block.get("query") else (format_of_path(str(path)) if path else None))
    if kind is None and path and str(path).lower().endswith(".xls"):
        out.append((f"{key}.path", f"'{path}' is an old-style Excel workbook (.xls): open it in Excel or "
                                   "LibreOffice and save it as .xlsx"))
    elif kind is None and path:
        out.append((f"{key}.path", f"cannot tell the format of '{path}' from its suffix; name a .csv, .txt, .tsv "
                                   "(optionally .gz), .xlsx, .xlsm or .parquet file, or set format:"))
    elif kind is None:
        out.append((key, "give path: (a file) or query: (SQL)"))
    if kind is None:
        return out
    if kind == "sql":
        if not block.get("query"):
            out.append((f"{key}.query", "missing: a sql source needs query: (the SQL that returns the rows)"))
        if block.get("database") and block.get("url"):
            out.append((key, "give database: (a DuckDB file) or url: (SQLAlchemy), not both"))
        if path:
            out.append((f"{key}.path", "a sql source reads files inside its query (FROM 'raw/x.parquet'); "
                                       "remove path:"))
    elif kind is not None:
        out.extend((f"{key}.{k}", f"applies to sql sources only (this one is {kind})")
                   for k in _SQL_KEYS if block.get(k) is not None)
    if kind in ("excel", "parquet", "sql"):
        out.extend((f"{key}.{k}", f"applies to csv sources only (this one is {kind})")
                   for k in _CSV_KEYS if block.get(k) is not None)
    if kind != "excel" and block.get("sheet") is not None:
        out.append((f"{key}.sheet", f"applies to excel sources only (this one is {kind})"))
    for k in ("decimal", "thousands"):
        if isinstance(block.get(k), str) and len(block[k]) != 1:
            out.append((f"{key}.{k}", f"one character, e.g. \",\" or \".\" (got '{block[k]}')"))
    if block.get("decimal") is not None and block.get("decimal") == block.get("thousands"):
        out.append((f"{key}.thousands", "must differ from decimal"))
    sep = block.get("separator")
    if isinstance(sep, str) and len(sep) != 1 and sep.lower() not in ("\\t", "tab"):
        out.append((f"{key}.separator", f"one character, e.g. \";\", \"|\" or \"\\t\" for tab (got '{sep}')"))
    return out


def _table_problems(table: str, block: dict[str, Any], key: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    contract = contract_columns(table)
    named = {part: _mapping(block.get(part)) for part in ("columns", "constants", "derive")}
    produced = set(named["columns"]) | set(named["constants"]) | set(named["derive"])
    texts = [str(v) for part in ("columns", "derive") for v in named[part].values()]
    texts += [str(f.get(k, "")) for f in (block.get("having") or []) if isinstance(f, dict) for k in ("keep", "drop")]
    aggregate = block.get("aggregate")
    agg_cols = list(aggregate) if isinstance(aggregate, dict) else []
    for part in ("columns", "constants", "derive"):
        for col in named[part]:
            if col in contract or _referenced(str(col), texts, agg_cols, named[part].get(col)):
                continue
            out.append((f"{key}.{part}.{col}",
                        f"not a column of {table}{_did_you_mean(str(col), contract)} (its columns: "
                        f"{', '.join(contract)}), nor a helper column used by another expression or aggregate"))
    out.extend((f"{key}.constants.{col}", "set in both columns: and constants:; keep one")
               for col in set(named["columns"]) & set(named["constants"]))
    missing = [c for c in required_columns(table) if c not in produced]
    if missing:
        out.append((key, f"no value for the contract's required column(s) {', '.join(missing)}: give each under "
                         "columns:, constants: or derive:"))
    keys = key_columns(table)
    for col in agg_cols:
        if col in keys:
            out.append((f"{key}.aggregate.{col}", f"part of the key ({', '.join(keys)}): rows are grouped by it"))
        elif col not in set(named["columns"]) | set(named["constants"]):
            out.append((f"{key}.aggregate.{col}", "not a column built under columns: or constants:"))
    for part in ("filters", "having"):
        for i, flt in enumerate(block.get(part) or []):
            if isinstance(flt, dict) and (flt.get("keep") is None) == (flt.get("drop") is None):
                out.append((f"{key}.{part}[{i}]", "give keep: (rows to keep) or drop: (rows to remove), one of them"))
    fmt = block.get("date_format", "auto")
    if isinstance(fmt, str) and fmt not in ("auto", "ISO8601") and "%" not in fmt:
        out.append((f"{key}.date_format", f"'{fmt}' is not a strptime format: write e.g. '%d/%m/%y' for 13/01/11, "
                                          "'%m/%d/%Y' for 1/13/2011, or auto"))
    return out


def _referenced(col: str, texts: list[str], agg_cols: list[str], own: Any) -> bool:
    """Whether a helper column is used: named in another expression (as a word) or in ``aggregate``."""
    if col in agg_cols:
        return True
    word = re.compile(rf'(?<![\w"]){re.escape(col)}(?![\w"])|"{re.escape(col)}"', re.IGNORECASE)
    return any(word.search(t) for t in texts if t != str(own))
