"""The deterministic demo company (see ``company.py``; its specification is ``spec.py``)."""

from sop_lib.demo.company import generate_demo_company, write_demo_inputs
from sop_lib.demo.spec import DEMO_CYCLES

__all__ = ["DEMO_CYCLES", "generate_demo_company", "write_demo_inputs"]
