"""The demo company's own project folder: its parameters (``params/`` beside this module) and a marker.

``sop demo`` runs in a project made for it, never in a company's own: the package's defaults stay neutral
(``sop init``), and the demo's resources, overtime, scenarios and overrides live only here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sop_lib.core.cycle import Cycle
from sop_lib.core.errors import SopError

DEMO_PARAMS = Path(__file__).resolve().parent / "params"
MARKER = ".sop-demo"


class NotADemoProject(SopError):
    """``sop demo`` was pointed at a project of the user's own."""

    exit_code = 2


def is_demo_project(root: Path) -> bool:
    return (Path(root) / MARKER).exists()


def ensure_demo_project(root: Path) -> bool:
    """Make ``root`` the demo company's project unless it already is one; True when it was created now.

    A demo project keeps its parameters between runs (a planner may edit its overrides to try them); a folder
    holding a project of the user's own (``params/defaults.yaml`` without the marker) is refused, since the
    demo rewrites ``inputs/`` every cycle.
    """
    root = Path(root).expanduser().resolve()
    if is_demo_project(root):
        return False
    if (root / "params" / "defaults.yaml").exists():
        raise NotADemoProject(
            f"{root} is a project of its own (params/defaults.yaml, no {MARKER} marker): `sop demo` would overwrite "
            "its inputs. Run the demo in a folder of its own: `sop demo --root DIR`.")
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DEMO_PARAMS, root / "params", dirs_exist_ok=True)
    (root / MARKER).write_text("This folder is the demo company's S&OP project, made by `sop demo`.\n",
                               encoding="utf-8")
    return True


def set_demo_cadence(root: Path, cycle: Cycle) -> Path | None:
    """The demo company's cycle is a month; a quarterly demo cycle (``sop demo --cycles 2026-Q4``) gets
    ``cadence: quarterly`` in its own ``params/<cycle>.yaml``, as a company that moved to quarterly cycles
    would set it. Returns the file written, ``None`` for a monthly cycle or a file that already sets a cadence."""
    if cycle.cadence == "monthly":
        return None
    path = Path(root) / "params" / f"{cycle}.yaml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if any(line.startswith("cadence:") for line in text.splitlines()):
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + f"# {cycle} is a quarterly cycle (written by `sop demo`)\ncadence: {cycle.cadence}\n",
                    encoding="utf-8")
    return path
