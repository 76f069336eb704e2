"""Adapters: everything that does I/O, in one package per role.

`runtime/` wires (settings, the composition root, the embedded database, secrets, logging, rate
limits); `services/` are the use cases that need I/O; `http/` and `cli/` are the entry points;
`pg/` is storage; `sheets/` reads and writes spreadsheets; `pii/` seals personal data; `sync/`
carries events upstream. Entry points reach storage only through services and the read-side
queries (`pg/reads.py`); pyproject's import-linter contracts check it.
"""
