"""Personal data sealed at rest: `sealing.py` (pure envelope encryption of personal fields) and
`keyring.py` (the per-file data keys stored in PostgreSQL, wrapped under key-encryption keys)."""
