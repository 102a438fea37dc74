"""Where a cycle's overrides are and how they are read: ``params/overrides/<cycle>.csv`` or ``<cycle>.xlsx``.

The one reader of overrides (``Store.read_overrides`` / ``Store.load_overrides`` call it; ``sop run``'s input
check, the demand workbook and the override editor go through them). A cycle has one overrides file: with
both a ``.csv`` and an ``.xlsx`` it would be unclear which one counts, so that is refused naming both.

A workbook is read from its sheet ``Overrides`` (``sop overrides template`` writes one; a workbook with a single
sheet of another name is read from that sheet). The header is the first row that names the file's columns (a
title may stand above it; else the first non-blank row); blank rows are
skipped by validation but keep their number, so every problem names the row Excel shows. Cells are turned into
the text a CSV would hold: months typed as Excel dates become ``YYYY-MM``, numbers lose a trailing ``.0``, a
percentage cell (8 % is stored as 0.08) becomes ``8``. Then the same validation as for the CSV runs
(``overrides.validate_overrides``); its problems name ``<file> sheet Overrides`` as the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sop_lib.core.errors import ParamsError
from sop_lib.core.files import replacing
from sop_lib.data.overrides import FIRST_ROW, OVERRIDE_COLUMNS, validate_overrides

SHEET = "Overrides"  # the input sheet of an overrides workbook
MONTH_COLUMNS = ("first_month", "last_month")


@dataclass(frozen=True)
class OverridesFile:
    """A cycle's overrides as read: ``cells`` are text (``""`` when blank), one row per file row from the row
    after the header (``first_row``, as a spreadsheet numbers it) on; ``path`` may not exist (no overrides)."""

    path: Path
    cells: pd.DataFrame
    first_row: int = FIRST_ROW
    sheet: str = ""

    @property
    def label(self) -> str:
        """The file as problems name it: its path, and the sheet for a workbook."""
        return f"{self.path} sheet {self.sheet}" if self.sheet else str(self.path)


def overrides_path(folder: Path, cycle_id: str) -> Path:
    """The cycle's overrides file in ``folder``: ``<cycle>.xlsx`` if it exists, else ``<cycle>.csv`` (which need
    not exist). Both present → ``ParamsError`` naming both."""
    csv, xlsx = folder / f"{cycle_id}.csv", folder / f"{cycle_id}.xlsx"
    if csv.exists() and xlsx.exists():
        raise ParamsError(
            f"Cycle {cycle_id} has two overrides files, {csv} and {xlsx}: it is not clear which one counts, so "
            "none was used. Keep one: delete or move the other (the template copies a CSV's rows into the "
            "workbook, so once you work in the .xlsx the .csv can go).")
    return xlsx if xlsx.exists() else csv


def empty_cells() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OVERRIDE_COLUMNS})


def read_overrides_file(path: Path) -> OverridesFile:
    """The overrides file at ``path`` (``.csv`` or ``.xlsx``) as text cells; no file, or an empty one, gives no
    rows with ``OVERRIDE_COLUMNS``. An unreadable file is a ``ParamsError`` saying how to fix it."""
    if not path.exists():
        return OverridesFile(path, empty_cells())
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    return OverridesFile(path, _read_csv(path))


def load_overrides(path: Path, statistical: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The overrides at ``path`` read and validated (``overrides.validate_overrides``, whose problems name the
    file, the sheet of a workbook, the row and the column)."""
    file = read_overrides_file(path)
    return validate_overrides(file.cells, statistical, products, source=file.label, first_row=file.first_row)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        return empty_cells()
    except UnicodeDecodeError:
        raise ParamsError(f"The overrides file {path} is not UTF-8 text (saved as UTF-16 or latin-1?): save it as "
                          "'CSV UTF-8' from Excel, or use the override editor, and run again.") from None
    except Exception as exc:  # unreadable file: a message, never a traceback
        raise ParamsError(f"The overrides file {path} cannot be read ({exc.__class__.__name__}: {exc}).") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame.columns) == 1 and any(sep in frame.columns[0] for sep in (";", "\t", "|")):
        raise ParamsError(f"The overrides file {path} is not comma-separated (its header reads "
                          f"'{frame.columns[0][:60]}'): save it comma-separated and run again.")
    return frame


def _read_xlsx(path: Path) -> OverridesFile:
    """The input sheet of an overrides workbook as text cells (see the module's docstring)."""
    import openpyxl  # here: only a workbook needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook, damaged, or encrypted: a message, never a traceback
        raise ParamsError(f"The overrides file {path} cannot be read as an Excel workbook ({exc.__class__.__name__}: "
                          f"{exc}). Save it from Excel as .xlsx (not .xls or .xlsb) and run again.") from None
    try:
        names = {n.casefold(): n for n in book.sheetnames}
        if SHEET.casefold() in names:
            name = names[SHEET.casefold()]
        elif len(book.sheetnames) == 1:
            name = book.sheetnames[0]
        else:
            raise ParamsError(f"The overrides file {path} has no sheet named {SHEET} (its sheets: "
                              f"{', '.join(book.sheetnames)}). Rename the sheet with the overrides to {SHEET}.")
        rows = [[(c.value, str(getattr(c, "number_format", "") or "")) for c in row] for row in book[name].iter_rows()]
    finally:
        book.close()
    rows = _with_formulas(path, name, rows)
    while rows and all(v is None or str(v).strip() == "" for v, _ in rows[-1]):
        rows.pop()  # formatted but empty rows below the last override
    top = _header_row(rows)
    if top is None:
        return OverridesFile(path, empty_cells(), sheet=name)
    header = [_cell_text(v, f).strip() for v, f in rows[top]]
    keep = [j for j, h in enumerate(header) if h]  # a column without a header is no column of the file
    names_ = _unique([header[j] for j in keep])
    blank: tuple[object, str] = (None, "")
    body = [[_cell_text(value, fmt, month=names_[k] in MONTH_COLUMNS)
             for k, (value, fmt) in enumerate(r[j] if j < len(r) else blank for j in keep)] for r in rows[top + 1:]]
    frame = pd.DataFrame(body, columns=names_, dtype=object)
    return OverridesFile(path, frame, first_row=top + 2, sheet=name)


def _with_formulas(path: Path, sheet: str, rows: list[list[tuple[object, str]]]) -> list[list[tuple[object, str]]]:
    """A formula cell whose result the file does not hold (written by a script, never opened in Excel) as its
    formula text, so that validation shows ``=B2*2`` where it would otherwise see a blank cell."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        formulas = [[c.value for c in row] for row in book[sheet].iter_rows()]
    finally:
        book.close()
    return [[(f[j] if v is None and j < len(f) and isinstance(f[j], str) else v, fmt) for j, (v, fmt) in enumerate(r)]
            for r, f in zip(rows, formulas, strict=False)]


def _header_row(rows: list[list[tuple[object, str]]]) -> int | None:
    """The header's index: the first row naming two or more of the file's columns (a title may stand above
    it), else the first non-blank row; None for an empty sheet."""
    texts = [[_cell_text(v, f).strip() for v, f in r] for r in rows]
    named = (i for i, r in enumerate(texts) if len(set(r) & set(OVERRIDE_COLUMNS)) >= 2)
    return next(named, next((i for i, r in enumerate(texts) if any(r)), None))


def _unique(names: list[str]) -> list[str]:
    """Repeated headers numbered as pandas' CSV reader numbers them (``owner``, ``owner.1``)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        out.append(f"{n}.{seen[n]}" if n in seen else n)
        seen[n] = seen.get(n, 0) + 1
    return out


def _cell_text(value: object, number_format: str, month: bool = False) -> str:
    """A cell's value as the text a CSV export would hold: a date as ``YYYY-MM`` in a month column (else
    ``YYYY-MM-DD``), 0.08 in a percentage cell as ``8``, 12.0 as ``12``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        stamp = pd.Timestamp(value)
        return f"{stamp:%Y-%m}" if month else f"{stamp:%Y-%m-%d}" + ("" if stamp == stamp.normalize() else
                                                                      f" {stamp:%H:%M}")
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int | float):
        number = float(value) * (100 if "%" in number_format else 1)
        return f"{number:.12g}"  # 12.0 → "12"; 0.07 × 100 → "7", not 7.000000000000001
    return str(value)


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` then move the temporary file onto ``path`` in one step (a reader never sees half a
    file); the temporary file is removed if writing fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        write(tmp)
