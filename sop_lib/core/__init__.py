"""What every layer shares and that reads no file: the error tree and exit codes, the cycle id (``Cycle``),
accuracy metrics and the names of the planning levels. Imports nothing else of ``sop_lib``."""
