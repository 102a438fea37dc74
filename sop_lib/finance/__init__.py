"""Finance (workbook 03): the plan's value against budget, price / volume / mix bridges, scenarios.
Imports ``core``, ``data``, ``demand`` and ``supply``."""
