"""`python -m inv_sheets` runs the command line."""

from .cli import main

main()
