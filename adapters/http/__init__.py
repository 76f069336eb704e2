"""The HTTP API (litestar) under /api/v1: thin controllers over the domain's use cases."""
