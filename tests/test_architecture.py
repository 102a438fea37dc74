"""The house rules that keep a concept in one place: folders in the order of the cycle, the module table in
docs/architecture.md made from the real imports, short functions, docstrings whose references resolve."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str):  # noqa: ANN202 - a module object
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


architecture = _tool("architecture")
long_functions = _tool("long_functions")


def test_no_folder_imports_a_later_one() -> None:
    assert architecture.violations() == []


def test_the_layer_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    code = "def f():\n    from sop_lib.pack.run import run_cycle\n    from ..review import kpi\n"
    path = tmp_path / "m.py"
    path.write_text(code)
    known = {"sop_lib.pack.run": path, "sop_lib.review.kpi": path, "sop_lib.review": path, "sop_lib.data.m": path}
    assert architecture.imports_of("sop_lib.data.m", path, known) == {"sop_lib.pack.run", "sop_lib.review.kpi"}


def test_the_module_table_in_the_docs_is_made_from_the_real_imports() -> None:
    doc = architecture.DOC.read_text(encoding="utf-8")
    assert architecture.current_block(doc) == architecture.rendered(), (
        "docs/architecture.md's module table is out of date: run `python tools/architecture.py --write`")


def test_every_module_says_what_it_owns() -> None:
    missing = [name for name, path in architecture.modules().items() if not architecture.summary(path)]
    assert missing == []


def test_functions_stay_short_and_modules_under_400_lines() -> None:
    """Over 60 lines only with a comment on the line above the ``def`` saying why (``# long: …``)."""
    unexplained = []
    for file, name, n in long_functions.long_functions(60):
        lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
        at = next(i for i, line in enumerate(lines) if re.match(rf"\s*(async )?def {name}\(", line))
        above = lines[at - 1].strip() if at else ""
        if not above.startswith("# long:"):
            unexplained.append(f"{file}:{name} ({n} lines)")
    assert unexplained == []
    assert long_functions.long_modules(400) == []


_DOC_FILE = re.compile(r"\b(docs/[\w./-]+\.md)\b")
_ROLE = re.compile(r":(?:func|mod|data|class|meth|attr):`~?([\w.]+)`")


def _docstrings(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                out.append((getattr(node, "lineno", 1), doc))
    return out


def _resolves(ref: str, module: object, names: set[str]) -> bool:
    """A reference resolves as a name of its module, a dotted path from it, or a dotted path in sop_lib."""
    pkg = module.__name__ if hasattr(module, "__path__") else module.__name__.rsplit(".", 1)[0]
    if ref.startswith("."):  # relative to the module's package
        ref = f"{pkg}{ref}"
    head, _, rest = ref.partition(".")
    if ref in names or head in names and not rest:
        return True
    candidates = [ref, f"sop_lib.{ref}", f"{pkg}.{ref}", f"{module.__name__}.{ref}"]
    for full in candidates:
        parts = full.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            return True
    return False


@pytest.mark.parametrize("path", sorted(p for p in (ROOT / "sop_lib").rglob("*.py") if p.name != "__main__.py"), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_docstring_reference_resolves(path: Path) -> None:
    """``docs/x.md`` exists; :func:`name` (and :mod:, :data:, :class:) names something that exists."""
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    module = importlib.import_module(name)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    defined |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign | ast.AnnAssign)
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    defined |= set(dir(module))
    broken = []
    for line, doc in _docstrings(tree):
        broken += [f"line {line}: {f}" for f in _DOC_FILE.findall(doc) if not (ROOT / f).exists()]
        broken += [f"line {line}: {r}" for r in _ROLE.findall(doc) if not _resolves(r, module, defined)]
    assert broken == []
