"""``python -m sop_lib``: the ``sop`` command, for a venv whose scripts are not on the PATH."""

from sop_lib.cli import main

main()
