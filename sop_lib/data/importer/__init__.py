"""``sop import``: a company's own extract → the data contract's files in ``inputs/``, declared in a mapping file.

Real extracts are order lines (several rows per SKU, region and month, dates like ``13/01/11``), Excel workbooks,
Parquet from SQL exports or a database. A mapping file (``mapping.yaml``) says where each contract table comes
from and how: filters, columns (renames or SQL expressions run by DuckDB), constants, aggregation to months,
derived columns. ``docs/import.md`` is the user guide; :data:`MAPPING_TEMPLATE` the commented starting point.

The modules, in the order an import runs:

- :mod:`.mapping` — the mapping's pydantic models and :func:`load_mapping` (every problem at once, by key path);
- :mod:`.sources` — reading CSV, Excel, Parquet and SQL sources, with hints when they cannot be read;
- :mod:`.values` — text to numbers and months, exactly (codes keep their leading zeros);
- :mod:`.sql` — the DuckDB steps: filters, columns, aggregation, derive, having;
- :mod:`.checks` — the contract's columns read and checked; :mod:`.build` — :func:`build_tables`;
- :mod:`.write` — :func:`write_inputs`, atomically; :mod:`.report` — what happened, as data and text.

Typical use::

    mapping = load_mapping(root / "mapping.yaml")
    result = build_tables(mapping, mapping_dir)   # raises ImportFailed listing every problem
    write_inputs(result, root / "inputs")
"""

from __future__ import annotations

from sop_lib.data.importer.build import build_tables
from sop_lib.data.importer.mapping import Filter, Mapping, Source, TableMap, load_mapping, parse_mapping
from sop_lib.data.importer.problems import PROBLEM_COLUMNS, ImportFailed, MappingError
from sop_lib.data.importer.report import FilterStep, ImportResult, TableReport
from sop_lib.data.importer.template import MAPPING_TEMPLATE
from sop_lib.data.importer.write import REPORT_FILE, write_inputs

__all__ = [
    "MAPPING_TEMPLATE",
    "PROBLEM_COLUMNS",
    "REPORT_FILE",
    "Filter",
    "FilterStep",
    "ImportFailed",
    "ImportResult",
    "Mapping",
    "MappingError",
    "Source",
    "TableMap",
    "TableReport",
    "build_tables",
    "load_mapping",
    "parse_mapping",
    "write_inputs",
]
