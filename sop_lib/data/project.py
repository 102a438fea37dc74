"""An S&OP project folder: where the one in use is (``find_root``), and a new one a company owns (``sop init``):
neutral parameters, header-only input templates, a commented mapping file for ``sop import``, and a README.

Nothing of the demo company is written here: the demo builds its own project (``sop_lib.demo.project``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sop_lib.core.errors import ParamsError, SopError
from sop_lib.data.contract import TABLES, columns_of
from sop_lib.data.overrides import OVERRIDE_COLUMNS

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "project"


def find_root(root: str | Path | None = None) -> Path:
    """The project root: ``root`` if given, else ``$SOP_HOME``, else the nearest folder at or above the
    working directory that holds ``params/defaults.yaml``."""
    given = root or os.environ.get("SOP_HOME")
    if given:
        folder = Path(given).expanduser().resolve()
        if not folder.is_dir():  # a mistyped --root must not become a new project
            where = "--root" if root else "SOP_HOME"
            raise ParamsError(f"The project folder {folder} ({where}) does not exist. Pass the folder that holds "
                              "params/defaults.yaml, or make one with `sop init`.")
        return folder
    here = Path.cwd().resolve()
    for folder in [here, *here.parents]:
        if (folder / "params" / "defaults.yaml").exists():
            return folder
    raise SopError(
        f"No S&OP project found at or above {here}: expected a folder with params/defaults.yaml. "
        "Run from the project folder, pass --root, or set SOP_HOME."
    )


class ProjectExists(SopError):
    """``sop init`` was pointed at a folder that already is a project."""

    exit_code = 2


def _fill(text: str, company: str, currency: str) -> str:
    # json.dumps quotes a name with any character safely for YAML ("Smith & Sons: \"best\"" included)
    return text.replace("__COMPANY__", json.dumps(company, ensure_ascii=False)).replace(
        "__CURRENCY__", json.dumps(currency, ensure_ascii=False))


def neutral_defaults(company: str, currency: str) -> str:
    """The text of a new project's ``params/defaults.yaml``: every key, commented, no resource or scenario."""
    return _fill((TEMPLATES / "defaults.yaml").read_text(encoding="utf-8"), company, currency)


def init_project(root: Path, company: str, currency: str) -> list[Path]:
    """Create a project folder at ``root`` (made if missing) and return the files written.

    Raises ``ProjectExists`` if ``root`` already holds ``params/defaults.yaml``: an existing project's
    parameters and data are never overwritten.
    """
    from sop_lib.data.importer import MAPPING_TEMPLATE

    root = Path(root).expanduser().resolve()
    if (root / "params" / "defaults.yaml").exists():
        raise ProjectExists(f"{root} is already an S&OP project (it has params/defaults.yaml); nothing was changed. "
                            "Choose a new folder for `sop init`.")
    files: dict[Path, str] = {
        root / "params" / "defaults.yaml": neutral_defaults(company, currency),
        root / "params" / "overrides" / "_template.csv": ",".join(OVERRIDE_COLUMNS) + "\n",
        root / "mapping.yaml": MAPPING_TEMPLATE,
        root / "README.md": (TEMPLATES / "README.md").read_text(encoding="utf-8").replace("__COMPANY__", company),
    }
    for name in TABLES:
        files[root / "inputs" / f"{name}.csv"] = ",".join(columns_of(name)) + "\n"
    written = []
    for path, text in files.items():
        if path.exists():
            continue  # a file the user already put there (e.g. an extract in inputs/) stays as it is
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return sorted(written)
