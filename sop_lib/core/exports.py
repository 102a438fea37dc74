"""Files a spreadsheet will open (CSV exports, lists of problems): text that would run as a formula is
neutralised. Pure functions."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d,]*\.?\d*|\.\d+)([eE][+-]?\d+)?%?")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to open in a spreadsheet: text cells that begin with ``=``, ``+``, ``-``, ``@``
    (or a tab or carriage return) get a leading ``'``, so Excel or LibreOffice shows them as text instead of
    evaluating them (``=HYPERLINK(...)``, ``+cmd|...``). Numbers stay numbers, and so does text that is only a
    number (``-12``, ``+3.5``). Use it for every CSV or Excel export."""
    out = frame.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
        elif not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        out[col] = out[col].map(_neutralise_cell)
    return out


def _neutralise_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
