"""Use cases that need I/O, each taking its ports and collaborators as arguments so HTTP, the
CLI and tests call the same function: files, spot-checks, reconciliation, imports, civil-affairs
matching, erasure, accounts and demo data."""
