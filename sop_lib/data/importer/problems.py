"""The two errors of ``sop import`` and the problem table they carry.

:class:`MappingError` says what is wrong with the mapping file itself (every problem at once, each with the file
and the key path). :class:`ImportFailed` lists what went wrong while building the tables from the sources, as a
table with the columns of :data:`PROBLEM_COLUMNS` (``row`` is the source row as a spreadsheet shows it: the
header is row 1, so the first data row of a CSV or Excel sheet is row 2; Parquet and SQL rows count from 1).
Both exit with code 2 (bad input).
"""

from __future__ import annotations

import pandas as pd

from sop_lib.core.errors import SopError

PROBLEM_COLUMNS = ["table", "row", "column", "problem", "value"]
_SHOWN = 200  # problems printed in a message; the exception keeps them all


class MappingError(SopError):
    """The mapping file is missing, not YAML, or holds unknown keys or invalid values.

    ``problems`` holds one line per problem, ``'mapping.yaml: tables.sales_history.columns.units: …'``.
    """

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)


class ImportFailed(SopError):
    """Building the tables failed; nothing was written. ``problems`` has the columns of :data:`PROBLEM_COLUMNS`."""

    exit_code = 2

    def __init__(self, problems: pd.DataFrame, mapping_name: str = "the mapping") -> None:
        self.problems = problems
        self.mapping_name = mapping_name
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.problems)
        tables = self.problems["table"].nunique()
        head = (
            f"The import ({self.mapping_name}) found {n} problem{'s' if n != 1 else ''} in {tables} "
            f"table{'s' if tables != 1 else ''}; nothing was written. Fix the mapping or the source and run again.\n"
        )
        whole = self.problems[self.problems["row"].isna()].astype("string").fillna("")
        lines = [f"  {r.table}{': ' + r.column if r.column else ''}: {r.problem}"
                 + (f" (value: {r.value})" if r.value else "") for r in whole.itertuples(index=False)]
        rows = self.problems[self.problems["row"].notna()]
        shown = rows.head(_SHOWN).astype("string").fillna("")
        table = shown.to_string(index=False, max_colwidth=100) if len(rows) else ""
        more = f"\n… and {len(rows) - _SHOWN} more rows with problems." if len(rows) > _SHOWN else ""
        return head + "\n".join(lines) + ("\n" if lines and table else "") + table + more


def problem(table: str, row: int | None, column: str, text: str, value: object = "") -> dict[str, object]:
    """One problem as a row of the problem table."""
    return {"table": table, "row": row, "column": column, "problem": text,
            "value": "" if value is None else str(value)}


def problem_frame(rows: list[dict[str, object]] | list[pd.DataFrame]) -> pd.DataFrame:
    """Problems (dicts from :func:`problem`, or frames with the same columns) as one table."""
    frames = [r if isinstance(r, pd.DataFrame) else pd.DataFrame([r]) for r in rows]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[PROBLEM_COLUMNS]
    out["row"] = out["row"].astype("Int64")
    return out


def row_problems(table: str, rows: pd.Series, column: str, text: str, values: pd.Series) -> pd.DataFrame:
    """Problems of many rows at once (same column and text), built without a Python loop over rows."""
    return pd.DataFrame({
        "table": table, "row": rows.to_numpy(), "column": column, "problem": text,
        "value": values.astype("string").fillna("").to_numpy(),
    }, columns=PROBLEM_COLUMNS)
