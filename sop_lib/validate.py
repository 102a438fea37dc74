"""Validate an inputs folder against the contract, lazily: every problem at once, as a table.

Problems stop the cycle (``InputInvalid``); warnings are kept in the snapshot manifest and shown in the
pack's data-quality page. Both tables have the columns ``file``, ``row``, ``column``, ``problem``, ``value``,
sorted by file and row. Assumptions are the defaults taken for the optional tables and columns the extract
did not have (``contract.ASSUMPTIONS``): a list of ``{"table": ..., "assumption": ...}`` kept in the manifest.

A problem is reported once, where it starts: a date column written in another format is one problem naming
the format found (not one per row); a row whose date or key could not be read is not also a duplicate key.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pandera.pandas as pa

from .contract import ASSUMPTIONS, DEFAULT_STATUS, TABLES, TableSpec, columns_of, key_of, required_columns_of
from .dates import guess_date_format, parse_dates
from .errors import InputInvalid
from .input_files import RawTable, read_input_file

PROBLEM_COLUMNS = ["file", "row", "column", "problem", "value"]
NOT_A_DATE = "not a date (expected YYYY-MM or YYYY-MM-DD)"
DATE_COLUMN_CELLS = 20  # from this many unreadable dates in a column (or half of its cells) on: one problem
DATE_COLUMN_SHARE = 0.5
ORDER_LINE_ROWS = 10  # from this many rows sharing keys (or 5 % of them) on: the "order lines" hint
UNIT_COST_MISSING = "unit cost missing: give every row a cost, or leave the column out"

Assumption = dict[str, str]


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


def _readable(check: str) -> str:
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
        return f"must be {op[match.group(1)]} {match.group(2)}"
    if check.startswith("str_length"):
        return "must not be blank"
    return check


def _problem(file: str, row: int | None, column: str, problem: str, value: object = "") -> dict[str, object]:
    return {"file": file, "row": row, "column": column, "problem": problem, "value": "" if value is None else str(value)}


def _schema_problems(file: str, first_row: int, errors: pa.errors.SchemaErrors, text: pd.DataFrame,
                     unreadable: set[tuple[int, str]]) -> list[dict[str, object]]:
    """pandera's failure cases as problems, each value as the file has it (``text``); cells already reported
    as unreadable dates are left out."""
    fc = errors.failure_cases
    # a value that failed to convert also fails the dtype check and any value check: report it once
    fc = fc[~fc["check"].astype(str).str.startswith("dtype(")]
    fc = fc[~(fc["index"].isna() & fc["failure_case"].astype(str).str.startswith("TypeError"))]
    rows = []
    for rec in fc.itertuples(index=False):
        check = str(rec.check)
        if check == "column_in_dataframe":
            rows.append(_problem(file, None, str(rec.failure_case), _readable(check)))
            continue
        index, column = None if pd.isna(rec.index) else int(rec.index), str(rec.column)
        if (index, column) in unreadable:
            continue
        value = "" if rec.failure_case is None or check == "not_nullable" else rec.failure_case
        if value != "" and index in text.index and column in text.columns:
            value = text.at[index, column]
        rows.append(_problem(file, None if index is None else index + first_row, column, _readable(check), value))
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS).drop_duplicates(["row", "column", "problem"]).to_dict("records")


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
    sub = frame.loc[frame[keys].notna().all(axis=1), keys]
    same = sub.duplicated(keep=False)
    months = sub.assign(**{c: sub[c].dt.to_period("M") for c in keys if c in spec.month_columns})
    same_month = months.duplicated(keep=False) & ~same
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


def _column_defaults(name: str, frame: pd.DataFrame, file: str, first_row: int
                     ) -> tuple[pd.DataFrame, list[dict[str, object]], list[Assumption]]:
    """Defaults for the optional columns that imply one: ``products.status`` and ``prices.unit_cost``."""
    if name == "products":
        if "status" not in frame.columns or frame["status"].isna().all():
            return frame.assign(status=DEFAULT_STATUS), [], [{"table": name, "assumption": ASSUMPTIONS["status"]}]
        empty = frame["status"].isna()
        if empty.any():
            n = int(empty.sum())
            said = f"{n:,} SKUs have no lifecycle status in products: they are" if n > 1 else \
                "1 SKU has no lifecycle status in products: it is"
            return frame.assign(status=frame["status"].fillna(DEFAULT_STATUS)), [], [
                {"table": name, "assumption": f"{said} taken as active."}]
    if name == "prices":
        if "unit_cost" not in frame.columns or frame["unit_cost"].isna().all():
            return frame, [], [{"table": name, "assumption": ASSUMPTIONS["unit_cost"]}]
        empty = frame.index[frame["unit_cost"].isna()]
        return frame, [_problem(file, int(i) + first_row, "unit_cost", UNIT_COST_MISSING) for i in empty], []
    return frame, [], []


def _empty_table(name: str) -> pd.DataFrame:
    """An absent optional table: no rows, the contract's columns and types."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns_of(name)})
    return TABLES[name].model.validate(frame)


def _validate_table(raw: RawTable, spec: TableSpec
                    ) -> tuple[pd.DataFrame | None, list[dict[str, object]], list[Assumption]]:
    """One file with rows against its model: (clean table or None, problems, assumptions)."""
    assert raw.frame is not None
    file, first_row = raw.label, raw.first_row
    text = _tidy(raw.frame)
    frame, problems, unreadable = _parse_months(text, spec.month_columns, file, first_row)
    frame, more, assumptions = _column_defaults(spec.name, frame, file, first_row)
    problems += more + _duplicate_keys(frame, text, spec, file, first_row)
    schema = copy.deepcopy(spec.model.to_schema())
    schema.unique = None  # keys are checked above, among readable rows only
    schema = schema.update_columns({c: {"unique": False} for c in schema.columns})
    try:
        valid = schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return None, problems + _schema_problems(file, first_row, exc, text, unreadable), assumptions
    if problems:
        return None, problems, assumptions
    absent = [c for c in columns_of(spec.name) if c not in valid.columns]
    valid = valid.assign(**{c: None for c in absent})[columns_of(spec.name)]
    if absent:  # typed empty columns: NaN for numbers, NaT for dates
        valid = spec.model.validate(valid)
    for col in spec.month_columns:
        valid[col] = valid[col].dt.to_period("M").dt.to_timestamp()
    return valid, [], assumptions


def _first_rows(frame: pd.DataFrame, column: str, values: set[str], first_row: int) -> dict[str, int]:
    hits = frame[frame[column].isin(values)].drop_duplicates(subset=[column])
    return {str(v): int(i) + first_row for i, v in hits[column].items()}


def _cross_checks(
    t: dict[str, pd.DataFrame], present: dict[str, bool], files: dict[str, str], first: dict[str, int],
    cycle_start: pd.Timestamp,
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Checks between tables the extract has (an absent optional table is not checked against). Returns
    (problems, warnings)."""
    problems: list[dict[str, object]] = []
    warnings: list[dict[str, object]] = []
    have = {name for name in t if present.get(name)}
    skus = set(t["products"]["sku"]) if "products" in have else None

    if skus is not None and "sales_history" in have:
        unknown = set(t["sales_history"]["sku"]) - skus
        for sku, row in _first_rows(t["sales_history"], "sku", unknown, first["sales_history"]).items():
            problems.append(_problem(files["sales_history"], row, "sku", "SKU not in products", sku))
    if "bill_of_resources" in t and "capacity" in t and present["bill_of_resources"] != present["capacity"]:
        given, none = ("bill_of_resources", "capacity") if present["bill_of_resources"] else (
            "capacity", "bill_of_resources")
        problems.append(_problem(files[given], None, "", f"{given} has rows but {none} has none: give both "
                                 "(capacity is modelled) or neither (the plan is unconstrained)"))
    if skus is not None and "bill_of_resources" in have:
        routed = set(t["bill_of_resources"]["sku"])
        for sku, row in _first_rows(t["products"], "sku", skus - routed, first["products"]).items():
            problems.append(_problem(files["products"], row, "sku",
                                     "SKU unknown to the bill of resources: no resource makes it", sku))
        for sku, row in _first_rows(t["bill_of_resources"], "sku", routed - skus, first["bill_of_resources"]).items():
            warnings.append(_problem(files["bill_of_resources"], row, "sku", "SKU not in products (ignored)", sku))
    if "bill_of_resources" in have and "capacity" in have:
        missing = set(t["bill_of_resources"]["resource"]) - set(t["capacity"]["resource"])
        for res, row in _first_rows(t["bill_of_resources"], "resource", missing, first["bill_of_resources"]).items():
            problems.append(_problem(files["bill_of_resources"], row, "resource",
                                     "resource has no available hours in capacity", res))
    if skus is not None and "prices" in have:
        priced = set(t["prices"]["sku"])
        for sku, row in _first_rows(t["products"], "sku", skus - priced, first["products"]).items():
            problems.append(_problem(files["products"], row, "sku", "SKU has no price in prices", sku))
        for sku, row in _first_rows(t["prices"], "sku", priced - skus, first["prices"]).items():
            warnings.append(_problem(files["prices"], row, "sku", "SKU not in products (ignored)", sku))
    if skus is not None and "inventory" in have:
        for sku in _first_rows(t["products"], "sku", skus - set(t["inventory"]["sku"]), first["products"]):
            warnings.append(_problem(files["inventory"], None, "sku", "SKU has no opening stock row: taken as 0", sku))
    elif "inventory" in t and not present["inventory"]:
        warnings.append(_problem(files["inventory"], None, "", "no inventory given: opening stock taken as 0 "
                                 "for every SKU"))
    if skus is not None and "budget" in have:
        families = set(t["products"]["family"])
        extra = set(t["budget"]["family"]) - families
        for fam, row in _first_rows(t["budget"], "family", extra, first["budget"]).items():
            warnings.append(_problem(files["budget"], row, "family", "family not in products (ignored)", fam))
    if "sales_history" in have:
        late = t["sales_history"][t["sales_history"]["period"] >= cycle_start]
        if len(late):
            warnings.append(_problem(
                files["sales_history"], int(late.index[0]) + first["sales_history"], "period",
                f"{len(late)} rows dated in or after the cycle month {cycle_start:%Y-%m} were left out "
                "(the cycle plans from the last closed month)", f"{late['period'].min():%Y-%m}",
            ))
    return problems, warnings


def _assumptions(present: dict[str, bool], columns: dict[str, list[Assumption]]) -> list[Assumption]:
    """The defaults taken for absent optional tables (``present`` False) and columns, in contract order."""
    absent = {name for name, given in present.items() if not given}
    out = list(columns.get("products", []))
    if "prices" in absent:
        out.append({"table": "prices", "assumption": ASSUMPTIONS["prices"]})
    elif present.get("prices"):
        out += columns.get("prices", [])
    if "promotions" in absent:
        out.append({"table": "promotions", "assumption": ASSUMPTIONS["promotions"]})
    if {"bill_of_resources", "capacity"} <= absent:
        out.append({"table": "bill_of_resources, capacity", "assumption": ASSUMPTIONS["capacity"]})
    return out + [{"table": name, "assumption": ASSUMPTIONS[name]} for name in ("inventory", "budget") if name in absent]


def _problem_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Problems as a table sorted by file, then row (problems of the whole file or column first)."""
    frame = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    frame["row"] = frame["row"].astype("Int64")
    return frame.sort_values(["file", "row"], na_position="first", kind="stable").reset_index(drop=True)


def validate_tables(raws: dict[str, RawTable], cycle_start: pd.Timestamp) -> CheckedTables:
    """Validate raw tables (a table missing from ``raws`` counts as a missing file); no I/O at all."""
    problems: list[dict[str, object]] = []
    clean: dict[str, pd.DataFrame] = {}
    present: dict[str, bool] = {}
    column_assumptions: dict[str, list[Assumption]] = {}
    files: dict[str, str] = {}
    first: dict[str, int] = {}
    for name, spec in TABLES.items():
        raw = raws.get(name) or RawTable(name, None, None, error="file is missing")
        files[name], first[name] = raw.label, raw.first_row
        no_rows = raw.path is None or (not raw.error and raw.frame is not None and raw.frame.empty)
        if no_rows and not spec.required:  # absent, or a header-only template: the table's default applies
            clean[name], present[name] = _empty_table(name), False
        elif raw.path is None:
            problems.append(_problem(files[name], None, "", f"file is missing: {name} is required (as "
                                     f"{name}.csv, .parquet or .xlsx)"))
        elif raw.error:
            problems.append(_problem(files[name], None, "", raw.error))
        elif no_rows:
            problems.append(_problem(files[name], None, "", "file has no data rows (a required table: fill it, or "
                                     "import your extract with `sop import`)"))
        else:
            table, found, column_assumptions[name] = _validate_table(raw, spec)
            problems += found
            if table is not None:
                clean[name], present[name] = table, True
    cross_problems, warnings = _cross_checks(clean, present, files, first, cycle_start)
    problems += cross_problems
    assumptions = _assumptions(present, column_assumptions)
    if "sales_history" in clean:
        clean["sales_history"] = clean["sales_history"][clean["sales_history"]["period"] < cycle_start]
    return CheckedTables(clean, _problem_frame(problems), pd.DataFrame(warnings, columns=PROBLEM_COLUMNS),
                         assumptions, present)


def _fail(problems: pd.DataFrame, inputs_dir: Path, report_dir: Path | None) -> InputInvalid:
    error = InputInvalid(problems, str(inputs_dir))
    if report_dir is not None:
        error.write_report(Path(report_dir) / f"problems-{dt.datetime.now():%Y%m%dT%H%M%S}.csv")
    return error


def validate_inputs(inputs_dir: Path, cycle_start: pd.Timestamp, report_dir: Path | None = None) -> ValidatedInputs:
    """Read and validate every input table; raise ``InputInvalid`` listing every problem found.

    With ``report_dir``, a failed validation first writes every problem to
    ``<report_dir>/problems-<YYYYmmddTHHMMSS>.csv`` (the message names it)."""
    inputs_dir = Path(inputs_dir)
    if not inputs_dir.is_dir():
        what = "is not a folder" if inputs_dir.exists() else "does not exist"
        raise _fail(_problem_frame([_problem(f"{inputs_dir.name}/", None, "", (
            f"the inputs folder {inputs_dir} {what}: put the extract's files there (sales_history and products "
            "at least), or pass --inputs DIR"))]), inputs_dir, report_dir)
    raws = {name: read_input_file(name, inputs_dir, required_columns_of(name)) for name in TABLES}
    checked = validate_tables(raws, cycle_start)
    if len(checked.problems):
        raise _fail(checked.problems, inputs_dir, report_dir)
    return ValidatedInputs(checked.tables, {n: r.path for n, r in raws.items()}, checked.warnings,
                           checked.assumptions)
