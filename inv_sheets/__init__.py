"""inv-sheets: make a store's Excel stock workbook trustworthy without taking it away.

Read a workbook, validate and normalise it, apply the ledger rules and write the computed sheets
back into the same file, leaving everything else in it as it was.
"""

__version__ = "0.1.0"
