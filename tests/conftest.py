"""Shared test set-up: the tests' own helper modules (workbooks.py, office.py, ...) are importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
