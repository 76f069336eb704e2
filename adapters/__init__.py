"""Adapters: PostgreSQL storage, the CLI, the embedded database, settings and logging.

Only this layer does I/O; it reaches the domain through its use cases and ports.
"""
