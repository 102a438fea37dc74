"""The module table of docs/architecture.md, made from the real imports.

``python tools/architecture.py`` prints the table; ``--write`` (``make docs``) puts it between the markers in
docs/architecture.md; ``--check`` (``make lint``) exits 1 when the file is out of date or a folder imports a later one. tests/test_architecture.py fails when the file and the code disagree or when a folder
imports one above it in ``LAYERS``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sop_lib"
DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- modules: begin (tools/architecture.py --write) -->", "<!-- modules: end -->"

# The folders in the order of the cycle: a folder may import those before it, never one after it.
# The faces (cli, widgets, demo) sit on top and import anything; nothing imports them but each other.
LAYERS = ("core", "data", "demand", "supply", "finance", "review", "report", "pack", "widgets", "demo", "cli")


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (``sop_lib.data.store``); packages by their ``__init__``."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, at the top or inside a function (``from x import y`` counts
    ``x.y`` when that is a module, else ``x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sop_lib"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = name.split(".") if is_pkg else name.split(".")[:-1]
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            if not base.startswith("sop_lib"):
                continue
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            found.update(subs or [base])
    found.discard(name)
    return {m for m in found if m in known}


def folder_of(module: str) -> str:
    """The top folder of a module (``sop_lib.data.store`` → ``data``); ``sop_lib`` itself → ``sop_lib``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "sop_lib"


def summary(path: Path) -> str:
    """The first sentence of a module's docstring."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    text = " ".join(doc.split())
    end = text.find(". ")
    return (text if end < 0 else text[: end + 1]).replace("|", "\\|")


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def violations() -> list[str]:
    """Imports that point from a folder to one after it in ``LAYERS``."""
    rank = {f: i for i, f in enumerate(LAYERS)}
    bad = []
    for mod, deps in graph().items():
        own = folder_of(mod)
        for dep in sorted(deps):
            other = folder_of(dep)
            if own in rank and other in rank and rank[other] > rank[own]:
                bad.append(f"{mod} imports {dep} ({own} may not import {other})")
    return bad


def table() -> str:
    """The module table: one row per module, its first docstring sentence and what it imports."""
    known = modules()
    g = graph()
    rows = ["| module | what it owns | imports (of sop_lib) |", "|---|---|---|"]
    for name, path in known.items():
        short = name.removeprefix("sop_lib.") if name != "sop_lib" else "sop_lib"
        deps = ", ".join(f"`{d.removeprefix('sop_lib.')}`" for d in sorted(g[name])) or "—"
        rows.append(f"| `{short}` | {summary(path)} | {deps} |")
    return "\n".join(rows) + "\n"


def folder_table() -> str:
    """The folders in cycle order and which other folders each one's modules import."""
    g = graph()
    uses: dict[str, set[str]] = {}
    for mod, deps in g.items():
        uses.setdefault(folder_of(mod), set()).update(folder_of(d) for d in deps)
    rows = ["| folder | imports folders |", "|---|---|"]
    for f in (*LAYERS, "sop_lib"):
        if f in uses:
            deps = ", ".join(f"`{d}`" for d in LAYERS if d in uses[f] - {f}) or "—"
            rows.append(f"| `{f}/` | {deps} |" if f != "sop_lib" else f"| `sop_lib` (package) | {deps} |")
    return "\n".join(rows) + "\n"


def rendered() -> str:
    return f"{BEGIN}\n### Folders, in the order of the cycle\n{folder_table()}\n### Modules\n{table()}{END}"


def current_block(text: str) -> str:
    start, stop = text.find(BEGIN), text.find(END)
    return text[start: stop + len(END)] if start >= 0 and stop >= 0 else ""


if __name__ == "__main__":
    if "--check" in sys.argv:  # make lint: the folders' order and the docs' table
        problems = violations()
        if current_block(DOC.read_text(encoding="utf-8")) != rendered():
            problems.append("docs/architecture.md's module table is out of date: run `make docs`")
        for line in problems:
            print(line, file=sys.stderr)
        sys.exit(1 if problems else 0)
    if "--write" in sys.argv:
        text = DOC.read_text(encoding="utf-8")
        block = current_block(text)
        DOC.write_text(text.replace(block, rendered()) if block else text + "\n" + rendered() + "\n", encoding="utf-8")
        print(f"wrote the module table to {DOC.relative_to(ROOT)}")
    else:
        print(rendered())
    for line in violations():
        print("LAYER:", line, file=sys.stderr)
