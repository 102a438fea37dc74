"""Writing imported tables to the inputs folder: ``<table>.csv`` each, atomically, plus ``import-report.txt``.

CSV as the contract reads it: UTF-8, a dot as decimal mark, months as ``YYYY-MM-DD``, the contract's columns in
contract order. Each file is written to a temporary file in the same folder and moved into place
(:func:`sop_lib.core.files.replacing`), so a reader never sees half a file. A file of the same table in another format
(``sales_history.parquet``, ``.xlsx``) would make two files for one table, which the validator refuses: it is moved
into ``inputs/replaced-<timestamp>/``. Tables not imported are left untouched.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sop_lib.core.cycle import Cadence, Cycle
from sop_lib.core.files import replacing
from sop_lib.data.importer.report import ImportResult
from sop_lib.data.input_files import INPUT_SUFFIXES

REPORT_FILE = "import-report.txt"


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` to a temporary file beside ``path`` (what it returns is ignored), then moved into place."""
    with replacing(path) as tmp:
        write(tmp)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    _atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8", date_format="%Y-%m-%d",
                                                 float_format="%.15g", lineterminator="\n"))


def write_inputs(result: ImportResult, inputs_dir: Path, echo: Callable[[str], None] = print) -> list[Path]:
    """Write every table of ``result`` as ``<inputs_dir>/<table>.csv`` (and the report as ``import-report.txt``);
    returns the CSV files written. Files of the same tables in other formats are moved aside, and said so."""
    inputs_dir = Path(inputs_dir)
    inputs_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = inputs_dir / f"replaced-{stamp}"
    written = []
    for table, frame in result.tables.items():
        target = inputs_dir / f"{table}.csv"
        for suffix in INPUT_SUFFIXES:
            other = inputs_dir / f"{table}{suffix}"
            if suffix != ".csv" and other.exists():
                aside.mkdir(exist_ok=True)
                shutil.move(str(other), aside / other.name)
                echo(f"moved {other.name} to {aside.name}/ (one file per table: {target.name} replaces it)")
        _write_csv(frame, target)
        written.append(target)
        echo(f"wrote {target} ({len(frame):,} rows)")
    report = inputs_dir / REPORT_FILE
    _atomic_write(report, lambda tmp: tmp.write_text(result.report_text(), encoding="utf-8"))
    echo(f"report in {report}")
    return written


def cycle_after_sales(result: ImportResult, inputs_dir: Path, cadence: Cadence = "monthly") -> Cycle | None:
    """The cycle of the month after the last month of ``sales_history`` (quarterly ``cadence``: the quarter that
    holds that month): of the table just imported, else of the inputs folder's ``sales_history`` file; ``None``
    when neither tells. A month outside the years a cycle may have raises ``ParamsError``."""
    last = result.last_month("sales_history", "period")
    if last is None:
        from sop_lib.data.input_files import read_input_file

        raw = read_input_file("sales_history", Path(inputs_dir))
        if raw.frame is None or "period" not in raw.frame:
            return None
        months = pd.to_datetime(raw.frame["period"], format="ISO8601", errors="coerce").dropna()
        if months.empty:
            return None
        last = months.max()
    month = Cycle.parse((pd.Timestamp(last).to_period("M") + 1).strftime("%Y-%m"))
    return month if cadence == "monthly" else Cycle.containing(month.start, cadence)
