"""Reading one source of a mapping: a CSV, Excel or Parquet file, or the rows of a SQL query.

CSV and Excel are read as text (every cell a string, empty cells missing) so that codes keep their leading zeros;
:mod:`.values` decides later which columns are numbers. Parquet and SQL results keep their own types (DATE,
DECIMAL, TIMESTAMP). A source that cannot be read raises :class:`SourceProblem` with a message a planner can act
on: the encoding that works, the separator the header shows, the sheets a workbook has.

SQL sources: ``query`` is run by DuckDB, on an in-memory database whose ``file_search_path`` is the mapping's
folder (so ``FROM 'raw/x.parquet'`` or ``read_csv('raw/x.csv')`` find files next to the mapping), on a DuckDB
``database`` file opened read-only, or on a SQLAlchemy ``url`` through :func:`pandas.read_sql` (a relative
``sqlite:///erp.db`` is taken relative to the mapping's folder).
"""

from __future__ import annotations

import decimal
import gzip
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sop_lib.data.importer.mapping import Source

_ENCODINGS_TO_TRY = ("cp1252", "latin-1")
_SEPARATORS = {";": ";", "\t": "\\t", "|": "|", ",": ","}


class SourceProblem(Exception):
    """A source cannot be read. ``key`` is the key path of the mapping the message is about."""

    def __init__(self, message: str, key: str) -> None:
        self.key = key
        super().__init__(message)


@dataclass
class SourceData:
    """The rows of a source as read.

    ``frame`` holds text columns (``textual``: CSV, Excel) or typed ones (Parquet, SQL); ``first_row`` is the
    number of its first row as a spreadsheet shows it (2 under a header row, else 1); ``label`` says what was read.
    """

    frame: pd.DataFrame | object
    columns: list[str]
    textual: bool
    first_row: int
    label: str
    rows: int
    notes: list[str] = field(default_factory=list)
    decimal: str = "."
    thousands: str | None = None
    prepared: dict[tuple[str, bool], pd.Series] = field(default_factory=dict)  # (column, as text) → values


def resolve(base_dir: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else base_dir / p


def read_source(source: Source, base_dir: Path, key: str) -> SourceData:
    """Read ``source`` (paths relative to ``base_dir``); ``key`` is its key path, for messages."""
    kind = source.kind
    if kind == "sql":
        return _read_sql(source, base_dir, key)
    path = resolve(base_dir, source.path or "")
    if not path.is_file():
        raise SourceProblem(f"file not found: {path}", f"{key}.path")
    if kind == "csv":
        return _read_csv(source, path, key)
    if kind == "excel":
        return _read_excel(source, path, key)
    return _read_parquet(path, key)


# --- CSV ---------------------------------------------------------------------------------------------------------
def _file_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        return fh.read()


def _encoding_of(name: str | None) -> str:
    if not name or name.lower().replace("_", "-") in ("utf-8", "utf8"):
        return "utf-8-sig"  # takes a byte-order mark too
    return name


def _encoding_hint(path: Path, encoding: str) -> str:
    data = _file_bytes(path)
    try:
        data.decode(encoding)
        return f"{path.name} cannot be read as {encoding} text"
    except UnicodeDecodeError as exc:
        pos = exc.start
    works = []
    for enc in _ENCODINGS_TO_TRY:
        try:
            data.decode(enc)
            works.append(enc)
        except UnicodeDecodeError:
            continue
    # cp1252 and latin-1 differ on bytes 0x80-0x9f only: suggest cp1252 when the file uses them (€, ’, “ …)
    uses_c1 = any(0x80 <= b <= 0x9F for b in data)
    suggest = "cp1252" if "cp1252" in works and uses_c1 else "latin-1"
    start, end = data.rfind(b"\n", 0, pos) + 1, data.find(b"\n", pos)
    line_no = data.count(b"\n", 0, pos) + 1
    text = data[start:end if end >= 0 else len(data)].decode(suggest, errors="replace").strip()[:120]
    name = "UTF-8" if encoding == "utf-8-sig" else encoding
    return (f"{path.name} is not {name} text (byte 0x{data[pos]:02x} in line {line_no}); it reads as {suggest}: "
            f"\"{text}\". Add `encoding: {suggest}` to the source (cp1252 and latin-1 are the usual encodings of "
            "Windows and older systems).")


def _separator_hint(header: str, separator: str) -> str | None:
    for sep, written in _SEPARATORS.items():
        if sep != separator and sep in header:
            return f"add `separator: \"{written}\"` to the source (the header line holds '{written}')"
    return None


def _read_csv(source: Source, path: Path, key: str) -> SourceData:
    names = [s.lower() for s in path.suffixes]
    separator = source.separator or ("\t" if ".tsv" in names else ",")
    encoding = _encoding_of(source.encoding)
    try:
        frame = pd.read_csv(path, sep=separator, encoding=encoding, dtype=str, keep_default_na=False,
                            na_values=[""], skip_blank_lines=True)
    except UnicodeDecodeError:
        raise SourceProblem(_encoding_hint(path, encoding), f"{key}.encoding") from None
    except LookupError:
        raise SourceProblem(f"unknown encoding '{source.encoding}'; e.g. utf-8, latin-1, cp1252",
                            f"{key}.encoding") from None
    except pd.errors.EmptyDataError:
        raise SourceProblem(f"{path.name} is empty", f"{key}.path") from None
    except pd.errors.ParserError as exc:
        header = _header_line(path, encoding)
        hint = _separator_hint(header, separator)
        detail = str(exc).strip().splitlines()[-1]
        raise SourceProblem(f"{path.name} cannot be read as CSV ({detail})" + (f"; {hint}" if hint else ""),
                            f"{key}.separator" if hint else f"{key}.path") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame.columns) == 1:
        hint = _separator_hint(str(frame.columns[0]), separator)
        if hint:
            raise SourceProblem(f"{path.name} was read as one column, '{frame.columns[0][:80]}'; {hint}",
                                f"{key}.separator")
    return SourceData(frame, list(frame.columns), True, 2, _label(source, path), len(frame),
                      decimal=source.decimal or ".", thousands=source.thousands)


def _header_line(path: Path, encoding: str) -> str:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding=encoding, errors="replace") as fh:
            return fh.readline()
    except OSError:
        return ""


def _label(source: Source, path: Path) -> str:
    return source.path or str(path)


# --- Excel and Parquet -------------------------------------------------------------------------------------------
def _read_excel(source: Source, path: Path, key: str) -> SourceData:
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:  # not a workbook, encrypted, corrupt: say so, no traceback
        raise SourceProblem(f"{path.name} cannot be read as an Excel workbook ({exc.__class__.__name__}: {exc})",
                            f"{key}.path") from None
    with book:
        sheets = [str(s) for s in book.sheet_names]
        sheet = source.sheet if source.sheet is not None else sheets[0]
        if sheet not in sheets:
            raise SourceProblem(f"sheet '{sheet}' not found in {path.name}; its sheets are: {', '.join(sheets)}",
                                f"{key}.sheet")
        frame = book.parse(sheet, dtype=str, keep_default_na=False, na_values=[""])
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.loc[:, [not c.startswith("Unnamed: ") or frame[c].notna().any() for c in frame.columns]]
    notes = [] if source.sheet is not None else [f"sheet '{sheet}' read (the first of: {', '.join(sheets)})"]
    return SourceData(frame, list(frame.columns), True, 2, f"{_label(source, path)}, sheet '{sheet}'", len(frame),
                      notes=notes)


def _read_parquet(path: Path, key: str) -> SourceData:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # not Parquet or corrupt
        raise SourceProblem(f"{path.name} cannot be read as Parquet ({exc.__class__.__name__}: {exc})",
                            f"{key}.path") from None
    for i, fld in enumerate(table.schema):  # dictionary (categorical) columns as their plain values
        if pa.types.is_dictionary(fld.type):
            table = table.set_column(i, fld.name, table.column(i).cast(fld.type.value_type))
    drop = [c for c in table.column_names if c.startswith("__index_level_")]
    table = table.drop_columns(drop) if drop else table
    return SourceData(table, list(table.column_names), False, 1, str(path.name), table.num_rows)


# --- SQL ---------------------------------------------------------------------------------------------------------
def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal objects as floats and date objects as timestamps (what DuckDB and the months reader take)."""
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        first = frame[col].dropna().head(1)
        if len(first) and isinstance(first.iloc[0], decimal.Decimal):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0] if lines else exc.__class__.__name__


def _read_sql(source: Source, base_dir: Path, key: str) -> SourceData:
    query = source.query or ""
    if source.url:
        frame, label = _read_url(source.url, query, base_dir, key)
    else:
        frame, label = _read_duckdb(source.database, query, base_dir, key)
    frame.columns = [str(c) for c in frame.columns]
    return SourceData(_plain(frame), list(frame.columns), False, 1, label, len(frame))


def _read_duckdb(database: str | None, query: str, base_dir: Path, key: str) -> tuple[pd.DataFrame, str]:
    import duckdb

    if database:
        path = resolve(base_dir, database)
        if not path.is_file():
            raise SourceProblem(f"DuckDB database file not found: {path}", f"{key}.database")
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise SourceProblem(f"cannot open {path.name} as a DuckDB database: {_one_line(exc)}",
                                f"{key}.database") from None
        label = f"SQL query on {database}"
    else:
        con = duckdb.connect()
        label = "SQL query (DuckDB)"
    try:
        con.execute("SET file_search_path = ?", [str(base_dir)])
        frame = con.execute(query).df()
    except duckdb.Error as exc:
        raise SourceProblem(f"the query failed: {_one_line(exc)}", f"{key}.query") from None
    finally:
        con.close()
    return frame, label


def _read_url(url: str, query: str, base_dir: Path, key: str) -> tuple[pd.DataFrame, str]:
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise SourceProblem(f"'{url}' is not a database URL (e.g. sqlite:///erp.db, "
                            "postgresql://user@host/db)", f"{key}.url") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername.startswith("sqlite") and parsed.database and parsed.database != ":memory:":
        db = resolve(base_dir, parsed.database)
        if not db.is_file():  # SQLite would create an empty database and report a missing table
            raise SourceProblem(f"SQLite database file not found: {db}", f"{key}.url")
        parsed = parsed.set(database=str(db))
    try:
        engine = sa.create_engine(parsed)
    except Exception as exc:  # unknown dialect or a driver that is not installed
        raise SourceProblem(f"cannot use the database URL: {_one_line(exc)}", f"{key}.url") from None
    try:
        with engine.connect() as conn:
            frame = pd.read_sql(sa.text(query), conn)
    except sa.exc.SQLAlchemyError as exc:
        detail = _one_line(getattr(exc, "orig", None) or exc)
        raise SourceProblem(f"the query failed: {detail}", f"{key}.query") from None
    finally:
        engine.dispose()
    return frame, f"SQL query on {shown}"
