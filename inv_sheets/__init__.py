"""inv-sheets: make a store's Excel stock workbook trustworthy without taking it away.

Read a workbook, validate and normalise it, apply the ledger rules and write the computed sheets
back into the same file, leaving everything else in it as it was.

    >>> import inv_sheets
    >>> report = inv_sheets.validate("store.xlsx")
    >>> report = inv_sheets.refresh("store.xlsx")
"""

from .contract.issues import (CODES, EncryptedWorkbookError, InvSheetsError, Issue, NotAWorkbookError, Report,
                              WorkbookChangedError, WorkbookLockedError, WorkbookRestored, WriteError)
from .imports import import_files
from .refresh import compute, refresh, validate
from .rules.normalise import normalise
from .rules.validate import load, parse

__version__ = "0.1.0"

__all__ = ["load", "parse", "validate", "normalise", "compute", "refresh", "import_files", "Issue", "Report", "CODES",
           "InvSheetsError", "NotAWorkbookError", "EncryptedWorkbookError", "WorkbookLockedError",
           "WorkbookChangedError", "WriteError", "WorkbookRestored", "__version__"]
