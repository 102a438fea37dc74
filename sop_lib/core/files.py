"""Replacing a file in one step: write a temporary file in the target's folder, then rename it over the target.

A reader (a planner's Excel, the pack's browser, the next step of the cycle) sees the old file or the new one,
never half of one, and a failed write leaves the old file as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; on leaving the block without an exception, move it onto
    ``path`` with :func:`os.replace` (atomic: the same folder is the same file system); on any exception (including
    a failed rename or Ctrl-C) delete it and let the exception through, ``path`` untouched.

    The temporary file is hidden (``.<name>.<pid>.<random><suffix>``) so that two writers never share one, and it
    is not created in advance: the writer creates it, with the usual permissions. The folder must exist.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # after a successful rename there is nothing left to remove
