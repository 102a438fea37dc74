"""What an import did, as data (for tests and the CLI) and as the text printed and kept in ``import-report.txt``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd


@dataclass(frozen=True)
class FilterStep:
    """One filter (or ``having`` step) and the rows it removed."""

    kind: Literal["keep", "drop"]
    condition: str
    reason: str
    removed: int

    def line(self, prefix: str) -> str:
        rows = f"-{self.removed:,} row{'s' if self.removed != 1 else ''}"
        why = f"  ({self.reason})" if self.reason else ""
        return f"  {prefix} {self.kind} {self.condition}: {rows}{why}"


@dataclass
class TableReport:
    """The story of one table: rows read, each filter, rows kept, dates, aggregation, rows to write, hints."""

    table: str
    source: str = ""
    rows_read: int = 0
    filters: list[FilterStep] = field(default_factory=list)
    rows_kept: int = 0
    dates: dict[str, str] = field(default_factory=dict)  # contract column → "dates in X read as DD/MM/YY (…)"
    aggregate: str = ""
    having: list[FilterStep] = field(default_factory=list)
    rows_written: int = 0
    months: str = ""
    notes: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    failed: bool = False

    def lines(self) -> list[str]:
        read = f"{self.rows_read:,} row{'s' if self.rows_read != 1 else ''} read"
        read = read if self.rows_read or not self.failed else "not read"
        out = [f"{self.table} ← {self.source}: {read}"]
        out += [f"  {note}" for note in self.notes]
        out += [step.line("filter") for step in self.filters]
        if self.filters:
            out.append(f"  {self.rows_kept:,} row{'s' if self.rows_kept != 1 else ''} kept")
        out += [f"  {text}" for text in self.dates.values()]
        if self.aggregate:
            out.append(f"  {self.aggregate}")
        out += [step.line("having") for step in self.having]
        if self.failed:
            out.append("  not built: see the problems below")
        else:
            rows = f"{self.rows_written:,} row{'s' if self.rows_written != 1 else ''}"
            out.append(f"  {rows} to write" + (f", {self.months}" if self.months else ""))
        out += [f"  hint: {hint}" for hint in self.hints]
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


@dataclass
class ImportResult:
    """The contract tables built by :func:`~sop_lib.data.importer.build_tables` (contract columns in contract order,
    months as timestamps of their first day, numbers as floats) and the report of each."""

    tables: dict[str, pd.DataFrame]
    reports: dict[str, TableReport]
    mapping_path: Path | None = None

    def report_text(self) -> str:
        head = f"sop import from {self.mapping_path}" if self.mapping_path else "sop import"
        return head + "\n\n" + "\n\n".join(r.text() for r in self.reports.values()) + "\n"

    def last_month(self, table: str = "sales_history", column: str = "period") -> pd.Timestamp | None:
        """The latest month of a table's month column, or ``None`` when the table was not imported or is empty."""
        frame = self.tables.get(table)
        if frame is None or column not in frame or frame[column].dropna().empty:
            return None
        return pd.Timestamp(frame[column].max())
