"""PostgreSQL through asyncpg: the event store (`store.py`, with the commit-safe log order of
`logorder.py` and the hash chain of `integrity.py`), the file repository (`repository.py`), the
event codec (`codec.py`), read models and their runner (`readmodels.py`, `projector.py`), the
read-side queries (`reads.py`), units, policies, accounts, idempotency and migrations."""
