"""The PostgreSQL event store on asyncpg: append, read, the commit-safe log, positions, integrity."""
