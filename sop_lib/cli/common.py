"""What every ``sop`` command shares: the typer app, the options, printing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sop_lib.core.cycle import Cycle

app = typer.Typer(
    help="S&OP workbook suite: snapshot the month's data, run the four workbooks, publish the HTML pack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# a cycle id is parsed when the option is read (``Cycle.parse``), before any file named after it is opened: a bad
# one stops the command with its message (exit code 2); the command gets the ``Cycle``
CycleOpt = Annotated[Cycle, typer.Option("--cycle", "-c", help="planning cycle, YYYY-MM (e.g. 2026-11) or, with "
                                         "cadence: quarterly, YYYY-Qn (e.g. 2026-Q4)", parser=Cycle.parse,
                                         metavar="YYYY-MM|YYYY-Qn")]
RootOpt = Annotated[
    Path | None,
    typer.Option("--root", help="project folder (default: $SOP_HOME, else the folder above with params/defaults.yaml)"),
]
InputsOpt = Annotated[
    Path | None, typer.Option("--inputs", "-i", help="folder with the input files (default: <root>/inputs)")
]


def echo(msg: str) -> None:
    typer.echo(msg)
