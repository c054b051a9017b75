"""The Refresh button: the entry point Excel calls through xlwings, and the writer of the button.

Workbooks in users' hands run `RunPython "import inv_sheets.excel; inv_sheets.excel.refresh()"`,
so `refresh` is named here and must stay.
"""

from .live import refresh

__all__ = ["refresh"]
