"""What every ``sop`` command shares: the typer app, the options, printing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="S&OP workbook suite: snapshot the month's data, run the four workbooks, publish the HTML pack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def cycle_id(value: str | None) -> str | None:
    """Option callback: a cycle id must be YYYY-MM within the supported years (``cycle_id.parse_cycle``)."""
    if value is not None:
        from sop_lib.core.cycle import parse_cycle

        parse_cycle(value)
    return value


CycleOpt = Annotated[str, typer.Option("--cycle", "-c", help="planning cycle, YYYY-MM (e.g. 2026-11)",
                                       callback=cycle_id)]
RootOpt = Annotated[
    Path | None,
    typer.Option("--root", help="project folder (default: $SOP_HOME, else the folder above with params/defaults.yaml)"),
]
InputsOpt = Annotated[
    Path | None, typer.Option("--inputs", "-i", help="folder with the input files (default: <root>/inputs)")
]


def echo(msg: str) -> None:
    typer.echo(msg)
