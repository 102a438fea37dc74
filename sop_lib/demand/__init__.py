"""Demand (workbook 01): the statistical forecast and the consensus plan of record built from the overrides.
Imports ``core`` and ``data``."""
