"""Publishing on PostgreSQL: BI reads schema ``published``, swapped whole.

Each publish builds ``published_next`` (a copy of every validated mart, and the read-only role's grants), then
renames ``published`` to ``published_previous`` and ``published_next`` to ``published`` in one transaction. Renames
alone lock no table, but then one query reading two published tables could resolve the first name before the
swap commits and the second after it (a test saw it). So the swap first takes the old tables' exclusive locks,
each waiting at most SWAP_LOCK_TIMEOUT: a query already reading finishes on the old set, one arriving during
the swap (a few milliseconds) waits for it and reads the new set whole. When a long query holds an old table,
the swap gives up its locks and tries again shortly, instead of making every new reader queue behind it. The old
set is dropped afterwards, in its own transaction. BI logs in with a role granted the read-only role (``SOCIALCX_BI_ROLE``, ``socialcx_bi`` by default; README,
"When one machine is not enough").
"""

from __future__ import annotations

PUBLISHED, NEXT, PREVIOUS = "published", "published_next", "published_previous"
SWAP_LOCK_TIMEOUT = "200ms"
SWAP_ATTEMPTS = 100


class SwapBlocked(RuntimeError):
    """Readers held the published tables through every attempt at the swap."""


def _schema_exists(cur, name: str) -> bool:
    cur.execute("select 1 from pg_namespace where nspname = %s", [name])
    return bool(cur.fetchall())


def ensure_reader_role(cur, role: str) -> None:
    """The read-only role (no login: people and BI tools log in as roles granted it), created when missing."""
    from psycopg2 import sql

    cur.execute("select 1 from pg_roles where rolname = %s", [role])
    if not cur.fetchall():
        cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))


def publish_schema(pg, tables: list[str], *, reader_role: str | None, source_schema: str = "marts") -> dict[str, int]:
    """Swap in a new ``published`` schema holding ``tables`` of ``source_schema``; rows per table."""
    from psycopg2 import sql

    counts: dict[str, int] = {}
    with pg.cursor() as cur:
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(NEXT)))
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(PREVIOUS)))
        cur.execute(sql.SQL("create schema {}").format(sql.Identifier(NEXT)))
        for table in tables:
            cur.execute(sql.SQL("create table {}.{} as table {}.{}").format(
                sql.Identifier(NEXT), sql.Identifier(table), sql.Identifier(source_schema), sql.Identifier(table)))
            counts[table] = cur.rowcount
        if reader_role:
            ensure_reader_role(cur, reader_role)
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(NEXT),
                                                                         sql.Identifier(reader_role)))
            cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(
                sql.Identifier(NEXT), sql.Identifier(reader_role)))
    pg.commit()
    _swap(pg)
    with pg.cursor() as cur:
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(PREVIOUS)))
    pg.commit()
    return counts


def _swap(pg) -> None:
    """``published_next`` becomes ``published`` in one transaction, once it holds the old tables' locks."""
    import time

    from psycopg2 import errors, sql

    for attempt in range(SWAP_ATTEMPTS):
        try:
            with pg.cursor() as cur:
                cur.execute("select set_config('lock_timeout', %s, true)", [SWAP_LOCK_TIMEOUT])
                if _schema_exists(cur, PUBLISHED):
                    cur.execute("select tablename from pg_tables where schemaname = %s order by 1", [PUBLISHED])
                    old = [sql.SQL("{}.{}").format(sql.Identifier(PUBLISHED), sql.Identifier(name))
                           for (name,) in cur.fetchall()]
                    if old:
                        cur.execute(sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(old)))
                    cur.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(PUBLISHED),
                                                                               sql.Identifier(PREVIOUS)))
                cur.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(NEXT),
                                                                           sql.Identifier(PUBLISHED)))
            pg.commit()
            return
        except errors.LockNotAvailable:
            pg.rollback()
            time.sleep(min(0.05 * (attempt + 1), 1.0))
    raise SwapBlocked(f"readers held the published tables through {SWAP_ATTEMPTS} attempts to swap in the new "
                      f"version (each waiting {SWAP_LOCK_TIMEOUT}); {NEXT} is built: run `socialcx publish` again "
                      "when the long queries are done")
