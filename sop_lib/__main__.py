from sop_lib.cli import main

main()
