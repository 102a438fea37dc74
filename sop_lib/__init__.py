"""S&OP workbook suite: folders in the order of the monthly cycle — core, data, demand, supply, finance, review,
report, pack — and its faces (cli, widgets, demo); ``open_cycle`` is what a notebook opens."""

from sop_lib.data.context import CycleContext, open_cycle

__all__ = ["CycleContext", "open_cycle"]
__version__ = "0.1.0"
