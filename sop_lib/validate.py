"""Validate an inputs folder against the contract, lazily: every problem at once, as a table.

Problems stop the cycle (``InputInvalid``); warnings are kept in the snapshot manifest and shown in the
pack's data-quality page. Both tables have the columns ``file``, ``row``, ``column``, ``problem``, ``value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from .contract import TABLES, columns_of
from .errors import InputInvalid
from .input_files import RawTable, read_input_file

PROBLEM_COLUMNS = ["file", "row", "column", "problem", "value"]


@dataclass
class ValidatedInputs:
    tables: dict[str, pd.DataFrame]
    sources: dict[str, Path | None]
    warnings: pd.DataFrame


def _readable(check: str) -> str:
    """pandera's check names, in words a planner understands."""
    if check == "column_in_dataframe":
        return "required column is missing"
    if check == "not_nullable":
        return "value is missing"
    if check in ("multiple_fields_uniqueness", "field_uniqueness"):
        return "duplicate key: another row has the same"
    if check.startswith("coerce_dtype('datetime"):
        return "not a date (expected YYYY-MM or YYYY-MM-DD)"
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


def _schema_problems(raw: RawTable, errors: pa.errors.SchemaErrors) -> pd.DataFrame:
    fc = errors.failure_cases.copy()
    # a value that failed to convert also fails the dtype check and any value check: report it once
    fc = fc[~fc["check"].astype(str).str.startswith("dtype(")]
    fc = fc[~(fc["index"].isna() & fc["failure_case"].astype(str).str.startswith("TypeError"))]
    rows = []
    unique_cols = TABLES[raw.name].model.to_schema().unique or []
    for rec in fc.itertuples(index=False):
        check = str(rec.check)
        if check == "column_in_dataframe":
            rows.append({"column": str(rec.failure_case), "row": None, "problem": _readable(check), "value": ""})
            continue
        problem = _readable(check)
        column = str(rec.column)
        if check == "multiple_fields_uniqueness":
            column = ", ".join(unique_cols)
            problem = f"duplicate key: another row has the same ({column})"
            if raw.frame is not None and rec.index in raw.frame.index:
                rec = rec._replace(failure_case=" | ".join(str(v) for v in raw.frame.loc[rec.index, unique_cols]))
        elif check == "field_uniqueness":
            problem = f"duplicate key: another row has the same {column}"
        row = None if pd.isna(rec.index) else int(rec.index) + raw.first_row
        value = "" if rec.failure_case is None or (check == "not_nullable") else str(rec.failure_case)
        rows.append({"column": column, "row": row, "problem": problem, "value": value})
    out = pd.DataFrame(rows).drop_duplicates(subset=["row", "column", "problem"])
    out.insert(0, "file", raw.path.name if raw.path else raw.name)
    return out


def _problem(file: str, row: int | None, column: str, problem: str, value: object = "") -> dict[str, object]:
    return {"file": file, "row": row, "column": column, "problem": problem, "value": "" if value is None else str(value)}


def _first_rows(frame: pd.DataFrame, column: str, values: set[str], first_row: int) -> dict[str, int]:
    hits = frame[frame[column].isin(values)].drop_duplicates(subset=[column])
    return {str(v): int(i) + first_row for i, v in hits[column].items()}


def _cross_checks(
    t: dict[str, pd.DataFrame], files: dict[str, str], first: dict[str, int], cycle_start: pd.Timestamp
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Checks between tables. Returns (problems, warnings)."""
    problems: list[dict[str, object]] = []
    warnings: list[dict[str, object]] = []
    have = set(t)
    skus = set(t["products"]["sku"]) if "products" in have else None

    if skus is not None and "sales_history" in have:
        unknown = set(t["sales_history"]["sku"]) - skus
        for sku, row in _first_rows(t["sales_history"], "sku", unknown, first["sales_history"]).items():
            problems.append(_problem(files["sales_history"], row, "sku", "SKU not in products", sku))
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


def _parse_months(
    frame: pd.DataFrame, columns: tuple[str, ...], file: str, first_row: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse date columns cell by cell (ISO 8601: ``YYYY-MM``, ``YYYY-MM-DD``, with or without a time), so
    one odd cell is reported with its row and value instead of failing the whole column."""
    frame = frame.copy()
    rows = []
    for col in columns:
        if col not in frame.columns:
            continue
        raw = frame[col]
        parsed = pd.to_datetime(raw, format="ISO8601", errors="coerce")
        for idx in raw.index[parsed.isna() & raw.notna()]:
            rows.append(_problem(file, int(idx) + first_row, col, "not a date (expected YYYY-MM or YYYY-MM-DD)",
                                 raw[idx]))
        frame[col] = parsed
    return frame, pd.DataFrame(rows, columns=PROBLEM_COLUMNS)


def validate_tables(raws: dict[str, RawTable], cycle_start: pd.Timestamp) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Validate raw tables. Returns (clean tables, problems, warnings); pure apart from no I/O at all."""
    problems: list[pd.DataFrame] = []
    clean: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    first: dict[str, int] = {}
    for name, spec in TABLES.items():
        raw = raws[name]
        files[name] = raw.path.name if raw.path else f"{name}.csv"
        first[name] = raw.first_row
        if raw.error:
            if raw.error == "file is missing" and not spec.required:
                clean[name] = pd.DataFrame({c: pd.Series(dtype="object") for c in columns_of(name)})
                clean[name] = spec.model.validate(clean[name])
                continue
            problems.append(pd.DataFrame([_problem(files[name], None, "", raw.error)]))
            continue
        frame = raw.frame
        assert frame is not None
        if frame.empty and spec.required:
            problems.append(pd.DataFrame([_problem(files[name], None, "", "file has no data rows")]))
            continue
        frame = frame.apply(lambda s: s.str.strip() if s.dtype == object else s)
        frame = frame.replace({"": None})
        frame, date_problems = _parse_months(frame, spec.month_columns, files[name], raw.first_row)
        try:
            valid = spec.model.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            found = _schema_problems(raw, exc)
            if len(date_problems):  # an unparsable date was blanked: drop pandera's "value is missing" for it
                bad = set(zip(date_problems["row"], date_problems["column"], strict=True))
                found = found[[(r, c) not in bad for r, c in zip(found["row"], found["column"], strict=True)]]
            problems.extend([date_problems, found])
            continue
        if len(date_problems):
            problems.append(date_problems)
            continue
        for col in columns_of(name):  # optional columns absent from the file
            if col not in valid.columns:
                valid[col] = pd.NaT if col in spec.month_columns else None
        valid = valid[columns_of(name)].copy()
        for col in spec.month_columns:
            valid[col] = valid[col].dt.to_period("M").dt.to_timestamp()
        clean[name] = valid
    if not problems:  # month normalisation can create new duplicates: check keys once more
        for name, frame in clean.items():
            unique = TABLES[name].model.to_schema().unique
            if unique and frame.duplicated(subset=unique).any():
                dup = frame[frame.duplicated(subset=unique, keep=False)]
                problems.append(pd.DataFrame([
                    _problem(files[name], int(i) + first[name], ", ".join(unique),
                             "duplicate key once dates are read as months", "")
                    for i in dup.index
                ]))
    cross_problems, cross_warnings = _cross_checks(clean, files, first, cycle_start)
    if cross_problems:
        problems.append(pd.DataFrame(cross_problems))
    problem_frame = (
        pd.concat(problems, ignore_index=True)[PROBLEM_COLUMNS] if problems else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    problem_frame["row"] = problem_frame["row"].astype("Int64")
    warning_frame = pd.DataFrame(cross_warnings, columns=PROBLEM_COLUMNS)
    if "sales_history" in clean:
        clean["sales_history"] = clean["sales_history"][clean["sales_history"]["period"] < cycle_start]
    return clean, problem_frame, warning_frame


def validate_inputs(inputs_dir: Path, cycle_start: pd.Timestamp) -> ValidatedInputs:
    """Read and validate every input table; raise ``InputInvalid`` listing every problem found."""
    raws = {name: read_input_file(name, inputs_dir) for name in TABLES}
    clean, problems, warnings = validate_tables(raws, cycle_start)
    if len(problems):
        raise InputInvalid(problems, str(inputs_dir))
    return ValidatedInputs(clean, {n: r.path for n, r in raws.items()}, warnings)
