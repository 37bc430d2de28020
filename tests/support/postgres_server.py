"""A real PostgreSQL server from Debian's packages, on a free loopback port, for the tests and benchmarks.

``initdb`` makes a cluster in a fresh folder, ``pg_ctl`` starts it listening on 127.0.0.1 only (no Unix socket
outside that folder), with a password generated per server (SCRAM), collation C.UTF-8 (code-point order, as DuckDB sorts; Unicode lower()): nothing is read from or written to the
machine's own PostgreSQL. PostgreSQL refuses to run as root; as root the cluster belongs to the ``postgres``
system user the Debian package creates. ``scripts/ensure_postgres.sh`` installs the package when it is missing.

Use as a context manager::

    with PostgresServer(tmp_path) as pg:
        os.environ["SOCIALCX_POSTGRES_URL"] = pg.url
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: $SOCIALCX_PG_BIN, else Debian's newest /usr/lib/postgresql/<n>/bin."""
    configured = os.environ.get("SOCIALCX_PG_BIN")
    if configured:
        return Path(configured)
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.glob("*/bin") if (p / "initdb").exists()),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0) if root.exists() else []
    if not versions:
        subprocess.run(["bash", str(REPO / "scripts" / "ensure_postgres.sh")], check=True, capture_output=True)
        return bin_dir()
    return versions[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One throw-away cluster: ``url`` connects as its superuser to database ``socialcx``."""

    def __init__(self, folder: Path, *, user: str = "socialcx", database: str = "socialcx") -> None:
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            # the postgres user must reach the folder: a private temporary folder (pytest's are mode 700 and
            # root's) is not, so the cluster lives in a folder of its own under the system's /tmp
            folder = Path(tempfile.mkdtemp(prefix="socialcx-pg-", dir="/tmp" if Path("/tmp").is_dir() else None))
        self.folder = Path(folder)
        self.data = self.folder / "pgdata"
        self.user = user
        self.database = database
        self.password = secrets.token_urlsafe(18)
        self.port = 0
        self.bin = bin_dir()

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
            shutil.chown(pwfile, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--pwfile", str(pwfile), "--auth=scram-sha-256",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        pwfile.unlink()
        self.port = free_port()
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
                   "-c shared_buffers=256MB -c work_mem=64MB -c maintenance_work_mem=256MB -c TimeZone=UTC "
                   "-c jit=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"),
                  "-w", "-t", "60", "start")
        self._create_database()
        return self

    def _create_database(self) -> None:
        self.create_database(self.database)

    def create_database(self, name: str) -> str:
        """A new, empty database on this server; its URL."""
        import psycopg2

        for _ in range(50):
            try:
                con = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                                       dbname="postgres")
                break
            except psycopg2.OperationalError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"PostgreSQL on port {self.port} did not accept connections; see "
                               f"{self.folder / 'server.log'}")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'create database "{name}"')  # names chosen by the tests, never input
        con.close()
        return self.url_for(name)

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        if self._as_postgres:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
