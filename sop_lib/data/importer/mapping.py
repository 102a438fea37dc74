"""The mapping file (``mapping.yaml``): which extract feeds which contract table, declared, not programmed.

Structure (``docs/import.md`` has the full reference and worked examples)::

    sources:   {name: source block}          named extracts, read once even if several tables use them
    tables:    {contract table: table block}  how to build each table; tables not named are left alone

A source block has ``path`` (csv, txt, tsv, optionally .gz; xlsx/xlsm; parquet) or ``query`` (format sql, run by
DuckDB, on a DuckDB ``database`` file or a SQLAlchemy ``url``), and the reading options ``format``,
``separator``, ``encoding``, ``decimal``, ``thousands`` (csv) and ``sheet`` (excel). A table block has
``source`` (a name from ``sources`` or an inline source block), ``date_format``, ``filters``, ``columns``,
``constants``, ``aggregate``, ``derive`` and ``having``.

:func:`load_mapping` checks the structure with pydantic models (unknown keys are refused) and the meaning against
the contract (known tables and columns, known source names, aggregate functions, the contract's required columns
given), and reports every problem at once as ``mapping.yaml: tables.sales_history.columns.units: …``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, PrivateAttr, Tag, ValidationError

from sop_lib.data.importer.problems import MappingError
from sop_lib.data.importer.rules import AGGREGATES, format_of_path, meaning_problems

Format = Literal["csv", "excel", "parquet", "sql"]
_YAML_BOOL_HINT = "YAML reads yes/no/on/off/true/false (and NO, for Norway) as true/false: put the text in quotes"


# --- the models --------------------------------------------------------------------------------------------------
def _text(value: Any) -> Any:
    """An expression or column name: text, or a number YAML read as one (``units: 1``)."""
    if isinstance(value, bool):
        raise ValueError(f"got {str(value).lower()}: {_YAML_BOOL_HINT}")
    return str(value) if isinstance(value, (int, float)) else value


def _constant(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"got {str(value).lower()}: {_YAML_BOOL_HINT}")
    return value


def _separator(value: Any) -> Any:
    """``'\\t'`` (a backslash and t, as YAML keeps it in single quotes) and ``tab`` mean a tab."""
    return "\t" if isinstance(value, str) and value.lower() in ("\\t", "tab") else value


def _aggregate(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value in AGGREGATES):
        return value
    if isinstance(value, str):
        raise ValueError(f"unknown aggregate function '{value}'; use one of {', '.join(AGGREGATES)}, "
                         "or a mapping column → function")
    if isinstance(value, dict):
        bad = [f"{col}: {fn}" for col, fn in value.items() if fn not in AGGREGATES]
        if bad:
            raise ValueError(f"unknown aggregate function(s) {'; '.join(bad)}; use one of {', '.join(AGGREGATES)}")
        return {str(col): fn for col, fn in value.items()}
    raise ValueError("give one function (sum) or a mapping column → function")


Expr = Annotated[str, BeforeValidator(_text)]
Scalar = Annotated[str | int | float | dt.date | dt.datetime | None, BeforeValidator(_constant)]
Aggregate = Annotated[str | dict[str, str] | None, BeforeValidator(_aggregate)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the rows of a table come from, and how to read them."""

    path: str | None = None
    format: Format | None = None
    separator: Annotated[str | None, BeforeValidator(_separator)] = None
    encoding: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    sheet: Annotated[str | None, BeforeValidator(_text)] = None
    query: str | None = None
    database: str | None = None
    url: str | None = None

    @property
    def kind(self) -> str:
        """csv, excel, parquet or sql: ``format``, else told by the suffix of ``path``."""
        if self.format:
            return self.format
        if self.query:
            return "sql"
        return format_of_path(self.path or "") or "csv"


class Filter(_Strict):
    """A row filter: ``keep`` the rows where the SQL condition holds, or ``drop`` them; ``reason`` for the report."""

    keep: Expr | None = None
    drop: Expr | None = None
    reason: str = ""

    @property
    def kind(self) -> Literal["keep", "drop"]:
        return "keep" if self.keep is not None else "drop"

    @property
    def condition(self) -> str:
        return self.keep if self.keep is not None else (self.drop or "")


def _source_tag(value: Any) -> str:
    return "source-name" if isinstance(value, str) else "source-block"


SourceRef = Annotated[
    Annotated[str, Tag("source-name")] | Annotated[Source, Tag("source-block")], Discriminator(_source_tag)
]


class TableMap(_Strict):
    """How one contract table is built from a source."""

    source: SourceRef
    date_format: str = "auto"
    filters: list[Filter] = []
    columns: dict[str, Expr] = {}
    constants: dict[str, Scalar] = {}
    aggregate: Aggregate = None
    derive: dict[str, Expr] = {}
    having: list[Filter] = []


class Mapping(_Strict):
    """A whole mapping file. ``path`` is the file it was read from (``None`` when built in code)."""

    sources: dict[str, Source] = {}
    tables: dict[str, TableMap] = {}
    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        return self._path

    def source_of(self, table: str) -> tuple[Source, str, str]:
        """The source block of a table, its key path in the file, and a cache key (named sources are read once)."""
        ref = self.tables[table].source
        if isinstance(ref, str):
            return self.sources[ref], f"sources.{ref}", f"name:{ref}"
        return ref, f"tables.{table}.source", f"table:{table}"


# --- loading -----------------------------------------------------------------------------------------------------
def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; raise :class:`MappingError` listing every problem with its key path."""
    path = Path(path)
    if not path.exists():
        raise MappingError(f"No mapping file at {path}. `sop init` writes a commented template (mapping.yaml); "
                           "docs/import.md explains every key.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = getattr(exc, "problem", None) or str(exc)
        raise MappingError(f"{path.name}: {where}not valid YAML ({what}). Check the indentation and quote "
                           "values that hold ': ' or start with a special character.") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path.name}: not UTF-8 text; save the mapping file as UTF-8.") from None
    return parse_mapping(raw if raw is not None else {}, path)


def parse_mapping(raw: Any, path: Path) -> Mapping:
    """Check a mapping already read from YAML (``raw``); ``path`` names it in messages and anchors relative paths."""
    problems: list[tuple[str, str]] = []
    mapping: Mapping | None = None
    if not isinstance(raw, dict):
        problems.append(("", "the file must be a mapping of keys (sources:, tables:), not a list or a single value"))
    else:
        try:
            mapping = Mapping.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc))
        problems.extend(meaning_problems(raw))
    if problems:
        lines = _lines(path.name, sorted(problems, key=lambda p: _position(p[0], raw)))
        n = len(lines)
        raise MappingError(
            f"The mapping {path} has {n} problem{'s' if n != 1 else ''}; nothing was imported:\n  "
            + "\n  ".join(lines) + "\ndocs/import.md describes every key of the mapping.", lines)
    assert mapping is not None
    mapping._path = path
    return mapping


def _position(key: str, raw: Any) -> tuple[int, int]:
    """Where a key path stands in the file (section, then entry), so problems are listed in the file's order."""
    parts = key.replace("[", ".").split(".")
    section = ["sources", "tables"].index(parts[0]) if parts[0] in ("sources", "tables") else -1
    entries = list(raw.get(parts[0]) or {}) if isinstance(raw, dict) and isinstance(raw.get(parts[0]), dict) else []
    entry = entries.index(parts[1]) if len(parts) > 1 and parts[1] in entries else -1
    return section, entry


def _lines(file: str, problems: list[tuple[str, str]]) -> list[str]:
    seen: list[str] = []
    for key, text in problems:
        line = f"{file}: {key}: {text}" if key else f"{file}: {text}"
        if line not in seen:
            seen.append(line)
    return seen


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if part in ("source-name", "source-block"):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_ALLOWED = {
    "top": ("sources", "tables"),
    "source": tuple(Source.model_fields),
    "table": tuple(TableMap.model_fields),
    "filter": tuple(Filter.model_fields),
}


def _allowed_for(loc: tuple[Any, ...]) -> tuple[str, ...]:
    loc = tuple(p for p in loc if p not in ("source-name", "source-block"))
    if len(loc) == 1:
        return _ALLOWED["top"]
    if loc[0] == "sources" or (len(loc) == 4 and loc[2] == "source"):
        return _ALLOWED["source"]
    if len(loc) == 3:
        return _ALLOWED["table"]
    return _ALLOWED["filter"]


def _pydantic_problems(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            text = f"unknown key; allowed here: {', '.join(_allowed_for(loc))}"
        elif err["type"] == "missing":
            text = "missing (required)"
        else:
            text = str(err["msg"]).removeprefix("Value error, ")
        out.append((_key(loc), text))
    return out
