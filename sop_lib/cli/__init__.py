"""The ``sop`` command (the commands live in ``cycle_commands``, ``project_commands``, ``decision_commands`` and
``overrides_commands``).

Errors the suite raises on purpose print as a message (no traceback) and exit with the error's code: 2 invalid
input or parameters, 3 cycle already published, 4 a workbook failed, 5 another command is writing the cycle's
data; 130 / 143 interrupted (SIGINT / SIGTERM), nothing published.

A cycle id is parsed when the option is read (``common.CycleOpt``), before any file named after it is opened."""

from __future__ import annotations

import os
import sys

import typer

from sop_lib.cli import (  # noqa: F401  (they register the commands)
    cycle_commands,
    decision_commands,
    overrides_commands,
    project_commands,
)
from sop_lib.cli.common import app
from sop_lib.core.errors import SopError
from sop_lib.pack.runs import RunInterrupted

__all__ = ["app", "main"]


def main() -> None:
    try:
        app(standalone_mode=False)
    except SopError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("Interrupted; nothing was published.", err=True)
        sys.exit(130)
    except RunInterrupted as exc:
        typer.echo(f"{exc}: the run's processes were stopped and its partial folder removed; nothing was published.",
                   err=True)
        sys.exit(128 + exc.signum)
    except Exception as exc:  # usage errors come here in non-standalone mode, from click or typer's own copy
        import click
        from typer import exceptions as typer_exceptions

        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()  # a ClickException (click's or typer's own copy): bad or missing option, with the usage line
            sys.exit(code)
        if isinstance(exc, click.exceptions.Exit | typer_exceptions.Exit):
            sys.exit(getattr(exc, "exit_code", 0))
        if isinstance(exc, click.exceptions.Abort | typer_exceptions.Abort):
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        if os.environ.get("SOP_DEBUG"):
            raise
        typer.echo(f"Error: unexpected {exc.__class__.__name__}: {exc}\nThis is a bug in the suite, not in your "
                   "data: please report it with the command you ran (SOP_DEBUG=1 shows the traceback).", err=True)
        sys.exit(1)
