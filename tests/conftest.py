"""Shared test set-up: the tests' own helper modules (workbooks.py, office.py, ...) are importable,
and no test reads or writes the user's cache folder."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _no_shared_cache(tmp_path_factory, monkeypatch):
    """Every test computes afresh, and any cache it turns on lives in a folder of its own.

    With the cache on, a second refresh of an unchanged workbook returns the first one's report
    without computing: a test that refreshes twice would then prove less than it says. The tests
    of the cache itself turn it on (test_performance_paths.py).
    """
    monkeypatch.setenv("INV_SHEETS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
