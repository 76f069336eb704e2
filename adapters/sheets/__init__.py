"""Spreadsheets: reading the sheets clerks make (`reading.py`) and writing the ledger and
spot-check workbooks (`ledger.py`, `spotcheck_report.py`)."""
