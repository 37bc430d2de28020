"""Publish the marts for BI: a read-only DuckDB file and one Parquet file per mart, as one versioned set.

Readers (Metabase, Superset, DBeaver, Evidence, the duckdb CLI) open the published copy, never the working
warehouse: DuckDB lets one process hold a file read-write and nobody else open it, so a reader on the working
file would block dbt.

**Exactly what was validated.** A passing validation records a fingerprint (row count and checksum) of every
mart in ``ops.validated_marts``. Publish recomputes it and refuses when any mart differs: a later
``transform --select``, a manual edit or a partial run cannot reach BI readers without a new validation. While
the file is as that validation left it (``mark_validated``), nothing was written since, and publish takes the
recorded fingerprint (and its days, ``ops.validated_days``) instead of hashing every mart a second time.

**One set at a time.** Each publish writes a new folder ``versions/<id>/`` (the DuckDB file, ``parquet/`` and
``manifest.json``) and then switches one relative symlink, ``current``, with ``os.replace``, which is atomic.
``socialcx.duckdb``, ``parquet`` and ``manifest.json`` at the top of the publish folder are fixed links
through ``current``, so a reader sees the whole old set or the whole new one, never a new DuckDB file next to
old Parquet files. A publish killed part-way (or out of disk) leaves only an unfinished ``*.tmp-<pid>`` folder,
which the next publish removes; older versions are pruned after the switch.

**Only what changed is written.** The manifest records each mart's fingerprint. A mart whose fingerprint equals
the one the current version recorded is carried over: the new version hard-links the unchanged Parquet files
(published files are never written in place, so a link is as good as a copy). Its DuckDB file is the one of the
version before the current one, taken as that version is about to be pruned, when no reader holds it open
(`_recyclable`); else a copy of the current one. In that file a mart that differs from what it holds is patched:
only its rows that differ are deleted and inserted (compared whole, by hash, then checked against the mart),
unless a quarter of it changed or its columns did, when it is written whole. The manifest says which file it
started from (``duckdb_from``). A mart with a date or timestamp column is also fingerprinted per day of its first one
(``days.json`` in each version): only the days whose fingerprint changed are compared, so a 0.1% run hashes a day
or two of a year of posts, not all of it. A large one's Parquet file holds its rows grouped by month of that day
(`_write_by_month`): only the months whose days changed are written, the others' row groups are copied from the
current version's file (``parquet_stitch``). Every mart is written into a fresh file after an
erasure and after a full validation (daily), so a dropped table's old pages never outlive a forget or a day.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from socialcx.core.warehouse import file_state, quote_ident, table_checksums

log = logging.getLogger(__name__)

# DuckDB 2.0 writes a storage format 1.x readers cannot open; BI drivers often bundle DuckDB 1.x.
# Writing the published file in the v1.2 format keeps it readable by DuckDB >= 1.2; Parquet serves the rest.
PUBLISHED_STORAGE_VERSION = "v1.2.0"
VERSIONS = "versions"
CURRENT = "current"
LINKS = ("socialcx.duckdb", "parquet", "manifest.json")  # each -> current/<name>



class PublishRefused(RuntimeError):
    """The latest validation failed, the marts changed since it passed, or there is nothing to publish."""


def _mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("select table_name from information_schema.tables where table_schema = 'marts' "
                       "and table_type = 'BASE TABLE' order by table_name").fetchall()
    return [name for (name,) in rows]


def fingerprint(con: duckdb.DuckDBPyConnection, days: dict | None = None) -> dict[str, tuple[int, str]]:
    """Row count and order-independent checksum of every mart table, every column included. ``days``, a dict to
    fill: the same per day of each mart's first date or timestamp column (`table_checksums`), by mart name."""
    tables = set(_mart_tables(con))
    per_table: dict | None = {} if days is not None else None
    sums = table_checksums(con, ("marts",), ignore=(), days=per_table)
    for name, (column, per_day) in (per_table or {}).items():
        if name.split(".", 1)[1] in tables:
            days[name.split(".", 1)[1]] = (column, per_day)
    return {name.split(".", 1)[1]: (count, str(checksum)) for name, (count, checksum) in sums.items()
            if name.split(".", 1)[1] in tables}


def record_fingerprint(con: duckdb.DuckDBPyConnection, run_id: str,
                       marts: dict[str, tuple[int, str]] | None = None, days: dict | None = None) -> None:
    """Remember what a passing validation saw, for publish to compare against: ``marts``, the fingerprint taken
    on this connection before the suites ran (they write only to ``ops``), or the marts as they are now. ``days``,
    the same per day (`fingerprint`'s), is kept for the newest validation only: publish reuses both while the file
    is as this validation leaves it (`mark_validated`)."""
    now = datetime.now(UTC)
    con.execute("delete from ops.validated_marts where run_id = ?", [run_id])
    con.execute("delete from ops.validated_days")
    if marts is None:
        days = {}
        marts = fingerprint(con, days)
    rows = [(run_id, table, count, checksum, now) for table, (count, checksum) in marts.items()]
    if rows:
        con.executemany("insert into ops.validated_marts values (?, ?, ?, ?, ?)", rows)
    if days is not None:
        con.execute("insert into ops.validated_days values (?, ?, ?)",
                    [run_id, json.dumps(_days_record(con, days)), now])


# Beside the warehouse, ``<file>.validated``: the validation run that passed last and the file's state as that run
# left it (`file_state`), taken while the run still held the file. While the file is in that state, nothing was
# written since: publish takes the marts' fingerprint that validation recorded instead of computing it again (every
# row of every mart hashed: 0.64-0.68 s of a 0.1% run at 1M posts, 1.69-1.76 s at 5M). Any other state, a log
# pending, another run, no file or a damaged one: publish fingerprints the marts, as it always did.
VALIDATED_STATE = ".validated"


def _state_file(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}{VALIDATED_STATE}")


def _unmark(warehouse: Path) -> None:
    """Remove the mark, which no longer holds. One that cannot be removed names a state the file is no longer in."""
    try:
        _state_file(warehouse).unlink(missing_ok=True)
    except OSError:
        pass


def mark_validated(warehouse: Path, run_id: str, expected: list | None = None) -> list | None:
    """Record the file's state as validation ``run_id`` leaves it, while the caller still holds it open (so nothing
    else writes first); returns that state, or None when there is none (a log pending) or it cannot be written.
    Called again once the file is closed, with the state ``expected``: the mark is removed unless the file is still
    in it. The mark only spares publish a fingerprint: it never fails the stage that writes it."""
    state = file_state(warehouse)
    if state is None or (expected is not None and state != expected):
        _unmark(warehouse)
        return None
    if expected is None:
        target = _state_file(warehouse)
        partial = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        try:
            partial.write_text(json.dumps({"validation_run_id": run_id, "file": state}), encoding="utf-8")
            os.replace(partial, target)  # whole or absent
        except OSError as exc:
            log.warning("the validated state of %s was not recorded (%s); publish will fingerprint the marts",
                        warehouse, exc.__class__.__name__)
            return None
    return state


def seal_validated(con: duckdb.DuckDBPyConnection, warehouse: Path, run_id: str) -> list | None:
    """Move what is committed into the file (DuckDB then removes its log) and mark its state for validation
    ``run_id`` (`mark_validated`), ``con`` still holding the file; None, and no mark, when either fails."""
    try:
        con.execute("checkpoint")
    except duckdb.Error as exc:
        log.warning("the validated state of %s was not recorded (checkpoint: %s); publish will fingerprint the marts",
                    warehouse, exc.__class__.__name__)
        _unmark(warehouse)  # a mark left from before no longer holds
        return None
    return mark_validated(warehouse, run_id)


def _unchanged_since(warehouse: Path | None, validation_run: str) -> bool:
    """Is the file, held open by the caller, in the state validation ``validation_run`` left it in?"""
    if warehouse is None:
        return False
    try:
        marked = json.loads(_state_file(warehouse).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    state = file_state(warehouse)
    return (isinstance(marked, dict) and marked.get("validation_run_id") == validation_run and state is not None
            and marked.get("file") == state)


def validated_state_holds(con: duckdb.DuckDBPyConnection, warehouse: Path) -> str | None:
    """The latest validation run, when the file ``con`` holds is as that run left it (its marts are exactly what
    it validated); else None. A stage that then writes only to ``ops`` before it marks the state again
    (`mark_validated`, with this run) keeps publish from hashing the marts."""
    validation_run, _ = latest_validation(con)
    return validation_run if validation_run is not None and _unchanged_since(warehouse, validation_run) else None


def _validated_days(con: duckdb.DuckDBPyConnection, run_id: str) -> dict | None:
    """The per-day fingerprint validation ``run_id`` recorded, if it recorded one in this connection's time zone."""
    rows = con.execute("select record from ops.validated_days where run_id = ?", [run_id]).fetchall()
    try:
        record = json.loads(rows[0][0]) if len(rows) == 1 else None
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("marts"), dict):
        return None
    zone = con.execute("select current_setting('TimeZone')").fetchone()[0]
    return record if record.get("time_zone") == zone else None


def _validated(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, tuple[int, str]]:
    rows = con.execute("select table_name, row_count, checksum from ops.validated_marts where run_id = ?",
                       [run_id]).fetchall()
    return {table: (count, checksum) for table, count, checksum in rows}


def latest_validation(con: duckdb.DuckDBPyConnection) -> tuple[str | None, list[tuple]]:
    """The newest validation run (ops.validation_results, which the validate stage writes) and its failed
    critical checks."""
    latest = con.execute("select run_id from ops.validation_results order by validated_at desc limit 1").fetchall()
    if not latest:
        return None, []
    run_id = latest[0][0]
    failed = con.execute("""
        select suite, expectation, column_name, observed_value from ops.validation_results
        where run_id = ? and severity = 'critical' and not success order by suite, expectation
    """, [run_id]).fetchall()
    return run_id, failed


def check_validated(con: duckdb.DuckDBPyConnection,
                    warehouse: Path | None = None) -> tuple[str, dict[str, tuple[int, str]], dict, bool]:
    """The validation run whose marts are in the warehouse now, their fingerprints, the same per day (the record
    `_days_record` makes) and whether they were taken from that validation; PublishRefused otherwise.

    They are the validation's own when ``warehouse``, the file ``con`` holds, is as that validation left it
    (`mark_validated`); otherwise the marts are fingerprinted now and compared with what it recorded."""
    validation_run, failed = latest_validation(con)
    if validation_run is None:
        raise PublishRefused("nothing validated yet: run `socialcx validate` before `socialcx publish`")
    if failed:
        checks = "; ".join(f"{suite}: {expectation}({column}) observed {observed}"
                           for suite, expectation, column, observed in failed)
        raise PublishRefused(f"validation {validation_run} failed, publishing refused. Failed checks: {checks}")
    validated = _validated(con, validation_run)
    if not validated:
        raise PublishRefused(f"validation {validation_run} recorded no fingerprint of the marts: run "
                             "`socialcx validate` again, then publish")
    if _unchanged_since(warehouse, validation_run):
        record = _validated_days(con, validation_run)
        if record is not None and set(_mart_tables(con)) == set(validated):
            return validation_run, validated, record, True
    days: dict = {}
    current = fingerprint(con, days)
    changed = sorted(t for t in set(validated) | set(current) if validated.get(t) != current.get(t))
    if changed:
        raise PublishRefused(
            f"the marts changed after validation {validation_run} passed ({', '.join(changed)}: rebuilt by a later "
            "transform, edited by hand, or left by a partial run); nothing was published. Run `socialcx validate`, "
            "then `socialcx publish` (or `socialcx run` for the whole pipeline)")
    return validation_run, current, _days_record(con, days), False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(publish_dir: Path) -> list[str]:
    """Remove what killed publishes left: ``*.tmp-<pid>`` files and folders whose process is gone."""
    removed = []
    candidates = [*publish_dir.glob("*.tmp-*"), *(publish_dir / VERSIONS).glob("*.tmp-*")]
    if (publish_dir / "parquet").is_dir() and not (publish_dir / "parquet").is_symlink():
        candidates += list((publish_dir / "parquet").glob("*.tmp-*"))  # the layout before versioned sets
    for path in candidates:
        pid = path.name.rsplit(".tmp-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
            continue  # another process is publishing right now
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def current_version(publish_dir: Path) -> Path | None:
    link = publish_dir / CURRENT
    return (publish_dir / os.readlink(link)) if link.is_symlink() else None


def prune_versions(publish_dir: Path, keep: int = 2) -> list[str]:
    """Delete published versions but the newest ``keep`` (the current one always stays). ``keep=1`` after an
    erasure: an older version still holds what was forgotten."""
    current = current_version(publish_dir)
    versions = sorted((p for p in (publish_dir / VERSIONS).glob("*") if p.is_dir() and ".tmp-" not in p.name),
                      reverse=True)
    kept = [current] if current is not None else []
    for version in versions:
        if len(kept) >= keep:
            break
        if version != current:
            kept.append(version)
    removed = []
    for version in versions:
        if version not in kept:
            shutil.rmtree(version, ignore_errors=True)
            removed.append(version.name)
    return removed


def _switch(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` (relative) atomically, whatever it was before."""
    temporary = link.with_name(f"{link.name}.tmp-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    if link.is_dir() and not link.is_symlink():  # the layout before versioned sets: a real parquet/ folder
        old = link.with_name(f"{link.name}.old.tmp-{os.getpid()}")
        os.replace(link, old)
        os.replace(temporary, link)
        shutil.rmtree(old, ignore_errors=True)
        return
    os.replace(temporary, link)


def _unchanged(previous: Path | None, fingerprints: dict[str, tuple[int, str]], parquet: bool = True) -> set[str]:
    """The marts a published version already holds exactly as they are now (by the fingerprints its manifest
    recorded). With ``parquet`` (what a copy of the version carries over), only those whose Parquet file is there,
    and none unless its DuckDB file is; without, of a DuckDB file already taken from it."""
    if previous is None or (parquet and not (previous / "socialcx.duckdb").is_file()):
        return set()
    before = _manifest(previous).get("fingerprints") or {}
    return {table for table, (count, checksum) in fingerprints.items()
            if before.get(table) == [count, checksum]
            and (not parquet or (previous / "parquet" / f"{table}.parquet").is_file())}


def _manifest(version: Path) -> dict:
    """A published version's manifest; empty when it is missing or unreadable (nothing it says is then trusted)."""
    try:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _recyclable(publish_dir: Path, previous: Path | None) -> Path | None:
    """The older version whose DuckDB file the new version may take and patch, instead of copying the current one's.

    Two versions are kept (`prune_versions`): the current one, which readers open, and the one before it, which is
    pruned as soon as the new one is current. Copying the current file was most of what a 0.1% run's publish wrote
    (327 MB a run at 1M posts, 1.34 GB at 5M), and grew with history. The older
    file is taken instead (renamed into the new version, then patched by the changes of the two runs since it was
    current) when:

    - it was written from the same fresh file as the current one, or from a later one (``duckdb_since`` in its
      manifest): a file written before an erasure or a daily full validation (`publish`'s ``rewrite_all``) may hold
      the pages of dropped tables or deleted rows, and is never patched further;
    - its manifest says what it holds, in this storage version, its file has no pending log and no other link to
      it: it is written in place;
    - no reader holds it open: DuckDB locks a file it opens, read-only included, so attaching it for writing fails
      while anyone still reads it (`publish` then copies the current file, as before).
    """
    if previous is None:
        return None
    since = _manifest(previous).get("duckdb_since")
    older = sorted((p for p in (publish_dir / VERSIONS).glob("*")
                    if p.is_dir() and ".tmp-" not in p.name and p != previous), reverse=True)
    if not older:
        return None
    version, manifest = older[0], _manifest(older[0])  # the newest but the current: the one pruned next
    file = version / "socialcx.duckdb"
    if (not isinstance(since, str) or not isinstance(manifest.get("duckdb_since"), str)
            or manifest["duckdb_since"] < since or manifest.get("storage_version") != PUBLISHED_STORAGE_VERSION):
        return None
    try:
        if not file.is_file() or file.is_symlink() or file.stat().st_nlink != 1:
            return None
    except OSError:
        return None
    return None if file.with_name(f"{file.name}.wal").exists() else version


def _attach_published(con: duckdb.DuckDBPyConnection, building: Path, previous: Path | None,
                      base: Path | None) -> str:
    """Attach the new version's DuckDB file as ``published``: ``base``'s file taken (`_recyclable`), else a copy of
    ``previous``'s, else a new file (either of None). How it came to be: 'recycled', 'copied' or 'new'."""
    target = building / "socialcx.duckdb"
    if base is not None:
        taken = base / "socialcx.duckdb"
        try:
            os.replace(taken, target)
            con.execute("attach ? as published", [str(target)])
            return "recycled"
        except (OSError, duckdb.Error) as exc:  # held open by a reader (DuckDB's message names the file: not logged)
            log.info("the published file of version %s is in use (%s); the current one is copied",
                     base.name, type(exc).__name__)
            if target.exists():
                try:
                    os.replace(target, taken)
                except OSError:
                    target.unlink(missing_ok=True)
    if previous is not None:
        shutil.copyfile(previous / "socialcx.duckdb", target)
        con.execute("attach ? as published", [str(target)])
        return "copied"
    con.execute(f"attach ? as published (storage_version '{PUBLISHED_STORAGE_VERSION}')", [str(target)])
    return "new"


# Each version's fingerprint of every mart per day (`fingerprint` with days), beside its manifest: the next publish
# compares its own with it to find the days of a changed mart whose rows differ
DAYS = "days.json"


def _days_record(con: duckdb.DuckDBPyConnection, days: dict) -> dict:
    return {"time_zone": con.execute("select current_setting('TimeZone')").fetchone()[0],
            "marts": {table: {"column": column,
                              "days": sorted([[day.isoformat() if day is not None else None, count, str(checksum)]
                                              for day, (count, checksum) in per_day.items()], key=repr)}
                      for table, (column, per_day) in sorted(days.items())}}


def _changed_days(previous: Path | None, record: dict) -> dict[str, tuple[str, list[str | None]]]:
    """Per mart, the days whose rows differ between the current version and the marts now (each side's
    fingerprint per day), with the column they are days of. A mart is left out, and patched by comparing all its
    rows, unless the current version recorded its days by the same column in the same time zone, and those add up
    to the fingerprint its manifest holds for the mart (what its DuckDB file holds)."""
    if previous is None:
        return {}
    try:
        before = json.loads((previous / DAYS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    held = _manifest(previous).get("fingerprints") or {}  # none: no mart's days are trusted
    if before.get("time_zone") != record["time_zone"]:
        return {}
    changed = {}
    for table, now in record["marts"].items():
        then = (before.get("marts") or {}).get(table) if isinstance(before, dict) else None
        if not isinstance(then, dict) or then.get("column") != now["column"]:
            continue
        try:  # a file of another shape (a cut-off write, a hand edit) is not trusted: every row is compared
            then_days = {day: [count, checksum] for day, count, checksum in then["days"]}
            added_up = [sum(count for count, _ in then_days.values()),
                        str(sum(int(checksum) for _, checksum in then_days.values()))]
        except (TypeError, ValueError):
            continue
        if held.get(table) != added_up:
            continue
        now_days = {day: [count, checksum] for day, count, checksum in now["days"]}
        days = sorted((day for day in then_days.keys() | now_days.keys() if then_days.get(day) != now_days.get(day)),
                      key=repr)
        if days:
            changed[table] = (now["column"], days)
    return changed


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # the same bytes, no second copy: a published file is never written in place
    except OSError:
        shutil.copy2(source, target)


# A changed mart the copied file already holds is patched in place when at most this share of its rows changed
# (a 0.1% run at 1M posts: a few hundred of fct_posts' million); past it, writing it whole is as cheap.
PATCH_AT_MOST = 0.25


def _shapes(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    """Each mart's columns and their types in ``catalog``, in order (one query, not two per mart: 0.3 s of a
    0.1% run's publish at 1M posts)."""
    shapes: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
            "select table_name, column_name, data_type from information_schema.columns where table_catalog = ? "
            "and table_schema = 'marts' order by table_name, ordinal_position", [catalog]).fetchall():
        shapes.setdefault(table, []).append((column, data_type))
    return shapes


def _days_where(column: str, days: list[str | None]) -> tuple[str, list]:
    """A filter on the rows of ``days`` (ISO dates; None: the rows with no ``column``) and its parameters. Each run of
    consecutive days is one range of the column itself (``column >= day and column < day after``; DuckDB casts the
    dates to the column's type in the session's time zone, as ``cast(column as date)`` would), which DuckDB checks
    inside its scan: at 5M posts 0.2 s a side for fct_posts' one changed day, against 0.5-0.8 s for
    ``list_contains(days, cast(column as date))`` on every row."""
    quoted = quote_ident(column)
    ranges: list[list[date]] = []
    for day in sorted(date.fromisoformat(day) for day in days if day is not None):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + timedelta(days=1)
        else:
            ranges.append([day, day + timedelta(days=1)])
    terms = [f"(x.{quoted} >= ?::date and x.{quoted} < ?::date)" for _ in ranges]
    if None in days:
        terms.append(f"x.{quoted} is null")
    return (" where " + " or ".join(terms)) if terms else " where false", [bound for pair in ranges for bound in pair]


def _patch(con: duckdb.DuckDBPyConnection, table: str, total: int,
           days: tuple[str, list[str | None]] | None = None) -> int | None:
    """Bring ``published.marts.<table>`` (a copy of the previous version's, of the same columns) to the rows of
    ``marts.<table>`` (``total`` rows) by deleting and inserting only the rows that differ; the number of rows written,
    or None when the table is better written whole (too many changes). ``days``: a column and the days of it whose rows
    differ (`_changed_days`); only those days' rows are compared, on both sides (the others are equal by their
    fingerprints). A 0.1% run at 5M posts changes a few of fct_posts' 366 days.

    Rows are compared whole, by hash, as multisets: a row value whose count differs between the two is deleted
    everywhere and inserted again as often as the mart holds it. Each side is hashed once, each row's hash kept
    beside its rowid: the counts give the delta, and the delete and the insert find their rows by rowid (hashing
    each side a second time to find them was 0.1-0.25 s of each large mart's patch at 1M posts). Neither table is
    written between the hashing and the statement that uses its rowids. The result is then checked by the rows each
    statement wrote: the delete removed exactly the copies the old table held of those values and the insert added
    exactly the mart's, so the copy now holds the mart's multiset of rows (a third hash of the whole copy, which the
    check used to be, cost 0.4 s of a 0.1% run at 1M posts); a mismatch writes the table whole."""
    name = quote_ident(table)
    where, params = "", []
    if days is not None:
        where, params = _days_where(days[0], days[1])
    try:
        con.execute(f"create or replace temp table publish_new as select rowid as r, hash(x) as h "
                    f"from marts.{name} as x{where}", params)
        con.execute(f"create or replace temp table publish_old as select rowid as r, hash(x) as h "
                    f"from published.marts.{name} as x{where}", params)
        con.execute("""
            create or replace temp table publish_delta as
            with new as (select h, count(*) as n from publish_new group by h),
                 old as (select h, count(*) as n from publish_old group by h)
            select coalesce(old.h, new.h) as h, coalesce(new.n, 0) as n, coalesce(old.n, 0) as old_n
            from old full outer join new on old.h = new.h
            where old.n is distinct from new.n""")
        changed, held = con.execute(
            "select (select coalesce(sum(n), 0) from publish_delta), (select coalesce(sum(old_n), 0) from publish_delta)"
        ).fetchone()
        if changed > PATCH_AT_MOST * max(total, 1):
            return None
        deleted = con.execute(f"delete from published.marts.{name} where rowid in "
                              "(select r from publish_old where h in (select h from publish_delta))").fetchone()[0]
        inserted = con.execute(f"insert into published.marts.{name} select * from marts.{name} where rowid in "
                               "(select r from publish_new where h in (select h from publish_delta where n > 0))"
                               ).fetchone()[0]
    finally:
        for working in ("publish_delta", "publish_old", "publish_new"):  # none left behind, whatever failed
            con.execute(f"drop table if exists {working}")
    return changed if (deleted, inserted) == (held, changed) else None


def _write_whole(con: duckdb.DuckDBPyConnection, table: str, target: Path, where: str = "",
                 params: list | None = None, month: str | None = None) -> None:
    """A mart's rows (those ``where`` keeps) into Parquet: one file at ``target``, or, with ``month`` (a SQL
    expression of the month), a folder of one file per month (DuckDB's PARTITION_BY, in parallel)."""
    by_month = f", {month} as {MONTH_KEY}" if month else ""
    partition = f", partition_by ({MONTH_KEY})" if month else ""
    # zstd at level 1, not its default 3: the 37 marts at 1M posts in 3.72-4.90 s against 4.30-5.37 s (six rounds
    # alternated), for files 4% larger (fct_posts 34.6 MB against 33.2 MB); any reader reads both
    con.execute(f"copy (select *{by_month} from marts.{quote_ident(table)} as x{where}) to ? "
                f"(format parquet, compression zstd, compression_level 1{partition})", [*(params or []), str(target)])


# A large mart with a date or timestamp column is published with its rows grouped by month: every row group of its
# Parquet file holds one month of the column `days.json` records (parquet_stitch). A later publish writes only the
# months whose days changed and copies the others' row groups from the current version, byte for byte: a 0.1% run
# at 5M posts changes one day of fct_posts' 366, whose Parquet file cost 3.9 s to write whole. A mart under this many
# rows is written whole: it is quick to. So is one whose changed months hold more than half its rows (written in one
# piece, the way that costs least, as `fct_escalations`, whose open escalations age every run).
PARQUET_BY_MONTH_FROM = 100_000
MONTH_KEY = "socialcx_month"
_MONTH_FOLDER = re.compile(rf"^{MONTH_KEY}=(\d{{4}}-\d{{2}})$")


def _month_days(month: str | None) -> list[str | None]:
    """The days of a month ('YYYY-MM'; None: the rows with no day)."""
    if month is None:
        return [None]
    first = date.fromisoformat(f"{month}-01")
    after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [(first + timedelta(days=n)).isoformat() for n in range((after - first).days)]


def _month(day: str | None) -> str | None:
    """The month ('YYYY-MM') of an ISO day; None for the rows with no day."""
    return day[:7] if day else None


def _write_by_month(con: duckdb.DuckDBPyConnection, table: str, total: int, target: Path, record: dict,
                    previous: Path | None, changed: tuple[str, list[str | None]] | None,
                    columns: set[str], time_zone: str) -> list[str | None] | None:
    """Write ``table``'s Parquet file by month (`PARQUET_BY_MONTH_FROM`): the row groups of the months whose days are
    unchanged copied from ``previous`` (the current version's file, when it is by month and holds as many rows in
    each as the mart does now), the other months written from the mart. ``columns``: the mart's; ``time_zone``:
    the connection's. The months written, or None when the mart is better written whole (nothing is written then)."""
    from socialcx.serving.parquet_stitch import ParquetLayoutError, group_rows, read_footer, stitch

    days = (record.get("marts") or {}).get(table)
    if total < PARQUET_BY_MONTH_FROM or not days or MONTH_KEY in columns:
        return None  # small, no day column, or a column of the name the month's is given while it is written
    if record.get("time_zone") != time_zone:
        return None  # the months of the mart's days are counted in the time zone they were recorded in
    rows_now: dict[str | None, int] = {}
    for day, count, _ in days["days"]:
        rows_now[_month(day)] = rows_now.get(_month(day), 0) + count
    column = quote_ident(days["column"])
    month = f"strftime(cast(x.{column} as date), '%Y-%m')"
    old, old_months, fresh = None, None, set(rows_now)
    if changed is not None and changed[0] == days["column"]:
        changed_months = {_month(day) for day in changed[1]}
        if sum(rows_now.get(m, 0) for m in changed_months) > total / 2:
            return None
        try:
            old = read_footer(previous) if previous is not None and previous.is_file() else None
        except (OSError, ParquetLayoutError):
            old = None
        old_months = old.months() if old is not None else None
        if old_months is not None:
            held: dict[str | None, int] = {}
            for index, group_month in enumerate(old_months):
                held[group_month] = held.get(group_month, 0) + group_rows(old.row_groups[index])
            # the unchanged months must hold in the file the rows they hold now; else every month is written
            if all(held.get(m, 0) == rows_now.get(m, 0) for m in set(held) | set(rows_now) if m not in changed_months):
                fresh = changed_months
            else:
                old_months = None
    parts = target.parent / f".{table}.months"
    # the months' rows by ranges of the day column, each month's first day to the next's (`_days_where`)
    where, params = _days_where(days["column"], [day for m in fresh for day in _month_days(m)])
    try:
        if any(rows_now.get(m, 0) for m in fresh):
            _write_whole(con, table, parts, where, params, month)
        pieces_by_month: dict[str | None, list] = {}
        for path in sorted(parts.glob("*/*.parquet")) if parts.is_dir() else []:
            name = path.parent.name
            found = _MONTH_FOLDER.match(name)
            key = found.group(1) if found else None
            if found is None and name != f"{MONTH_KEY}=__HIVE_DEFAULT_PARTITION__":
                raise ParquetLayoutError(f"unexpected folder {name}")
            footer = read_footer(path)
            pieces_by_month.setdefault(key, []).extend((footer, i, key) for i in range(len(footer.row_groups)))
        if old_months is not None:
            for index, group_month in enumerate(old_months):
                if group_month not in fresh:
                    pieces_by_month.setdefault(group_month, []).append((old, index, group_month))
        pieces = [piece for key in sorted(pieces_by_month, key=lambda m: (m is None, m or ""))
                  for piece in pieces_by_month[key]]
        if not pieces or stitch(target, pieces) != total:
            raise ParquetLayoutError(f"the months of {table} do not add up to its {total} rows")
    except (OSError, ParquetLayoutError, duckdb.Error) as exc:
        # DuckDB's message may quote a value of the mart: only its kind is logged
        log.warning("Parquet file of %s written whole: %s", table,
                    type(exc).__name__ if isinstance(exc, duckdb.Error) else exc)
        target.unlink(missing_ok=True)
        return None
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return sorted(fresh, key=lambda m: (m is None, m or ""))


def publish(con: duckdb.DuckDBPyConnection, publish_dir: Path, run_id: str, *,
            rewrite_all: bool = False, warehouse: Path | None = None) -> dict[str, object]:
    """Publish the validated marts as a new version. Marts unchanged since the current version (same fingerprint)
    are carried over (the previous DuckDB file copied, its Parquet files linked); only changed marts are written.
    ``rewrite_all`` writes every mart into a fresh DuckDB file: after an erasure, and on full validations, so no
    dropped table's old pages linger in a copied file. ``warehouse``: the file ``con`` holds, whose marts need not
    be fingerprinted again while it is as the validation left it (`check_validated`)."""
    validation_run, fingerprints, record, from_validation = check_validated(con, warehouse)
    tables = _mart_tables(con)
    if not tables:
        raise PublishRefused("schema marts is empty: run `socialcx transform` first")
    publish_dir.mkdir(parents=True, exist_ok=True)
    cleaned = clean_leftovers(publish_dir)
    previous = current_version(publish_dir)
    # the Parquet files: those of unchanged marts linked from the current version, the months of changed days written
    reused = set() if rewrite_all else _unchanged(previous, fingerprints) & set(tables)
    changed_days = {} if rewrite_all else _changed_days(previous, record)
    version_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    building = publish_dir / VERSIONS / f"{version_id}.tmp-{os.getpid()}"
    (building / "parquet").mkdir(parents=True)
    counts: dict[str, int] = {}
    patched: dict[str, int] = {}
    patched_days: dict[str, int] = {}  # of a patched mart, the days compared, when not all its rows were
    # the DuckDB file: the older version's taken (`_recyclable`), else the current one's copied when it holds a mart
    # as it is now, else a new one; then the marts that differ from what that file holds patched or written
    base = None if rewrite_all else _recyclable(publish_dir, previous)
    duckdb_from = _attach_published(con, building, previous if reused else None, base)
    held_from = base if duckdb_from == "recycled" else previous
    held_unchanged, held_days = reused, changed_days
    if duckdb_from == "recycled":
        held_unchanged = _unchanged(base, fingerprints, parquet=False)
        held_unchanged &= set(tables)
        held_days = _changed_days(base, record)
    since = version_id if duckdb_from == "new" else _manifest(held_from).get("duckdb_since")
    try:
        con.execute("create schema if not exists published.marts")
        held = _shapes(con, "published")
        shapes = _shapes(con, con.execute("select current_database()").fetchone()[0])
        for table, shape in held.items():
            if table in held_unchanged:
                continue
            # a mart that is gone, or whose columns changed, is dropped (and written whole)
            rows = (_patch(con, table, fingerprints[table][0], held_days.get(table))
                    if table in tables and shape == shapes.get(table) else None)
            if rows is None:
                con.execute(f"drop table published.marts.{quote_ident(table)}")
            else:
                patched[table] = rows
                if table in held_days:
                    patched_days[table] = len(held_days[table][1])
        for table in tables:
            name = quote_ident(table)
            if table not in held_unchanged and table not in patched:
                con.execute(f"create table published.marts.{name} as select * from marts.{name}")
            # the validated count: a carried-over table has the fingerprint, a patched one was checked against the
            # mart's count and row hashes, a written one is the mart (no second count of a million rows)
            counts[table] = fingerprints[table][0]
    finally:
        con.execute("detach published")
    # a mart's rows have no order, so DuckDB may write each file from both threads: fct_posts' 5M rows in 4.3 s
    # against 6.0 s in insertion order
    con.execute("set preserve_insertion_order = false")
    parquet_months: dict[str, list[str | None]] = {}  # of a mart written by month, the months written
    time_zone = con.execute("select current_setting('TimeZone')").fetchone()[0]
    try:
        for table in tables:
            target = building / "parquet" / f"{table}.parquet"
            if table in reused:
                _link_or_copy(previous / "parquet" / f"{table}.parquet", target)
                continue
            months = _write_by_month(con, table, counts[table], target, record,
                                     previous / "parquet" / f"{table}.parquet" if previous else None,
                                     changed_days.get(table), {name for name, _ in shapes.get(table, ())}, time_zone)
            if months is not None:
                parquet_months[table] = months
            else:
                _write_whole(con, table, target)
    finally:
        con.execute("reset preserve_insertion_order")
    final = publish_dir / VERSIONS / version_id
    manifest = {"run_id": run_id, "validation_run_id": validation_run, "version": version_id,
                "published_at": datetime.now(UTC).isoformat(), "tables": counts,
                "rewritten": sorted(set(tables) - reused), "carried_over": sorted(reused),
                "duckdb_from": {"how": duckdb_from, "version": held_from.name if duckdb_from != "new" else None},
                "duckdb_since": since,
                "patched_rows": dict(sorted(patched.items())), "patched_days": dict(sorted(patched_days.items())),
                "parquet_months_written": dict(sorted(parquet_months.items())),
                "fingerprinted_by": "validation" if from_validation else "publish",
                "fingerprints": {table: list(fingerprints[table]) for table in tables if table in fingerprints},
                "duckdb_file": str(publish_dir / "socialcx.duckdb"), "parquet_dir": str(publish_dir / "parquet"),
                "storage_version": PUBLISHED_STORAGE_VERSION}
    (building / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (building / DAYS).write_text(json.dumps(record))
    os.replace(building, final)
    _switch(publish_dir / CURRENT, f"{VERSIONS}/{version_id}")  # the one switch readers see
    for name in LINKS:
        link = publish_dir / name
        if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{name}"):
            _switch(link, f"{CURRENT}/{name}")
    manifest["pruned"] = prune_versions(publish_dir)
    manifest["cleaned"] = cleaned
    return manifest
