"""The DuckDB warehouse: connections and the schemas the pipeline owns outside dbt.

DuckDB allows one read-write process per file. Writers therefore retry on a lock error and, when
they give up, say which file is locked and what to do, instead of a bare ``IOException``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from socialcx.core.ddl import ALL as PIPELINE_DDL
from socialcx.core.ddl import SCHEMAS

log = logging.getLogger(__name__)




class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB file."""


class WarehouseDamagedError(RuntimeError):
    """The DuckDB file is not a whole DuckDB database (truncated, zero-filled, or another kind of file)."""


# A DuckDB file starts with a 4 KiB main header whose bytes 8..12 are the magic "DUCK", then two 4 KiB database
# headers, then whole blocks: a file that is shorter, misses the magic or ends mid-sector was cut or overwritten.
DUCKDB_MAGIC = b"DUCK"
DUCKDB_HEADER_BYTES = 3 * 4096
SECTOR = 4096


def _restore_hint(path: Path) -> str:
    return (f"Restore {path} from a backup, or move it aside and rebuild it from the sources with `socialcx run` "
            "(the published copy in SOCIALCX_PUBLISH_DIR is a separate file and still readable).")


def open_in_this_process(path: Path) -> bool:
    """Is the file open in this process already (by DuckDB)? Then it must not be opened and closed again here:
    closing any descriptor of a file drops every POSIX (fcntl) lock this process holds on it, DuckDB's included."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return False
    target = str(path.resolve())
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) == target:
                return True
        except OSError:
            continue
    return False


def check_file(path: Path) -> None:
    """Refuse a warehouse file that cannot be a whole DuckDB database, before anything opens (or writes) it."""
    if not path.exists() or path.is_dir() or open_in_this_process(path):
        if path.is_dir():
            raise WarehouseDamagedError(f"warehouse {path} is a folder, not a DuckDB file; set SOCIALCX_WAREHOUSE "
                                        "to a file path such as warehouse/socialcx.duckdb")
        return
    size = path.stat().st_size
    if size == 0:
        return  # a new, empty file: DuckDB initialises it
    with path.open("rb") as handle:
        head = handle.read(16)
    if head[8:12] != DUCKDB_MAGIC:
        if not any(head):
            what = "zero-filled"
        elif head[:2] == b"\x1f\x8b":
            what = "gzip-compressed, not a DuckDB file"
        else:
            what = "not a DuckDB database file"
        raise WarehouseDamagedError(f"warehouse {path} is damaged: it is {what}. {_restore_hint(path)}")
    if size < DUCKDB_HEADER_BYTES or size % SECTOR:
        raise WarehouseDamagedError(f"warehouse {path} is damaged: it is truncated ({size:,} bytes, not a whole "
                                    f"number of {SECTOR:,}-byte sectors). {_restore_hint(path)}")


def file_state(path: Path) -> list | None:
    """What changes whenever the database in ``path`` does: the file's identity, size, modification and change
    times, and its three headers; None while a write-ahead log is pending (the file alone is then not the database).

    DuckDB writes a commit to ``<file>.wal`` and moves it into the file at a checkpoint, which writes a new database
    header (its iteration count goes up). So two equal states, with no log pending at either, hold the same data:
    nothing was committed in between. A write by anything else changes the change time, which no program can set
    back. Opening, reading and closing the file change none of it (tests/security/test_publish.py).

    The headers are read by a child process (``head``): this process may hold the file open in DuckDB, and closing a
    descriptor of it here would drop every lock this process holds on it, DuckDB's included (`open_in_this_process`)."""
    import hashlib
    import subprocess

    wal = path.with_name(f"{path.name}.wal")

    def stat() -> list:
        found = os.stat(path)
        return [found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns]

    try:
        if wal.exists():
            return None
        before = stat()
        headers = subprocess.run(["head", "-c", str(DUCKDB_HEADER_BYTES), "--", str(path)], capture_output=True,
                                 check=True, timeout=60).stdout
        if stat() != before or wal.exists() or len(headers) < DUCKDB_HEADER_BYTES:
            return None
    except (OSError, subprocess.SubprocessError):
        return None
    return [*before, hashlib.sha256(headers).hexdigest()]


def quote_ident(name: str) -> str:
    """The one place an identifier is put into SQL: double-quoted, with embedded quotes doubled.

    Callers pass names from the catalog or from the code, never from input; quoting is the second line of defence.
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"not a usable SQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_table(qualified: str) -> str:
    """``schema.table`` quoted part by part (names of the pipeline's own tables)."""
    return ".".join(quote_ident(part) for part in qualified.split("."))


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def connect(path: Path, *, read_only: bool = False, retries: int = 10, wait_seconds: float = 1.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, retrying while another process holds its lock."""
    if path.stem.lower() in SCHEMAS:
        # DuckDB names a database after its file: raw.duckdb makes "raw" both a database and a schema, and
        # every query on raw.posts fails as ambiguous
        raise ValueError(f"warehouse file {path} is named like one of its schemas ({path.stem}); DuckDB could not tell "
                         "them apart. Name the file differently, e.g. SOCIALCX_WAREHOUSE=warehouse/socialcx.duckdb")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist; run `socialcx extract` (or `make run`) first")
    check_file(path)
    for attempt in range(retries + 1):
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            con.execute("set TimeZone = 'UTC'")
            return con
        except (duckdb.SerializationException, duckdb.InternalException, duckdb.CatalogException) as exc:
            raise WarehouseDamagedError(f"warehouse {path} is damaged: DuckDB cannot read its catalog "
                                        f"({exc.__class__.__name__}). {_restore_hint(path)}") from exc
        except duckdb.IOException as exc:
            if "not a valid DuckDB database file" in str(exc):
                raise WarehouseDamagedError(f"warehouse {path} is damaged: it is not a valid DuckDB database "
                                            f"file. {_restore_hint(path)}") from exc
            if not _is_lock_error(exc) or attempt == retries:
                if _is_lock_error(exc):
                    raise WarehouseLockedError(
                        f"warehouse {path} is locked by another process after {retries} retries ({exc}). "
                        "Wait for the running pipeline to finish, or stop the process holding it "
                        "(BI tools should open the published copy in SOCIALCX_PUBLISH_DIR instead)."
                    ) from exc
                raise
            log.warning("warehouse %s is locked, retry %d/%d in %.1fs", path, attempt + 1, retries, wait_seconds)
            time.sleep(wait_seconds)
            wait_seconds = min(wait_seconds * 2, 30)
    raise AssertionError("unreachable")


def open_published(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a published DuckDB file (what BI reads), in UTC; the caller closes it."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    return con


def scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB, for reading files (Parquet) with SQL; it holds nothing of the warehouse."""
    return duckdb.connect()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {quote_ident(schema)}")
    con.execute(PIPELINE_DDL)


@contextmanager
def open_warehouse(path: Path, *, retries: int = 10) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection with the pipeline's schemas in place, closed on exit."""
    con = connect(path, retries=retries)
    try:
        ensure_schema(con)
        yield con
    finally:
        con.close()


@contextmanager
def writer_turn(path: Path) -> Iterator[None]:
    """Wait for this machine's turn to write ``path`` among the writers that take turns: an exclusive ``flock`` on
    ``<file>.turn`` beside it, held until the block ends (the kernel releases it if the process dies).

    DuckDB's own lock refuses a second writer at once, and :func:`connect` retries for seconds; a writer that may
    wait behind another for minutes (a model's task rebuilding its model with dbt, outside the one-slot pool) waits
    here instead, then opens the file as usual."""
    turn = path.with_name(f"{path.name}.turn")
    turn.parent.mkdir(parents=True, exist_ok=True)
    # never written; a link planted in its place is refused, not followed
    fd = os.open(turn, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: commit when the block ends, roll back when it raises (a crash commits nothing)."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def table_counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name", [schema]
    ).fetchall()
    return {name: scalar(con, f"select count(*) from {quote_ident(schema)}.{quote_ident(name)}") for (name,) in tables}


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Does the warehouse hold ``schema.table`` (a table or a view)?"""
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? "
                            "and table_name = ?", [schema, table]).fetchall()[0][0])


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    """The first value of a query. DuckDB 2.0 refuses new work while a result is unfinished, so fetch it all."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None




def table_checksums(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], skip: tuple[str, ...] = (),
                    ignore: tuple[str, ...] = (), *, days: dict | None = None) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent checksum of every table and view in ``schemas``: two warehouses with
    equal checksums hold the same rows. Columns in ``ignore`` are left out; floating-point values are rounded
    to single precision (7 significant digits), since a sum's last bits depend on the order DuckDB's threads added it
    up in. The cast costs half what rounding by log10 did (session 22: the marts' fingerprint at 1M posts, 0.6 s
    against 1.3 s; a run takes it twice, in validate and in publish); beyond FLOAT's range a value is hashed as it is.

    ``days``, a dict to fill: each table with a date or timestamp column is also counted and summed per day of its
    first one (cast to a date in the connection's time zone), in the same pass: ``days[table] = (column, {day:
    (count, checksum)})``, NULL's rows under the day None. A table's own figures are the sums of its days'."""
    columns = con.execute(
        "select table_schema || '.' || table_name, column_name, data_type from information_schema.columns "
        "where list_contains(?, table_schema) order by table_schema, table_name, ordinal_position",
        [list(schemas)]).fetchall()
    selects: dict[str, list[str]] = {}
    dated: dict[str, str] = {}
    for table, column, data_type in columns:
        if table in skip or column in ignore:
            continue
        quoted = quote_ident(column)
        if data_type in ("DOUBLE", "FLOAT", "REAL"):
            quoted = f"case when abs({quoted}) < 1e38 then {quoted}::float else {quoted} end"
        elif data_type == "DATE" or data_type.startswith("TIMESTAMP"):
            dated.setdefault(table, column)
        selects.setdefault(table, []).append(quoted)
    sums = {}
    for table, select in selects.items():
        rows = f"(select {', '.join(select)} from {quote_table(table)}) as t"
        if days is None or table not in dated:
            count, checksum = con.execute(f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {rows}"
                                          ).fetchone()
            sums[table] = (count, int(checksum))
            continue
        per_day = {day: (count, int(checksum)) for day, count, checksum in con.execute(
            f"select cast(t.{quote_ident(dated[table])} as date), count(*), sum(hash(t)::hugeint) from {rows} "
            "group by 1").fetchall()}
        days[table] = (dated[table], per_day)
        sums[table] = (sum(count for count, _ in per_day.values()), sum(checksum for _, checksum in per_day.values()))
    return sums
