"""A throwaway PostgreSQL server, for the tests and the benchmark, from this machine's own binaries (Debian's
`postgresql` package: `.ci/run` installs it when missing): `initdb` in a temporary folder, listening on a Unix socket
in that folder only (no TCP port, nothing reachable from outside), stopped and removed when done. Each user that asks
gets a database of its own (`PostgresServer.fresh`).

Why not pytest-postgresql: its process fixture runs `initdb` and `pg_ctl` as the current user, and CI runs as
root, which `initdb` refuses; here the server runs as the `postgres` system user when we are root.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

PORT = 5433  # only names the socket file inside the server's own folder


def available() -> bool:
    """True when this machine has PostgreSQL's server binaries."""
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise RuntimeError(
            "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin): install Debian's postgresql package"
            " (`.ci/run` does)"
        )
    return Path(found[-1]).parent


class PostgresServer:
    """One server in a temporary folder (`start`/`stop`); `fresh()` creates an empty database and returns its URL."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="cosell-pg-"))
        self.data = self.root / "data"
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres system user
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.user = "cosell"

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr[-2000:]}")

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
            "--no-sync",
        )
        options = f"-k {self.root} -c listen_addresses='' -p {PORT} -c fsync=off -c max_connections=200"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.root / "log"),
            "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{database}?host={self.root}&port={PORT}"

    def fresh(self) -> str:
        """A new, empty database's URL."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
