"""One exception tree whose messages a planner can act on.

The CLI prints ``str(error)`` (never a traceback) and exits with ``error.exit_code``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class SopError(Exception):
    """Base of every error the suite raises on purpose."""

    exit_code: int = 1


class ParamsError(SopError):
    """A parameter file is missing, unreadable or holds an unknown or invalid value."""

    exit_code = 2


class InputInvalid(SopError):
    """Input files failed validation. ``problems`` has one row per problem.

    Columns: ``file``, ``row``, ``column``, ``problem``, ``value``. The message lists every problem when there
    are at most :attr:`DETAIL_ROWS`; beyond that it starts with a summary (one line per file, column and problem,
    with the count, first row and an example value), then the first rows, and points to the full list
    written by :meth:`write_report` (``report_path``).
    """

    exit_code = 2
    DETAIL_ROWS = 30

    def __init__(self, problems: pd.DataFrame, inputs_dir: str = "") -> None:
        self.problems = problems
        self.inputs_dir = inputs_dir
        self.report_path: Path | None = None
        super().__init__(self._message())

    def write_report(self, path: Path) -> Path:
        """Write every problem to ``path`` as CSV (UTF-8 with a byte-order mark, so Excel shows '≥' right),
        creating its folder, and name it in the message."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        from sop_lib.core.exports import (
            neutralise_formulas,  # the values are the user's: Excel must not run them
        )

        neutralise_formulas(self.problems).to_csv(path, index=False, encoding="utf-8-sig")
        self.report_path = path
        self.args = (self._message(),)
        return path

    def _message(self) -> str:
        n = len(self.problems)
        files = self.problems["file"].nunique()
        head = (
            f"The input files in {self.inputs_dir or 'the inputs folder'} have {n:,} problem"
            f"{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}; nothing was snapshotted "
            "or published. Fix them and run again.\n"
        )
        if n <= self.DETAIL_ROWS:
            tail = f"\nThe list is also in {self.report_path}." if self.report_path else ""
            return head + _detail_lines(self.problems) + tail
        where = (f"The full list ({n:,} problems) is in {self.report_path}." if self.report_path
                 else f"… and {n - self.DETAIL_ROWS:,} more.")
        return (head + "\nSummary by file, column and problem:\n" + _summary_lines(self.problems)
                + f"\n\nThe first {self.DETAIL_ROWS} problems:\n"
                + _detail_lines(self.problems.head(self.DETAIL_ROWS)) + "\n" + where)


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _aligned(rows: list[list[str]], right: set[int]) -> str:
    """Rows of cells as lines, every column but the last padded to its widest cell."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    return "\n".join(lines)


def _detail_lines(problems: pd.DataFrame) -> str:
    """One line per problem: file, row, column, problem (value)."""
    rows = [["file", "row", "column", "problem"]]
    for p in problems.itertuples(index=False):
        value = _text(p.value)
        rows.append([_text(p.file), _text(p.row), _text(p.column),
                     str(p.problem) + (f" (value: {value})" if value else "")])
    return _aligned(rows, right={1})


def _summary_lines(problems: pd.DataFrame) -> str:
    """One line per file, column and problem: how many rows, the first row, an example value."""
    frame = problems.assign(_order=range(len(problems)))
    rows = [["file", "column", "count", "first row", "problem (e.g. value)"]]
    groups = frame.groupby(["file", "column", "problem"], sort=False, dropna=False)
    for (file, column, problem), g in sorted(groups, key=lambda kv: int(kv[1]["_order"].iloc[0])):
        values = [v for v in g["value"].map(_text) if v]
        first = g["row"].dropna()
        rows.append([_text(file), _text(column), f"{len(g):,}", _text(first.min()) if len(first) else "",
                     str(problem) + (f" (e.g. {values[0]})" if values else "")])
    return _aligned(rows, right={2, 3})


class DamagedFile(SopError):
    """A file the suite wrote (manifest, publication record) was changed or damaged outside it."""

    exit_code = 2


class CycleNotFound(SopError):
    """The cycle has no snapshot (or no published results) where one was expected."""

    exit_code = 2


class CycleAlreadyPublished(SopError):
    """Re-running a published cycle needs an explicit ``--force``."""

    exit_code = 3


class CycleLocked(SopError):
    """Another run of the same cycle holds the lock."""

    exit_code = 5


class WorkbookFailed(SopError):
    """A notebook raised during the papermill run; its executed copy keeps the error."""

    exit_code = 4


class PrintFailed(SopError):
    """The board PDF could not be made: no Chromium to print with, or a page that did not draw."""

    exit_code = 6
