"""Reading the input extract: one file per table (CSV, Parquet or Excel), as text, before validation.

Part of the store's file I/O (``store.py`` holds every other path and file); ``validate`` reads through it.
What commonly goes wrong with a real extract is said here in words, as the file's one problem: a CSV that is
not UTF-8 or not separated by commas, the data on another sheet of a workbook. Parquet dates (``date32``) and
decimals (as SQL exports write them) are read as timestamps and floats.
"""

from __future__ import annotations

import csv
import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

INPUT_SUFFIXES = (".csv", ".parquet", ".xlsx")
_SEPARATORS = {";": ("';' (semicolons)", ";"), "\t": ("tabs", "\\t"), "|": ("'|'", "|")}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class RawTable:
    """One input file as read, before validation. ``first_row`` is the row number of the first data
    row as a spreadsheet shows it (2 for CSV/Excel, whose header is row 1). ``path`` is None when the table
    has no file; ``sheet`` is the Excel sheet read."""

    name: str
    path: Path | None
    frame: pd.DataFrame | None
    first_row: int = 2
    error: str = ""
    sheet: str | None = None

    @property
    def label(self) -> str:
        """The file as problems name it: ``sales_history.xlsx (sheet 'Data')``, ``prices.csv``."""
        name = self.path.name if self.path else f"{self.name}.csv"
        return f"{name} (sheet '{self.sheet}')" if self.sheet else name


def read_input_file(name: str, inputs_dir: Path, required: Sequence[str] = ()) -> RawTable:
    """Read ``<inputs_dir>/<name>.{csv,parquet,xlsx}`` as text columns (types are the contract's job).

    ``required`` (the table's required columns) lets a workbook whose first sheet lacks them say which sheet
    has them. A file that cannot be read gives a ``RawTable`` with ``error`` set, never an exception.
    """
    found = [inputs_dir / f"{name}{suffix}" for suffix in INPUT_SUFFIXES if (inputs_dir / f"{name}{suffix}").exists()]
    if not found:
        return RawTable(name, None, None, error="file is missing")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        return RawTable(name, found[0], None, error=f"more than one file for this table ({names}); keep one")
    path = found[0]
    try:
        if path.suffix == ".csv":
            raw = _read_csv(name, path)
        elif path.suffix == ".parquet":
            raw = RawTable(name, path, _read_parquet(path), first_row=1)
        else:
            raw = _read_excel(name, path, required)
    except pd.errors.EmptyDataError:
        return RawTable(name, path, None, error="file is empty")
    except Exception as exc:  # unreadable file: report, never a traceback
        return RawTable(name, path, None, error=f"cannot be read ({exc.__class__.__name__}: {exc})")
    if raw.frame is not None:
        raw.frame.columns = [str(c).strip() for c in raw.frame.columns]
    return raw


def _read_csv(name: str, path: Path) -> RawTable:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return RawTable(name, path, None, error=(
            "the file is UTF-16 (Excel's 'Unicode text'): save it as 'CSV UTF-8' from Excel, or import it with "
            "`sop import` and `encoding: utf-16` in mapping.yaml"))
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        raw = data[max(start, exc.start - 30) : exc.start + 10].split(b"\n")[0]
        snippet = raw.decode("cp1252", errors="replace").strip()
        return RawTable(name, path, None, error=(
            f"not UTF-8 (it reads as latin-1 / cp1252: line {line} has '{snippet}'): save it as 'CSV UTF-8' from "
            "Excel, or import it with `sop import` and `encoding: latin-1` in mapping.yaml"))
    header = text.split("\n", 1)[0]
    if "," not in header:
        counts = {sep: header.count(sep) for sep in _SEPARATORS}
        sep = max(counts, key=lambda s: counts[s])
        if counts[sep]:
            words, escaped = _SEPARATORS[sep]
            return RawTable(name, path, None, error=(
                f"the file looks separated by {words}, not commas (header: '{header.strip()[:60]}'): save it "
                f"comma-separated or set `separator: \"{escaped}\"` in mapping.yaml (`sop import`)"))
    with warnings.catch_warnings():
        # a line longer than the header: pandas would take the first column as an index, or drop the extra field
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True, index_col=False)
        except (pd.errors.ParserError, pd.errors.ParserWarning):
            return RawTable(name, path, None, error=_ragged_line(text))
    return RawTable(name, path, frame, first_row=2)


def _ragged_line(text: str) -> str:
    """The first line with more fields than the header, in words, with the likely cause."""
    lines = csv.reader(io.StringIO(text))
    header = next(lines, [])
    for record in lines:
        if len(record) > len(header):
            return (f"line {lines.line_num} has {len(record)} fields where the header ('{','.join(header)[:60]}') "
                    f"has {len(header)}: text with a comma must be in double quotes (\"Lemon, 0.5 L\"), and numbers "
                    "take a dot for decimals (1.5, not 1,5)")
    return "cannot be read as CSV: a line has more fields than the header"


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file with dates as timestamps and decimals as floats (pandas would give Python objects)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    frame = table.to_pandas()
    for field in table.schema:
        if field.name not in frame.columns:
            continue
        if pa.types.is_date(field.type):  # a date beyond what a timestamp holds (9999-12-31) stays text
            dates = pd.to_datetime(frame[field.name], errors="coerce")
            far = dates.isna() & frame[field.name].notna()
            frame[field.name] = dates.astype(object).where(~far, frame[field.name].astype(str)) if far.any() else dates
        elif pa.types.is_decimal(field.type):
            frame[field.name] = frame[field.name].astype("float64")
        elif pa.types.is_dictionary(field.type):
            frame[field.name] = frame[field.name].astype(object)
    # a saved pandas index comes back as the index: a named one is a column, an unnamed one is dropped
    named = any(n is not None for n in frame.index.names)
    return frame.reset_index(drop=not named)


def _read_excel(name: str, path: Path, required: Sequence[str]) -> RawTable:
    """The first sheet; if it lacks required columns that another sheet has, one problem naming that sheet."""
    with pd.ExcelFile(path) as book:
        sheets = [str(s) for s in book.sheet_names]
        frame = book.parse(sheets[0], dtype=str)
        columns = {str(c).strip() for c in frame.columns}
        missing = [c for c in required if c not in columns]
        if missing:
            for other in sheets[1:]:
                header = {str(c).strip() for c in book.parse(other, nrows=0).columns}
                if set(missing) <= header:
                    return RawTable(name, path, None, sheet=sheets[0], error=(
                        f"columns {', '.join(missing)} are on sheet '{other}', not on the first sheet "
                        f"'{sheets[0]}' that was read: put the data on the first sheet or import it with "
                        f"`sop import` and `sheet: \"{other}\"` in mapping.yaml"))
    return RawTable(name, path, frame, first_row=2, sheet=sheets[0])
