"""S&OP workbook suite: data contract and snapshot, forecast, capacity, finance, variance, pack."""

from sop_lib.data.context import CycleContext, open_cycle

__all__ = ["CycleContext", "open_cycle"]
__version__ = "0.1.0"
