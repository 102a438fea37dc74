"""Functions longer than a limit (default 60 lines) and modules over 400 lines: ``python tools/long_functions.py``."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def long_functions(limit: int = 60) -> list[tuple[str, str, int]]:
    """(file, function, lines) for each function of sop_lib longer than ``limit`` lines, docstring included."""
    out = []
    for path in sorted((ROOT / "sop_lib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    out.append((str(path.relative_to(ROOT)), node.name, length))
    return out


def long_modules(limit: int = 400) -> list[tuple[str, int]]:
    """(file, lines) for each module of sop_lib longer than ``limit`` lines."""
    return [(str(p.relative_to(ROOT)), n) for p in sorted((ROOT / "sop_lib").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > limit]


if __name__ == "__main__":
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    for file, name, n in long_functions(limit):
        print(f"{n:4d}  {file}:{name}")
    for file, n in long_modules():
        print(f"{n:4d}  {file} (module)")
