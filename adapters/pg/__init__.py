"""The PostgreSQL event store on asyncpg.

Append, read, the commit-safe log, consumer positions, integrity.
"""
