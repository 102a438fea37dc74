"""``sop overrides``: the cycle's overrides of the statistical forecast (``template``: a workbook to fill in
Excel)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sop_lib.cli.common import CycleOpt, RootOpt, app
from sop_lib.cli.common import echo as _echo

overrides_app = typer.Typer(help="The cycle's overrides of the statistical forecast: template.",
                            no_args_is_help=True)
app.add_typer(overrides_app, name="overrides")


@overrides_app.command("template")
def overrides_template(
    cycle: CycleOpt,
    root: RootOpt = None,
    out: Annotated[Path | None, typer.Option(help="where to write it (default: params/overrides/<cycle>.xlsx)")
                   ] = None,
    force: Annotated[bool, typer.Option(help="write it again over an existing workbook (its rows are kept)")
                     ] = False,
) -> None:
    """Write an Excel workbook to fill the cycle's overrides in: the statistical forecast by family × region ×
    month for reference, an input sheet with drop-down lists, and how to fill it. The cycle's CSV overrides, if
    any, are copied into it."""
    from sop_lib.data.overrides_xlsx import make_overrides_template
    from sop_lib.data.store import Store

    done = make_overrides_template(Store(root), cycle, out, force=force)
    c = done.content
    copied = f"; {len(c.rows)} row(s) copied from {c.rows_from}" if c.rows_from else ""
    _echo(f"Wrote {done.path} for cycle {cycle} (snapshot {c.fingerprint[:12]}){copied}.\n"
          f"Forecast sheet: {c.forecast_note}\n"
          f"Fill the sheet Overrides in Excel, then check it with `sop validate --cycle {cycle}`.")
    if c.dropped_columns:
        _echo(f"Note: the column(s) {', '.join(c.dropped_columns)} of {c.rows_from} are not overrides columns and "
              "were not copied.")
    if done.csv_beside is not None:
        _echo(f"Note: {done.csv_beside} is still there, and `sop run` refuses a cycle with both files. Its rows are "
              "in the workbook: delete or move the CSV once you work in the workbook.")
