"""`python -m itsm` is the `itsm` command."""

from itsm.cli import main

main()
