"""Validate an inputs folder against the contract, lazily: every problem at once, as a table.

Problems stop the cycle (``InputInvalid``); warnings are kept in the snapshot manifest and shown in the
pack's data-quality page. Both tables have the columns ``file``, ``row``, ``column``, ``problem``, ``value``,
sorted by file and row. Assumptions are the defaults taken for the optional tables and columns the extract
did not have (``contract.ASSUMPTIONS``): a list of ``{"table": ..., "assumption": ...}`` kept in the manifest.

Each table is checked against its contract alone (types, ranges, plausible bounds, keys), then the tables
together and over time (``health.check_health``: keys that match nothing, a stale or gapped history, dates far
from the rest). A problem is reported once, where it starts: a date column written in another format is one
problem naming the format found (not one per row); a row whose date or key could not be read is not also a
duplicate key; an unreadable number does not hide the problems of the other cells of its column.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pandera.pandas as pa

from sop_lib.core.errors import InputInvalid
from sop_lib.data.contract import (
    TABLES,
    Assumption,
    TableSpec,
    column_defaults,
    columns_of,
    defaults_taken,
    empty_table,
    key_of,
    required_columns_of,
)
from sop_lib.data.dates import guess_date_format, parse_dates
from sop_lib.data.health import PROBLEM_COLUMNS, Extract, Source, check_health
from sop_lib.data.health import problem as _problem
from sop_lib.data.input_files import RawTable, read_input_file

NOT_A_DATE = "not a date (expected YYYY-MM or YYYY-MM-DD)"
DATE_COLUMN_CELLS = 20  # from this many unreadable dates in a column (or half of its cells) on: one problem
DATE_COLUMN_SHARE = 0.5
ORDER_LINE_ROWS = 10  # from this many rows sharing keys (or 5 % of them) on: the "order lines" hint
UNIT_COST_MISSING = "unit cost missing: give every row a cost, or leave the column out"
NOT_A_NUMBER = "not a number"
FAR_DATE = ("a date outside the years 1678 … 2261 that can be read: a typo, or a marker such as 9999-12-31 for "
            "'no end'? Leave the cell empty instead")
_FAR_YEAR = r"^\s*(0\d{3}|1[0-5]\d\d|16[0-6]\d|167[0-7]|226[3-9]|22[7-9]\d|2[3-9]\d\d|[3-9]\d{3})-\d\d(-\d\d)?\b"
NOT_FINITE = "not a finite number (infinite, or an overflow such as 1e400): a typo or a broken export?"
FORMULA = "looks like a spreadsheet formula or markup (begins with =, +, @ or holds < or >): a corrupted cell?"


@dataclass
class ValidatedInputs:
    tables: dict[str, pd.DataFrame]
    sources: dict[str, Path | None]
    warnings: pd.DataFrame
    assumptions: list[Assumption] = field(default_factory=list)


class CheckedTables(NamedTuple):
    """What :func:`validate_tables` returns. ``present`` is False for an optional table the extract did not
    have (no file, or only its header): its table is empty, with the contract's columns."""

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame
    warnings: pd.DataFrame
    assumptions: list[Assumption]
    present: dict[str, bool]


def readable_check(check: str) -> str:
    """pandera's check names, in words a planner understands."""
    if check == "column_in_dataframe":
        return "required column is missing"
    if check == "not_nullable":
        return "value is missing"
    if check.startswith("coerce_dtype('datetime"):
        return NOT_A_DATE
    if check.startswith("coerce_dtype('float") or check.startswith("coerce_dtype('int"):
        return "not a number"
    if check.startswith("isin("):
        return "must be one of " + check[len("isin(") : -1]
    match = re.match(r"(greater_than_or_equal_to|greater_than|less_than_or_equal_to|less_than)\((.*)\)", check)
    if match:
        op = {"greater_than_or_equal_to": "≥", "greater_than": ">", "less_than_or_equal_to": "≤", "less_than": "<"}
        bound = float(match.group(2))
        text = f"must be {op[match.group(1)]} {bound:g}"
        # the contract's plausibility bounds (contract.MAX_*): far beyond real data, so say why
        return text + " (beyond any plausible figure: a typo?)" if abs(bound) >= 1e6 else text
    if check.startswith("str_length"):
        return "must not be blank"
    if check.startswith("str_matches"):
        return FORMULA
    return check


def _infinite(value: object) -> bool:
    """A failed value that is ±infinity ('inf', '1e400'); a missing value (NaN) is "value is missing"."""
    return isinstance(value, float) and math.isinf(value)


def _schema_problems(file: str, first_row: int, errors: pa.errors.SchemaErrors, text: pd.DataFrame,
                     unreadable: set[tuple[int, str]], misnamed: set[str]) -> list[dict[str, object]]:
    """pandera's failure cases as problems, each value as the file has it (``text``); cells already reported
    as unreadable dates or numbers, and columns already reported as misnamed, are left out. A value that is not
    finite is one problem ("not a finite number"), not also out of range."""
    fc = errors.failure_cases
    # a value that failed to convert also fails the dtype check and any value check: report it once
    fc = fc[~fc["check"].astype(str).str.startswith("dtype(")]
    fc = fc[~(fc["index"].isna() & fc["failure_case"].astype(str).str.startswith("TypeError"))]
    rows = []
    for rec in fc.itertuples(index=False):
        check = str(rec.check)
        if check == "column_in_dataframe":
            if str(rec.failure_case) not in misnamed:
                rows.append(_problem(file, None, str(rec.failure_case), readable_check(check)))
            continue
        index, column = None if pd.isna(rec.index) else int(rec.index), str(rec.column)
        if (index, column) in unreadable:
            continue
        words = NOT_FINITE if _infinite(rec.failure_case) else readable_check(check)
        value = "" if rec.failure_case is None or check == "not_nullable" else rec.failure_case
        if value != "" and index in text.index and column in text.columns:
            value = text.at[index, column]
        rows.append(_problem(file, None if index is None else index + first_row, column, words, value))
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS).drop_duplicates(["row", "column", "problem"]).to_dict("records")


def _misnamed_columns(frame: pd.DataFrame, spec: TableSpec, file: str) -> tuple[list[dict[str, object]], set[str]]:
    """Contract columns the file has under another spelling (``Units``, ``unit price``): one problem each,
    required or optional (an optional column read as absent would silently take its default)."""
    def plain(name: str) -> str:
        return re.sub(r"[^a-z0-9]", "", name.lower())

    problems, misnamed = [], set()
    for column in columns_of(spec.name):
        near = [str(c) for c in frame.columns if column not in frame.columns and plain(str(c)) == plain(column)]
        if near:
            misnamed.add(column)
            problems.append(_problem(file, None, column, (
                f"column '{near[0]}' is not read: the contract names it {column} (column names are exact, lower "
                "case): rename it"), near[0]))
    return problems, misnamed


def _float(value: object) -> float:
    text = str(value)
    try:
        return math.nan if "_" in text else float(text)
    except ValueError:
        return math.nan


def _parse_numbers(frame: pd.DataFrame, spec: TableSpec, file: str, first_row: int
                   ) -> tuple[pd.DataFrame, list[dict[str, object]], set[tuple[int, str]]]:
    """Read the number columns before the contract does, so one unreadable cell does not hide the other cells'
    problems: each unreadable cell is a problem with its row and value (with a hint for a decimal comma or a
    thousands separator); it is left blank and reported once."""
    frame = frame.copy()
    problems: list[dict[str, object]] = []
    unreadable: set[tuple[int, str]] = set()
    numbers = [n for n, c in spec.model.to_schema().columns.items() if str(c.dtype).startswith("float")]
    for col in numbers:
        if col not in frame.columns or (pd.api.types.is_numeric_dtype(frame[col])
                                        and not pd.api.types.is_bool_dtype(frame[col])):
            continue
        raw = frame[col].astype(object) if pd.api.types.is_bool_dtype(frame[col]) else frame[col]
        parsed = pd.to_numeric(raw.map(lambda v: None if isinstance(v, bool) else v), errors="coerce").astype(float)
        retry = parsed.isna() & raw.notna()  # pandas reads '1e400' as nothing; Python as infinity (reported so)
        if retry.any():
            parsed[retry] = raw[retry].map(_float)
        bad = raw[parsed.isna() & raw.notna()]
        frame[col] = parsed
        unreadable |= {(int(i), col) for i in bad.index}
        for i, v in bad.items():
            hint = (" (write numbers with a dot for decimals and no thousands separator)"
                    if re.fullmatch(r"[-+]?[\d.,' ]*\d[\d.,' ]*", str(v)) else "")
            problems.append(_problem(file, int(i) + first_row, col, NOT_A_NUMBER + hint, v))
    return frame, problems, unreadable


def _date_column_problem(bad: pd.Series, column: str, file: str, first_row: int) -> dict[str, object]:
    """One problem for a date column whose cells are (mostly) in another format, naming the format found."""
    guess = guess_date_format(bad)
    n, row, example = len(bad), int(bad.index[0]) + first_row, str(bad.iloc[0])
    many, they = (f"{n:,} dates are", "they look") if n != 1 else ("1 date is", "it looks")
    where = f"e.g. '{example}', first at row {row}"
    if guess.format or guess.ambiguous:
        formats = [guess.format] if guess.format else list(guess.ties)
        settings = " or ".join(f'`date_format: "{f}"`' for f in formats)
        tell = "" if guess.format else " (the values do not tell which)"
        text = (f"{many} not YYYY-MM-DD: {they} like {guess.label}{tell} ({where}). Write them as YYYY-MM-DD, or "
                f"import the file with `sop import` and {settings} in mapping.yaml")
        if guess.unread:
            text += f"; some fit no date format at all (e.g. '{guess.unread[0]}')"
    else:
        text = f"{many} not YYYY-MM-DD and fit no date format known here ({where}). Write them as YYYY-MM-DD"
    return _problem(file, row, column, text, example)


def _parse_months(
    frame: pd.DataFrame, columns: tuple[str, ...], file: str, first_row: int
) -> tuple[pd.DataFrame, list[dict[str, object]], set[tuple[int, str]]]:
    """Parse date columns (ISO 8601: ``YYYY-MM``, ``YYYY-MM-DD``, a time after it ignored) cell by cell.

    A few odd cells are one problem each, with row and value; a column whose cells are mostly unreadable is one
    problem (see :func:`_date_column_problem`). Returns the frame (unreadable cells blank), the problems, and
    the unreadable cells as (index, column) so no other check reports them again."""
    frame = frame.copy()
    problems: list[dict[str, object]] = []
    unreadable: set[tuple[int, str]] = set()
    for col in columns:
        if col not in frame.columns:
            continue
        raw = frame[col]
        parsed = parse_dates(raw)
        bad = raw[parsed.isna() & raw.notna()]
        frame[col] = parsed
        unreadable |= {(int(i), col) for i in bad.index}
        far = bad.astype(str).str.match(_FAR_YEAR)  # ISO, but beyond what a timestamp holds (9999-12-31)
        problems.extend(_problem(file, int(i) + first_row, col, FAR_DATE, v) for i, v in bad[far].items())
        bad = bad[~far]
        if len(bad) and (len(bad) >= DATE_COLUMN_CELLS or len(bad) >= DATE_COLUMN_SHARE * raw.notna().sum()):
            problems.append(_date_column_problem(bad, col, file, first_row))
        else:
            problems.extend(_problem(file, int(i) + first_row, col, NOT_A_DATE, v) for i, v in bad.items())
    return frame, problems, unreadable


def _duplicate_keys(frame: pd.DataFrame, text: pd.DataFrame, spec: TableSpec, file: str,
                    first_row: int) -> list[dict[str, object]]:
    """Rows that share the table's key with another row, among rows whose key could be read (a blank or
    unreadable key is reported as such, not as a duplicate). Dates in the key also count as the same key when
    they fall in the same month. Many such rows in a summable table add one hint: they look like order lines."""
    keys = key_of(spec.name)
    if not keys or any(k not in frame.columns for k in keys):
        return []  # a missing key column is reported as missing
    sub = frame[keys].dropna()
    same = sub.duplicated(keep=False)
    month_keys = [c for c in keys if c in spec.month_columns]
    if month_keys:
        months = sub.assign(**{c: sub[c].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]") for c in month_keys})
        same_month = months.duplicated(keep=False) & ~same
    else:
        same_month = same & False
    if not same.any() and not same_month.any():
        return []
    column = ", ".join(keys)
    label = f"({column})" if len(keys) > 1 else column
    out: list[dict[str, object]] = []
    for mask, problem in ((same, f"duplicate key: another row has the same {label}"),
                          (same_month, "duplicate key once dates are read as months")):
        index = sub.index[mask]
        values = text.loc[index, keys].astype(str).agg(" | ".join, axis=1) if len(index) else []
        out.extend(_problem(file, int(i) + first_row, column, problem, v) for i, v in zip(index, values, strict=True))
    n = len(out)
    if spec.summable and (n >= ORDER_LINE_ROWS or (n >= 3 and n >= 0.05 * len(sub))):
        out.insert(0, _problem(file, None, column, (
            f"{n:,} rows share a {label} with another row: if the extract has one row per order line, sum them "
            "to months with `aggregate: sum` in mapping.yaml (`sop import`)")))
    return out


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells without surrounding blanks; a blank cell is missing. Non-text cells are kept as they are."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or isinstance(frame[col].dtype, pd.StringDtype):
            frame[col] = frame[col].map(lambda v: (v.strip() or None) if isinstance(v, str) else v).astype(object)
    return frame


@functools.cache
def _row_schema(name: str) -> pa.DataFrameSchema:
    """The table's schema without its key checks (keys are checked among readable rows only, by
    :func:`_duplicate_keys`); built once per table."""
    schema = copy.deepcopy(TABLES[name].model.to_schema())
    schema.unique = None
    return schema.update_columns({c: {"unique": False} for c in schema.columns})


def _validate_table(raw: RawTable, spec: TableSpec
                    ) -> tuple[pd.DataFrame | None, list[dict[str, object]], list[Assumption]]:
    """One file with rows against its model: (clean table or None, problems, assumptions)."""
    assert raw.frame is not None
    file, first_row = raw.label, raw.first_row
    text = _tidy(raw.frame)
    problems, misnamed = _misnamed_columns(text, spec, file)
    frame, more, unreadable = _parse_months(text, spec.month_columns, file, first_row)
    frame, assumptions, no_cost = column_defaults(spec.name, frame)
    defaults = [_problem(file, int(i) + first_row, "unit_cost", UNIT_COST_MISSING) for i in no_cost]
    frame, numbers, unreadable_numbers = _parse_numbers(frame, spec, file, first_row)
    unreadable |= unreadable_numbers
    problems += more + defaults + numbers + _duplicate_keys(frame, text, spec, file, first_row)
    try:  # in place: ``frame`` is this function's own copy
        valid = _row_schema(spec.name).validate(frame, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        return None, problems + _schema_problems(file, first_row, exc, text, unreadable, misnamed), assumptions
    if problems:
        return None, problems, assumptions
    absent = [c for c in columns_of(spec.name) if c not in valid.columns]
    valid = valid.assign(**{c: None for c in absent})[columns_of(spec.name)]
    if absent:  # typed empty columns: NaN for numbers, NaT for dates
        valid = spec.model.validate(valid)
    for col in spec.month_columns:
        valid[col] = valid[col].dt.to_period("M").dt.to_timestamp()
    return valid, [], assumptions


def _problem_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Problems as a table sorted by file, then row (problems of the whole file or column first)."""
    frame = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    frame["row"] = frame["row"].astype("Int64")
    return frame.sort_values(["file", "row"], na_position="first", kind="stable").reset_index(drop=True)


def validate_tables(raws: dict[str, RawTable], cycle_start: pd.Timestamp, *, allow_stale_months: int = 0,
                    horizon_months: int | None = None) -> CheckedTables:
    """Validate raw tables (a table missing from ``raws`` counts as a missing file); no I/O at all.

    Each table against its contract, then the checks between tables and over time (:mod:`sop_lib.data.health`):
    ``allow_stale_months`` is how many months the sales history may end before the month before the cycle
    (``forecast.allow_stale_months``); with ``horizon_months`` (``forecast.horizon_months``) a budget that ends
    before the horizon is a warning."""
    problems: list[dict[str, object]] = []
    clean: dict[str, pd.DataFrame] = {}
    present: dict[str, bool] = {}
    column_assumptions: dict[str, list[Assumption]] = {}
    sources: dict[str, Source] = {}
    for name, spec in TABLES.items():
        raw = raws.get(name) or RawTable(name, None, None, error="file is missing")
        sources[name] = Source(raw.label, raw.first_row)
        file = raw.label
        no_rows = raw.path is None or (not raw.error and raw.frame is not None and raw.frame.empty)
        if no_rows and not spec.required:  # absent, or a header-only template: the table's default applies
            clean[name], present[name] = empty_table(name), False
        elif raw.path is None:
            problems.append(_problem(file, None, "", f"file is missing: {name} is required (as "
                                     f"{name}.csv, .parquet or .xlsx)"))
        elif raw.error:
            problems.append(_problem(file, None, "", raw.error))
        elif no_rows:
            problems.append(_problem(file, None, "", "file has no data rows (a required table: fill it, or "
                                     "import your extract with `sop import`)"))
        else:
            table, found, column_assumptions[name] = _validate_table(raw, spec)
            problems += found
            if table is not None:
                clean[name], present[name] = table, True
    health_problems, warnings = check_health(Extract(clean, present, sources), cycle_start,
                                             allow_stale_months=allow_stale_months, horizon_months=horizon_months)
    problems += health_problems
    assumptions = defaults_taken(present, column_assumptions)
    if "sales_history" in clean:
        clean["sales_history"] = clean["sales_history"][clean["sales_history"]["period"] < cycle_start]
    return CheckedTables(clean, _problem_frame(problems), pd.DataFrame(warnings, columns=PROBLEM_COLUMNS),
                         assumptions, present)


def _fail(problems: pd.DataFrame, inputs_dir: Path, report_dir: Path | None) -> InputInvalid:
    error = InputInvalid(problems, str(inputs_dir))
    if report_dir is not None:
        error.write_report(Path(report_dir) / f"problems-{dt.datetime.now():%Y%m%dT%H%M%S}.csv")
    return error


def validate_inputs(inputs_dir: Path, cycle_start: pd.Timestamp, report_dir: Path | None = None, *,
                    allow_stale_months: int = 0, horizon_months: int | None = None) -> ValidatedInputs:
    """Read and validate every input table; raise ``InputInvalid`` listing every problem found.

    With ``report_dir``, a failed validation first writes every problem to
    ``<report_dir>/problems-<YYYYmmddTHHMMSS>.csv`` (the message names it). ``allow_stale_months`` and
    ``horizon_months`` are the cycle's ``forecast.`` parameters of the same names (see :func:`validate_tables`)."""
    inputs_dir = Path(inputs_dir)
    if not inputs_dir.is_dir():
        what = "is not a folder" if inputs_dir.exists() else "does not exist"
        raise _fail(_problem_frame([_problem(f"{inputs_dir.name}/", None, "", (
            f"the inputs folder {inputs_dir} {what}: put the extract's files there (sales_history and products "
            "at least), or pass --inputs DIR"))]), inputs_dir, report_dir)
    raws = {name: read_input_file(name, inputs_dir, required_columns_of(name)) for name in TABLES}
    checked = validate_tables(raws, cycle_start, allow_stale_months=allow_stale_months,
                              horizon_months=horizon_months)
    if len(checked.problems):
        raise _fail(checked.problems, inputs_dir, report_dir)
    return ValidatedInputs(checked.tables, {n: r.path for n, r in raws.items()}, checked.warnings,
                           checked.assumptions)
