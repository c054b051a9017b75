"""`python -m inv_sheets` runs the command line."""

from .cli.main import main

main()
