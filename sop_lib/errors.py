"""One exception tree whose messages a planner can act on.

The CLI prints ``str(error)`` (never a traceback) and exits with ``error.exit_code``.
"""

from __future__ import annotations

import pandas as pd


class SopError(Exception):
    """Base of every error the suite raises on purpose."""

    exit_code: int = 1


class ParamsError(SopError):
    """A parameter file is missing, unreadable or holds an unknown or invalid value."""

    exit_code = 2


class InputInvalid(SopError):
    """Input files failed validation. ``problems`` has one row per problem.

    Columns: ``file``, ``row``, ``column``, ``problem``, ``value``.
    """

    exit_code = 2

    def __init__(self, problems: pd.DataFrame, inputs_dir: str = "") -> None:
        self.problems = problems
        self.inputs_dir = inputs_dir
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.problems)
        files = self.problems["file"].nunique()
        head = (
            f"The input files in {self.inputs_dir or 'the inputs folder'} have {n} problem"
            f"{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}; nothing was snapshotted "
            "or published. Fix them and run again.\n"
        )
        shown = self.problems.head(200).astype("string").fillna("")
        table = shown.to_string(index=False, max_colwidth=90)
        more = f"\n… and {n - 200} more." if n > 200 else ""
        return head + table + more


class CycleNotFound(SopError):
    """The cycle has no snapshot (or no published results) where one was expected."""

    exit_code = 2


class CycleAlreadyPublished(SopError):
    """Re-running a published cycle needs an explicit ``--force``."""

    exit_code = 3


class CycleLocked(SopError):
    """Another run of the same cycle holds the lock."""

    exit_code = 5


class WorkbookFailed(SopError):
    """A notebook raised during the papermill run; its executed copy keeps the error."""

    exit_code = 4
