"""Writing DataFrames into an Excel workbook the way a careful analyst would: each as an Excel table with filters,
the header row frozen, column widths that fit, number formats (money with the currency), and text that a
spreadsheet would run as a formula stored as text. Used by ``pack.workbook``; knows nothing of S&OP.

The workbook is written in openpyxl's write-only mode: rows stream to the file, so a plan of 100,000 rows does not
sit in memory as 1,000,000 cell objects. Column widths and formats are therefore decided from the DataFrame before
the first row is written.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from sop_lib.core.exports import FORMULA_START

Kind = Literal["text", "units", "hours", "days", "money", "money2", "ratio", "pct", "number", "month", "count"]

# Excel number formats by kind of column; money gets the currency appended (``money_formats``).
NUMBER_FORMATS: dict[str, str] = {
    "text": "@", "units": "#,##0", "hours": "#,##0.0", "days": "#,##0.0", "ratio": "0.0%", "pct": '+0.0" %";-0.0" %";0.0" %"',
    "number": "#,##0.00", "month": "yyyy-mm", "count": "0",
}
MAX_WIDTH, MIN_WIDTH = 60, 6
MAX_TEXT = 32_767
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def money_formats(currency: str) -> dict[str, str]:
    """``money`` (to the unit) and ``money2`` (to the cent) with the currency after the number: ``1,234 EUR``.
    A double quote in the currency is dropped (it would end the format's literal text)."""
    unit = currency.replace('"', "").strip()
    suffix = f' "{unit}"' if unit else ""
    return {"money": f"#,##0{suffix};-#,##0{suffix}", "money2": f"#,##0.00{suffix};-#,##0.00{suffix}"}


@dataclass(frozen=True)
class SheetSpec:
    """One sheet: a title, a line saying what it holds, its table and each column's kind (default: ``text`` for
    text, ``number`` for numbers, ``month`` for dates). ``empty`` is the one line shown instead of a table when
    ``frame`` is ``None`` or has no rows."""

    name: str
    holds: str
    frame: pd.DataFrame | None
    kinds: dict[str, str] = field(default_factory=dict)  # column → a key of NUMBER_FORMATS or money / money2
    empty: str = "No data for this sheet this cycle."
    freeze_columns: int = 0  # key columns kept in view when scrolling right
    utilisation: tuple[str, ...] = ()  # columns coloured by the utilisation bands (``UtilisationBands``)
    row_kinds: dict[str, str] = field(default_factory=dict)  # column → the column (not written) holding each
    #                                                          row's kind, for a column of mixed units

    @property
    def rows(self) -> int:
        return 0 if self.frame is None else len(self.frame)


@dataclass(frozen=True)
class UtilisationBands:
    """Thresholds (ratios) and fills of the utilisation colours: below ``warn`` ok, from ``warn`` up to ``over``
    tight, above ``over`` over capacity."""

    warn: float
    over: float
    colours: dict[str, str]  # "ok", "tight", "over capacity" → "#rrggbb"


def safe_sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``."""
    return _SHEET_NAME_BAD.sub(" ", name)[:31]


def table_name(sheet: str) -> str:
    """A table name Excel accepts (letters, digits, underscores; not a cell reference) from a sheet name."""
    return "t_" + re.sub(r"\W+", "_", sheet).strip("_")


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_START)


def _kind(frame: pd.DataFrame, column: str, kinds: dict[str, str]) -> str:
    if column in kinds:
        return kinds[column]
    dtype = frame[column].dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "month"
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return "text"
    return "number"


def _display_width(series: pd.Series, kind: str, header: str, currency: str) -> float:
    """Characters a column needs, from its header and its widest value as Excel would show it."""
    head = len(header) + 3  # the filter button
    values = series.dropna()
    if values.empty:
        return max(MIN_WIDTH, head)
    if kind == "month":
        body = 8
    elif kind == "text":
        body = int(values.astype(str).str.len().max())
    else:
        finite = pd.to_numeric(values, errors="coerce").abs()
        finite = finite[finite.map(math.isfinite)]
        biggest = float(finite.max()) if len(finite) else 0.0
        body = len(f"{biggest:,.0f}") + 2 + (3 if kind in ("money2", "number", "hours") else 0)
        body += len(currency) + 1 if kind in ("money", "money2") else 0
    return float(min(MAX_WIDTH, max(MIN_WIDTH, head, body + 2)))


def _cell(ws: Any, value: Any, number_format: str, styles: dict[str, Any] | None = None) -> Any:
    """One cell: numbers and dates with ``number_format``, missing and non-finite numbers empty, booleans as
    yes / no, and text always as text (a value beginning with ``=``, ``+``, ``-`` or ``@`` is stored as a string
    with Excel's quote prefix: shown and edited as text, never evaluated)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return WriteOnlyCell(ws, None)
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return WriteOnlyCell(ws, None)
    if not isinstance(value, (int, float, dt.date, dt.datetime, str)):
        value = str(value)
    if isinstance(value, str):  # characters XML cannot hold are dropped; Excel keeps at most 32,767 per cell
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_TEXT]
    cell = WriteOnlyCell(ws, value)
    if isinstance(cell.value, str):
        cell.data_type = "s"  # openpyxl would take "=…" for a formula
        if is_formula_like(cell.value):
            cell.quotePrefix = True
        cell.number_format = "@"
    else:
        cell.number_format = number_format
    for attr, style in (styles or {}).items():
        setattr(cell, attr, style)
    return cell


def write_note(wb: Workbook, spec: SheetSpec) -> Any:
    """A sheet without data: its title and one line saying why."""
    ws = wb.create_sheet(safe_sheet_name(spec.name))
    ws.column_dimensions["A"].width = 100
    ws.append([_cell(ws, spec.name, "@", {"font": Font(bold=True, size=13)})])
    ws.append([_cell(ws, spec.empty, "@")])
    return ws


def write_table(wb: Workbook, spec: SheetSpec, currency: str, bands: UtilisationBands | None = None) -> Any:
    """``spec.frame`` as an Excel table on a sheet of its own: header row frozen (and ``freeze_columns`` key
    columns), filters, widths, number formats. Without rows, :func:`write_note` instead."""
    if spec.frame is None or spec.frame.empty:
        return write_note(wb, spec)
    source = spec.frame.reset_index(drop=True)
    frame = source.drop(columns=list(spec.row_kinds.values()))
    ws = wb.create_sheet(safe_sheet_name(spec.name))
    formats = {**NUMBER_FORMATS, **money_formats(currency)}
    kinds = [_kind(frame, c, spec.kinds) for c in frame.columns]
    for i, (column, kind) in enumerate(zip(frame.columns, kinds, strict=True), start=1):
        ws.column_dimensions[get_column_letter(i)].width = _display_width(frame[column], kind, str(column), currency)
    ws.freeze_panes = f"{get_column_letter(spec.freeze_columns + 1)}2"
    ws.append([_cell(ws, str(c), "@", {"font": Font(bold=True)}) for c in frame.columns])
    columns = [[formats[k]] * len(frame) for k in kinds]
    for i, column in enumerate(frame.columns):  # a column of mixed units: each row's own format
        if column in spec.row_kinds:
            columns[i] = [formats.get(str(k), formats["number"]) for k in source[spec.row_kinds[column]]]
    for row, row_formats in zip(frame.itertuples(index=False, name=None), zip(*columns, strict=True), strict=True):
        ws.append([_cell(ws, v, f) for v, f in zip(row, row_formats, strict=True)])
    _add_table(ws, f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}", table_name(ws.title),
               [str(c) for c in frame.columns], "TableStyleMedium2")
    for column in spec.utilisation if bands is not None else ():
        letter = get_column_letter(list(frame.columns).index(column) + 1)
        colour_utilisation(ws, f"{letter}2:{letter}{len(frame) + 1}", bands)  # type: ignore[arg-type]
    return ws


def _add_table(ws: Any, ref: str, name: str, columns: list[str], style: str) -> None:
    """An Excel table over ``ref`` (header row first) with filter buttons. In write-only mode openpyxl cannot read
    the header cells back, so the columns are named here."""
    table = Table(displayName=name, ref=ref, autoFilter=AutoFilter(ref=ref),
                  tableStyleInfo=TableStyleInfo(name=style, showRowStripes=True))
    table.tableColumns = [TableColumn(id=i, name=c) for i, c in enumerate(columns, start=1)]
    with warnings.catch_warnings():  # "you must add table columns manually": done above
        warnings.simplefilter("ignore", UserWarning)
        ws.add_table(table)


def colour_utilisation(ws: Any, ref: str, bands: UtilisationBands) -> None:
    """Fill ``ref``'s cells by band, as the pack colours utilisation: over capacity above ``over``, tight from
    ``warn``, ok below (conditional formats, so a value edited in Excel takes its band's colour)."""
    def fill(name: str) -> PatternFill:
        colour = bands.colours[name].lstrip("#").upper()
        return PatternFill(start_color=colour, end_color=colour, fill_type="solid")

    ws.conditional_formatting.add(ref, CellIsRule(operator="greaterThan", formula=[repr(bands.over)],
                                                  fill=fill("over capacity"), stopIfTrue=True))
    ws.conditional_formatting.add(ref, CellIsRule(operator="greaterThanOrEqual", formula=[repr(bands.warn)],
                                                  fill=fill("tight"), stopIfTrue=True))
    ws.conditional_formatting.add(ref, CellIsRule(operator="between", formula=["0", repr(bands.warn)],
                                                  fill=fill("ok"), stopIfTrue=True))


def write_cover(wb: Workbook, title: str, facts: Iterable[tuple[str, Any, Kind]], contents: pd.DataFrame,
                currency: str) -> Any:
    """The first sheet: a title, facts as label / value lines (each value in its kind's format), then
    ``contents`` (what each sheet holds) as a table."""
    ws = wb.create_sheet("Cover")
    facts = list(facts)
    formats = {**NUMBER_FORMATS, **money_formats(currency)}
    for letter, width in {"A": 30, "B": 70, "C": 90, "D": 10}.items():
        ws.column_dimensions[letter].width = width
    ws.append([_cell(ws, title, "@", {"font": Font(bold=True, size=14)})])
    ws.append([])
    for label, value, kind in facts:
        value_cell = _cell(ws, value, formats[kind], {"alignment": Alignment(horizontal="left")})
        ws.append([_cell(ws, label, "@", {"font": Font(bold=True)}), value_cell])
    ws.append([])
    top = len(facts) + 4
    ws.append([_cell(ws, str(c), "@", {"font": Font(bold=True)}) for c in contents.columns])
    for row in contents.itertuples(index=False, name=None):
        ws.append([_cell(ws, v, NUMBER_FORMATS["count"]) for v in row])
    _add_table(ws, f"A{top}:{get_column_letter(len(contents.columns))}{top + len(contents)}", "t_Contents",
               [str(c) for c in contents.columns], "TableStyleLight9")
    return ws
