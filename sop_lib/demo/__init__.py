"""The deterministic demo company (see ``company.py``; its specification is ``spec.py``)."""

from .company import generate_demo_company, write_demo_inputs
from .spec import DEMO_CYCLES

__all__ = ["DEMO_CYCLES", "generate_demo_company", "write_demo_inputs"]
