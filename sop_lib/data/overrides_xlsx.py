"""The overrides workbook a planner fills in Excel (``sop overrides template``): four sheets.

- ``Read me``: how to fill it, what each column means, the cycle, the snapshot it was made from.
- ``Forecast``: the statistical forecast by family × region × month, for reference (never read back).
- ``Overrides``: the input sheet, exactly the overrides file's columns as an Excel table with a frozen header;
  ``level``, ``region`` and the months are drop-down lists that refuse other values, ``target`` warns on a
  name the data does not have, ``owner`` offers the names of earlier cycles and accepts any, the changes must be
  numbers. Text cells are formatted as text, so Excel keeps ``2027-05`` and SKU codes such as ``007`` as typed.
- ``Lists``: the values of those lists (named ranges ``sop_levels``, ``sop_regions`` …).

Text that begins with ``=``, ``+``, ``-`` or ``@`` is written as text (a planner's ``=HYPERLINK(...)`` or a
family named ``+cmd`` never becomes a formula). ``sop run`` reads the input sheet back with
``overrides_file`` and validates it as it validates the CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sop_lib.core.cycle import Cycle
from sop_lib.core.errors import ParamsError
from sop_lib.core.exports import FORMULA_START
from sop_lib.data.overrides import OVERRIDE_COLUMNS
from sop_lib.data.overrides_file import SHEET, replace_atomically
from sop_lib.data.overrides_template import TemplateContent, template_content
from sop_lib.data.store import Store

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

TABLE = "OverridesTable"
INPUT_ROWS = 500  # rows of the input sheet prepared with lists and text format (Excel extends the table)
_TEXT = ("owner", "level", "target", "region", "first_month", "last_month", "reason")
COLUMN_HELP = {  # column → (what it means, an example)
    "owner": ("Who makes the change: a person or team (their overrides are scored later, by owner).",
              "Anna Berg (sales North)"),
    "level": ("sku, family or region: what the target is.", "family"),
    "target": ("The SKU code, family or region to change (as in the data; see sheet Lists).", "Sparkling"),
    "region": ("Optional: narrows a sku or family override to one region. Blank or 'All regions': every region.",
               "North"),
    "first_month": ("First month changed, YYYY-MM, within the forecast horizon (see sheet Lists).", "2027-05"),
    "last_month": ("Last month changed, YYYY-MM (inclusive).", "2027-07"),
    "change_pct": ("A % change of the forecast of every series in scope (8 = +8 %). Fill this or change_units.",
                   "8"),
    "change_units": ("Units per month added (or removed, negative), spread over the series in scope in proportion "
                     "to their forecast.", "6000"),
    "reason": ("Why: the promotion, customer news or listing behind it.", "Summer promotion with NordMarkt"),
}


@dataclass(frozen=True)
class TemplateWritten:
    """What ``make_overrides_template`` wrote: the workbook, its content, and the cycle's CSV when one is still
    beside it (``sop run`` refuses a cycle with both until one is removed)."""

    path: Path
    content: TemplateContent
    csv_beside: Path | None = None


def make_overrides_template(store: Store, cycle: Cycle | str, out: Path | None = None, force: bool = False
                            ) -> TemplateWritten:
    """Write the cycle's overrides workbook to ``out`` (default ``params/overrides/<cycle>.xlsx``), its input
    sheet pre-filled with the rows of the cycle's overrides file (the CSV, or the workbook being rewritten).

    Raises ``ParamsError`` when ``out`` is not an ``.xlsx`` (a CSV is never overwritten), when it exists and
    ``force`` is not set, or when the cycle has both a CSV and a workbook; ``CycleNotFound`` without a snapshot."""
    cycle = Cycle.parse(cycle)
    folder = store.params_dir / "overrides"
    default = folder / f"{cycle.id}.xlsx"
    target = Path(out).expanduser() if out else default
    if target.suffix.lower() != ".xlsx":
        raise ParamsError(f"{target}: the template is an Excel workbook; give --out a name ending in .xlsx (a CSV "
                          "is never overwritten).")
    if target.exists() and not force:
        raise ParamsError(f"{target} already exists. Pass --force to write it again: its Forecast and Lists sheets "
                          "are refreshed and the rows of its Overrides sheet are kept.")
    current = store.overrides_file(cycle)  # the cycle's one overrides file (refuses a .csv beside an .xlsx)
    content = template_content(store, cycle, prefill=current if current.exists() else None)
    try:
        write_overrides_workbook(content, target)
    except OSError as exc:  # a folder that cannot be written, or the file open in Excel on Windows
        raise ParamsError(f"Cannot write {target}: {exc.strerror or exc}. Close it in Excel if it is open, "
                          "and try again.") from None
    csv = folder / f"{cycle.id}.csv"
    return TemplateWritten(target, content, csv if target.resolve() == default.resolve() and csv.exists() else None)


def write_overrides_workbook(content: TemplateContent, path: Path) -> Path:
    """Write the workbook to ``path`` in one step (a reader never sees half a file)."""
    import openpyxl

    book = openpyxl.Workbook()
    _read_me(book.active, content)
    _forecast(book.create_sheet("Forecast"), content)
    _inputs(book.create_sheet(SHEET), content)
    _lists(book, book.create_sheet("Lists"), content)
    book.active = 2  # opens on the input sheet
    replace_atomically(path, lambda tmp: book.save(tmp))
    return path


def put(sheet: Worksheet, row: int, col: int, value: object, bold: bool = False) -> None:
    """Write a cell; text that a spreadsheet would run as a formula is stored as text (with Excel's quote
    prefix, so editing the cell keeps it text)."""
    from openpyxl.styles import Font

    cell = sheet.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True
    if bold:
        cell.font = Font(bold=True)


def _as_number(text: str) -> float | int | None:
    """A change copied from a CSV as an Excel number (``12`` → 12); other text (``12%``, a typo) stays text, for
    validation to read or report as it would in the CSV."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def _read_me(sheet: Worksheet, c: TemplateContent) -> None:
    sheet.title = "Read me"
    lines: list[tuple[str, str]] = [
        ("Overrides of the statistical forecast", f"cycle {c.cycle}"),
        ("Made from", f"the snapshot {c.fingerprint} (captured {c.captured_at})"),
        ("", ""),
        ("How to fill", f"One row per override in sheet {SHEET}, in the order they should apply: each works on "
                        "the result of the rows above it."),
        ("", "Pick level, region and months from the drop-down lists; the months are the forecast horizon "
             f"{c.months[0]} … {c.months[-1]}." if c.months else ""),
        ("", "Fill change_pct or change_units, not both. No series goes below zero (what cannot be removed "
             "is reported)."),
        ("", f"Save this file as params/overrides/{c.cycle}.xlsx (Excel Workbook). A cycle has one overrides "
             f"file: this workbook or params/overrides/{c.cycle}.csv, not both."),
        ("", f"Check it: sop validate --cycle {c.cycle} lists every problem with sheet, row and column; "
             f"sop run --cycle {c.cycle} then uses it."),
        ("Owner", "Pick a name from the list (owners of earlier cycles' overrides) or type any name: there is no "
                  "owner list in params/, so any name is accepted." if c.owners else
                  "Type the person or team: there is no owner list in params/, so any name is accepted."),
        ("Forecast sheet", c.forecast_note),
    ]
    if c.rows_from:
        lines.append(("Rows copied", f"{len(c.rows)} row(s) from {c.rows_from}."))
    lines += [("", ""), ("Column", "Meaning (example)")]
    lines += [(col, f"{text} (e.g. {example})") for col, (text, example) in COLUMN_HELP.items()]
    for r, (label, text) in enumerate(lines, start=1):
        put(sheet, r, 1, label, bold=True)
        put(sheet, r, 2, text, bold=r == 1)
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 120


def _forecast(sheet: Worksheet, c: TemplateContent) -> None:
    put(sheet, 1, 1, f"Statistical forecast, units per month, cycle {c.cycle}: for reference, not read back", True)
    put(sheet, 2, 1, c.forecast_note)
    if c.forecast.empty:
        return
    columns = list(c.forecast.columns)
    for j, name in enumerate(columns, start=1):
        put(sheet, 4, j, name, bold=True)
    for i, rec in enumerate(c.forecast.itertuples(index=False), start=5):
        total = "All" in str(rec[0]) or "All" in str(rec[1])
        for j, value in enumerate(rec, start=1):
            put(sheet, i, j, round(float(value)) if j > 2 else value, bold=total)
            if j > 2:
                sheet.cell(row=i, column=j).number_format = "#,##0"
    sheet.freeze_panes = "C5"
    sheet.column_dimensions["A"].width = sheet.column_dimensions["B"].width = 16


def _inputs(sheet: Worksheet, c: TemplateContent) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    for j, name in enumerate(OVERRIDE_COLUMNS, start=1):
        put(sheet, 1, j, name, bold=True)
    last = max(INPUT_ROWS, len(c.rows) + 100) + 1
    for i, rec in enumerate(c.rows.itertuples(index=False), start=2):
        for j, (name, text) in enumerate(zip(OVERRIDE_COLUMNS, rec, strict=True), start=1):
            number = _as_number(text) if name in ("change_pct", "change_units") else None
            put(sheet, i, j, number if number is not None else (text or None))
    for j, name in enumerate(OVERRIDE_COLUMNS, start=1):
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = {"owner": 26, "reason": 50, "target": 16}.get(name, 13)
        if name in _TEXT:
            for i in range(2, last + 1):
                sheet.cell(row=i, column=j).number_format = "@"
    end = get_column_letter(len(OVERRIDE_COLUMNS))
    table = Table(displayName=TABLE, ref=f"A1:{end}{max(len(c.rows) + 1, 2)}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    sheet.add_table(table)
    sheet.freeze_panes = "A2"
    _validations(sheet, c, last)


def _validations(sheet: Worksheet, c: TemplateContent, last: int) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    def cells(name: str) -> str:
        letter = get_column_letter(OVERRIDE_COLUMNS.index(name) + 1)
        return f"{letter}2:{letter}{last}"

    def listed(name: str, source: str, style: str, error: str, prompt: str) -> DataValidation:
        check = DataValidation(type="list", formula1=source, allow_blank=True, errorStyle=style,
                               showErrorMessage=bool(error), error=error or None, errorTitle=name if error else None,
                               prompt=prompt, promptTitle=name, showInputMessage=True)
        check.add(cells(name))
        return check

    rules = [
        listed("level", "sop_levels", "stop", "Pick sku, family or region from the list.", COLUMN_HELP["level"][0]),
        listed("target", "sop_targets", "warning", "Not a SKU, family or region of the data (sheet Lists): "
               "validation will refuse it.", COLUMN_HELP["target"][0]),
        listed("region", "sop_regions", "stop", "Pick a region of the list (or leave it blank: every region).",
               COLUMN_HELP["region"][0]),
        listed("first_month", "sop_months", "stop", "Pick a month of the forecast horizon (YYYY-MM).",
               COLUMN_HELP["first_month"][0]),
        listed("last_month", "sop_months", "stop", "Pick a month of the forecast horizon (YYYY-MM).",
               COLUMN_HELP["last_month"][0]),
    ]
    if c.owners:  # a suggestion, not a rule: any name is accepted
        rules.append(listed("owner", "sop_owners", "information", "", COLUMN_HELP["owner"][0]))
    for name, low, high in (("change_pct", -99.999, 1000), ("change_units", -1_000_000_000, 1_000_000_000)):
        rule = DataValidation(type="decimal", operator="between", formula1=str(low), formula2=str(high),
                              allow_blank=True, errorStyle="stop", showErrorMessage=True, errorTitle=name,
                              error=f"A number between {low:,} and {high:,}.", prompt=COLUMN_HELP[name][0],
                              promptTitle=name, showInputMessage=True)
        rule.add(cells(name))
        rules.append(rule)
    for rule in rules:
        sheet.add_data_validation(rule)


def _lists(book: Workbook, sheet: Worksheet, c: TemplateContent) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName

    columns = {"levels": c.levels, "regions": c.region_choices, "months": c.months, "targets": c.targets,
               "owners": c.owners}
    for j, (name, values) in enumerate(columns.items(), start=1):
        put(sheet, 1, j, name, bold=True)
        for i, value in enumerate(values, start=2):
            put(sheet, i, j, value)
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = 22
        if values:
            ref = f"'{sheet.title}'!${letter}$2:${letter}${len(values) + 1}"
            book.defined_names[f"sop_{name}"] = DefinedName(f"sop_{name}", attr_text=ref)
    for i in range(2, len(c.months) + 2):
        sheet.cell(row=i, column=3).number_format = "@"
