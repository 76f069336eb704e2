"""The HTTP API (litestar) under /api/v1 and the console's pages: thin controllers over the
services and the read-side queries, one module per area (`app.py` wires them)."""
