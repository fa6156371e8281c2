"""The tests' throwaway PostgreSQL server: `devtools/pgserver.py` (the benchmark starts the same one)."""

from devtools.pgserver import PostgresServer

__all__ = ["PostgresServer"]
