"""The PostgreSQL target: its connection settings, the copies between the working DuckDB file and PostgreSQL
(raw and enriched in, the marts back), and compaction after an erasure.

``SOCIALCX_TARGET=postgres`` points the pipeline at a PostgreSQL database named by ``SOCIALCX_POSTGRES_URL``
(``postgresql://user:password@host:port/database``) or by the Airflow connection ``socialcx_warehouse``.
The URL is parsed here once; dbt reads the parts from the environment (``dbt_project/profiles.yml``), and no
part of it is ever logged: :func:`describe` names the server without the password.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from socialcx.core.warehouse import has_table, quote_ident, quote_table

# DuckDB's column types and what PostgreSQL calls them (the pipeline's own tables use only these)
_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSON": "jsonb",
}


@dataclass(frozen=True)
class PostgresURL:
    host: str
    port: int
    user: str
    password: str
    database: str

    def env(self) -> dict[str, str]:
        """The variables ``profiles.yml``'s postgres target reads."""
        return {"SOCIALCX_PG_HOST": self.host, "SOCIALCX_PG_PORT": str(self.port), "SOCIALCX_PG_USER": self.user,
                "SOCIALCX_PG_PASSWORD": self.password, "SOCIALCX_PG_DATABASE": self.database}

    def describe(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_url(url: str) -> PostgresURL:
    """Split a ``postgresql://`` URL; the error names what is missing, never the URL (it holds a password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg2"):
        raise ValueError("SOCIALCX_POSTGRES_URL must start with postgresql:// "
                         "(postgresql://user:password@host:5432/database)")
    database = parts.path.lstrip("/")
    if not parts.hostname or not database or not parts.username:
        raise ValueError("SOCIALCX_POSTGRES_URL needs a user, a host and a database: "
                         "postgresql://user:password@host:5432/database")
    return PostgresURL(host=parts.hostname, port=parts.port or 5432, user=unquote(parts.username),
                       password=unquote(parts.password or ""), database=unquote(database))


def configured_url() -> PostgresURL:
    """The warehouse's PostgreSQL: ``SOCIALCX_POSTGRES_URL``, else the Airflow connection ``socialcx_warehouse``.
    Its password is masked in socialcx's logs and errors (and Airflow's task logs) from then on."""
    from socialcx.core.logs import register_secret

    url = _configured_url()
    register_secret(url.password)
    return url


def _configured_url() -> PostgresURL:
    url = os.environ.get("SOCIALCX_POSTGRES_URL")
    if url:
        return parse_url(url)
    # Airflow's connection from the environment, as Airflow itself reads it (a URI or JSON): readable in any
    # process, a task's subprocesses too, without Airflow's database
    defined = (os.environ.get("AIRFLOW_CONN_SOCIALCX_WAREHOUSE") or "").strip()
    if defined.startswith("{"):
        import json

        fields = json.loads(defined)
        return PostgresURL(host=fields.get("host") or "localhost", port=int(fields.get("port") or 5432),
                           user=fields.get("login") or "", password=fields.get("password") or "",
                           database=fields.get("schema") or "")
    if defined:
        return parse_url(defined)
    try:
        from airflow.sdk import Connection  # only where Airflow is installed and configured

        conn = Connection.get("socialcx_warehouse")
    except Exception as exc:  # noqa: BLE001 - no Airflow, or no such connection: say what to set
        raise ValueError("SOCIALCX_TARGET=postgres needs SOCIALCX_POSTGRES_URL "
                         "(postgresql://user:password@host:5432/database) or an Airflow connection "
                         "socialcx_warehouse") from exc
    return PostgresURL(host=conn.host or "localhost", port=conn.port or 5432, user=conn.login or "",
                       password=conn.password or "", database=conn.schema or "")


def connect(url: PostgresURL | None = None):
    """A psycopg2 connection in UTC, not in autocommit: callers commit."""
    import psycopg2

    url = url or configured_url()
    con = psycopg2.connect(host=url.host, port=url.port, user=url.user, password=url.password, dbname=url.database,
                           options="-c TimeZone=UTC", application_name="socialcx")
    return con


def _pg_type(duck_type: str) -> str:
    if duck_type.endswith("[]"):
        return _pg_type(duck_type[:-2]) + "[]"
    if duck_type.startswith("DECIMAL"):
        return duck_type.lower().replace("decimal", "numeric")
    try:
        return _TYPES[duck_type]
    except KeyError:
        raise ValueError(f"no PostgreSQL type for DuckDB's {duck_type}") from None


def _columns(cur, schema: str, table: str) -> list[tuple[str, str]]:
    """A PostgreSQL table's columns and their types, as ``_pg_type`` names them; [] when there is no table."""
    names = {"timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
             "timestamp with time zone[]": "timestamptz[]", "character varying": "text"}
    return [(name, names.get(kind, kind)) for name, kind in _columns_raw(cur, schema, table)]


def _pg_array_literal(values: list | None) -> str | None:
    """A list as PostgreSQL's array text: every element double-quoted, backslashes and quotes escaped."""
    if values is None:
        return None
    items = []
    for value in values:
        if value is None:
            items.append("NULL")
        else:
            text = str(value).replace("\\", "\\\\").replace('"', '\\"')
            items.append(f'"{text}"')
    return "{" + ",".join(items) + "}"


def copy_from_duckdb(duck, pg, schemas: Iterable[str] = ("raw", "enriched"), *, batch_rows: int = 100_000) -> dict[str, int]:
    """Bring every base table of ``schemas`` in PostgreSQL up to date with the DuckDB warehouse, and the view
    ``raw.posts_with_brand``. One PostgreSQL transaction: PostgreSQL holds the old rows or the new ones. Returns the
    rows sent per table.

    Only what changed since the last copy is sent. The working file keeps, per table with a primary key, the keys
    and a hash of every row as PostgreSQL last received them (``ops."postgres_copy.<schema>.<table>"``): rows new
    or changed since are deleted by key and copied again, rows gone are deleted. A table without a primary key is
    copied whole when its checksum moved. The copy is whole (truncate and COPY) the first time, when a table's
    columns change, and whenever the token PostgreSQL holds (``ops.copy_token``) is not the one the working file
    wrote last (another database, a restored one, or a copy that committed in PostgreSQL but not here)."""
    from socialcx.core.ddl import POST_BRAND

    schemas = list(schemas)
    tables = duck.execute(
        "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
        "and list_contains(?, table_schema) order by 1, 2", [schemas]).fetchall()
    token = os.urandom(16).hex()
    copied: dict[str, int] = {}
    states: list[tuple[str, str, list[str]]] = []
    with pg.cursor() as cur:
        cur.execute("create schema if not exists ops; create table if not exists ops.copy_token (token text)")
        cur.execute("select token from ops.copy_token")
        theirs = [t for (t,) in cur.fetchall()]
        trusted = len(theirs) == 1 and theirs[0] == _own_token(duck)
        for schema in schemas:
            cur.execute(f"create schema if not exists {quote_ident(schema)}")
        for schema, table in tables:
            columns = duck.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? and "
                "table_name = ? order by ordinal_position", [schema, table]).fetchall()
            keys = _primary_key(duck, schema, table)
            qualified = quote_table(f"{schema}.{table}")
            wanted = [(name, _pg_type(kind)) for name, kind in columns]
            same = _columns(cur, schema, table) == wanted
            if same and trusted:
                copied[f"{schema}.{table}"] = _copy_changes(duck, cur, schema, table, columns, keys, batch_rows)
            else:
                if same:
                    cur.execute(f"truncate {qualified}")  # the same columns: keep the table and what depends on it
                else:
                    # new or changed columns: dbt's staging views over it go too; the build that follows makes them
                    cur.execute(f"drop table if exists {qualified} cascade")
                    cur.execute(f"create table {qualified} ("
                                + ", ".join(f"{quote_ident(name)} {kind}" for name, kind in wanted) + ")")
                copied[f"{schema}.{table}"] = _copy_rows(duck, cur, f"select * from {qualified}", qualified,
                                                         columns, batch_rows)
                if keys and not _has_primary_key(cur, schema, table):
                    cur.execute(f"alter table {qualified} add primary key ("
                                + ", ".join(quote_ident(k) for k in keys) + ")")
            states.append((schema, table, keys))
        if "raw" in schemas:
            cur.execute("select 1 from information_schema.views where table_schema = 'raw' "
                        "and table_name = 'posts_with_brand'")
            if not cur.fetchall():
                cur.execute(POST_BRAND.replace("create view if not exists", "create view"))
        cur.execute("delete from ops.copy_token")
        cur.execute("insert into ops.copy_token values (%s)", [token])
    pg.commit()
    # what PostgreSQL now holds, in the working file; if this does not commit, the tokens differ and the next copy
    # is whole
    duck.execute("begin transaction")
    try:
        for schema, table, keys in states:
            _remember(duck, schema, table, keys)
        duck.execute("create table if not exists ops.postgres_copy_token (token varchar)")
        duck.execute("delete from ops.postgres_copy_token")
        duck.execute("insert into ops.postgres_copy_token values (?)", [token])
        duck.execute("commit")
    except BaseException:
        duck.execute("rollback")
        raise
    return copied


def _own_token(duck) -> str | None:
    if not has_table(duck, "ops", "postgres_copy_token"):
        return None
    rows = duck.execute("select token from ops.postgres_copy_token").fetchall()
    return rows[0][0] if len(rows) == 1 else None


def _primary_key(duck, schema: str, table: str) -> list[str]:
    rows = duck.execute("select constraint_column_names from duckdb_constraints() where schema_name = ? "
                        "and table_name = ? and constraint_type = 'PRIMARY KEY'", [schema, table]).fetchall()
    return list(rows[0][0]) if rows else []


def _has_primary_key(cur, schema: str, table: str) -> bool:
    cur.execute("select 1 from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_namespace n "
                "on n.oid = t.relnamespace where n.nspname = %s and t.relname = %s and c.contype = 'p'",
                [schema, table])
    return bool(cur.fetchall())


def _state_table(schema: str, table: str) -> str:
    """The working file's record of what PostgreSQL holds of ``schema.table`` (catalog names only)."""
    return f"ops.{quote_ident(f'postgres_copy.{schema}.{table}')}"


def _remember(duck, schema: str, table: str, keys: list[str]) -> None:
    """Record the rows PostgreSQL now holds: per key the row's hash, or for a table without a key its checksum."""
    qualified, state = quote_table(f"{schema}.{table}"), _state_table(schema, table)
    if keys:
        cols = ", ".join(quote_ident(k) for k in keys)
        duck.execute(f"create or replace table {state} as select {cols}, hash(t) as row_hash from {qualified} as t")
    else:
        duck.execute(f"create or replace table {state} as select count(*) as row_count, "
                     f"coalesce(sum(hash(t)::hugeint), 0) as checksum from {qualified} as t")


def _copy_changes(duck, cur, schema: str, table: str, columns: list, keys: list[str], batch_rows: int) -> int:
    """Send what changed in one table since PostgreSQL last received it; the rows sent."""
    qualified, state = quote_table(f"{schema}.{table}"), _state_table(schema, table)
    known = has_table(duck, "ops", f"postgres_copy.{schema}.{table}")
    if known and not keys:
        now = duck.execute(f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {qualified} as t").fetchone()
        if duck.execute(f"select row_count, checksum from {state}").fetchone() == now:
            return 0
    if not known or not keys:  # nothing recorded, or no key to match rows by: the whole table is sent again
        cur.execute(f"truncate {qualified}")
        return _copy_rows(duck, cur, f"select * from {qualified}", qualified, columns, batch_rows)
    on = " and ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    cols = ", ".join(quote_ident(k) for k in keys)
    # keys whose row PostgreSQL must lose: changed since, gone, or new (in case a row of that key is there all the
    # same); then the changed and new rows are sent
    stale = (f"select {', '.join(f's.{quote_ident(k)}' for k in keys)} from {state} as s "
             f"left join {qualified} as t on {on} where t.{quote_ident(keys[0])} is null or hash(t) <> s.row_hash "
             f"union all select {', '.join(f't.{quote_ident(k)}' for k in keys)} from {qualified} as t "
             f"left join {state} as s on {on} where s.row_hash is null")
    key_columns = [(name, kind) for name, kind in columns if name in keys]
    key_columns.sort(key=lambda c: keys.index(c[0]))
    cur.execute(f"create temporary table _socialcx_stale on commit drop as select {cols} from {qualified} limit 0")
    if _copy_rows(duck, cur, stale, "_socialcx_stale", key_columns, batch_rows):
        cur.execute(f"delete from {qualified} as t using _socialcx_stale as s where {on}")
    cur.execute("drop table _socialcx_stale")
    fresh = (f"select t.* from {qualified} as t left join {state} as s on {on} "
             f"where s.row_hash is null or hash(t) <> s.row_hash")
    return _copy_rows(duck, cur, fresh, qualified, columns, batch_rows)


def _copy_rows(duck, cur, select: str, target: str, columns: list, batch_rows: int) -> int:
    """COPY the rows of a DuckDB query into a PostgreSQL table (lists as arrays); the rows sent."""
    arrays = [i for i, (_, kind) in enumerate(columns) if kind.endswith("[]")]
    result = duck.execute(select)
    total = 0
    while rows := result.fetchmany(batch_rows):
        buffer = io.StringIO()
        for row in rows:
            values = list(row)
            for i in arrays:
                values[i] = _pg_array_literal(values[i])
            buffer.write(",".join(_csv_field(v) for v in values))
            buffer.write("\n")
        buffer.seek(0)
        names = ", ".join(quote_ident(name) for name, _ in columns)
        cur.copy_expert(f"copy {target} ({names}) from stdin with (format csv, null '')", buffer)
        total += len(rows)
    return total


def write_frame(pg, table: str, frame, keys: list[str]) -> int:
    """Write a data frame into a PostgreSQL table, replacing the rows with the same ``keys`` (delete, then insert,
    through a temporary table filled by COPY), in the caller's transaction; the rows written. Lists become arrays,
    NaN and missing values NULL."""
    import math

    if frame.empty:
        return 0
    columns = list(frame.columns)
    target = quote_table(table)
    names = ", ".join(quote_ident(c) for c in columns)
    buffer = io.StringIO()
    for row in frame.itertuples(index=False, name=None):
        fields = []
        for value in row:
            if isinstance(value, list | tuple) or (hasattr(value, "tolist") and not isinstance(value, str | float)
                                                    and getattr(value, "ndim", 0) == 1):
                fields.append(_csv_field(_pg_array_literal(list(value))))
            elif value is None or (isinstance(value, float) and math.isnan(value)) or _is_missing(value):
                fields.append("")
            else:
                fields.append(_csv_field(value))
        buffer.write(",".join(fields) + "\n")
    buffer.seek(0)
    with pg.cursor() as cur:
        cur.execute(f"create temporary table _socialcx_in on commit drop as select {names} from {target} limit 0")
        cur.copy_expert(f"copy _socialcx_in ({names}) from stdin with (format csv, null '')", buffer)
        on = " and ".join(f"t.{quote_ident(k)} = i.{quote_ident(k)}" for k in keys)
        cur.execute(f"delete from {target} as t using _socialcx_in as i where {on}")
        cur.execute(f"insert into {target} ({names}) select {names} from _socialcx_in")
        written = cur.rowcount
        cur.execute("drop table _socialcx_in")
    return written


def _is_missing(value: object) -> bool:
    """pandas' NA and NaT (and numpy's NaN) without importing pandas here."""
    try:
        return bool(value != value)  # noqa: PLR0124 - NaN and NaT are the values unequal to themselves
    except (TypeError, ValueError):  # pd.NA refuses to be a bool
        return True


def _csv_field(value: object) -> str:
    """NULL as an empty unquoted field; every value quoted, so an empty string stays an empty string."""
    if value is None:
        return ""
    return '"' + str(value).replace('"', '""') + '"'


# PostgreSQL's column types (format_type) and the DuckDB types a mirror of its table gets
_DUCK_TYPES = {
    "text": "VARCHAR", "character varying": "VARCHAR", "boolean": "BOOLEAN", "integer": "INTEGER",
    "bigint": "BIGINT", "smallint": "SMALLINT", "double precision": "DOUBLE", "real": "FLOAT", "numeric": "DOUBLE",
    "date": "DATE", "timestamp with time zone": "TIMESTAMPTZ", "timestamp without time zone": "TIMESTAMP",
    "interval": "INTERVAL", "jsonb": "JSON", "json": "JSON",
}


def _duck_type(pg_type: str) -> str:
    if pg_type.endswith("[]"):
        return _duck_type(pg_type[:-2]) + "[]"
    base = pg_type.split("(")[0]
    try:
        return _DUCK_TYPES[base]
    except KeyError:
        raise ValueError(f"no DuckDB type for PostgreSQL's {pg_type}") from None


def copy_to_duckdb(pg, duck, schema: str) -> dict[str, int]:
    """Mirror every table of a PostgreSQL schema into the same schema of the DuckDB warehouse (replacing its
    tables), in one DuckDB transaction; rows per table. numeric becomes DOUBLE.

    Each table leaves PostgreSQL by COPY as CSV (lists as JSON) into a private temporary file, which DuckDB reads
    as text and casts column by column: no row passes through Python."""
    import tempfile

    with pg.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = %s "
                    "and table_type = 'BASE TABLE' order by 1", [schema])
        tables = [name for (name,) in cur.fetchall()]
    copied: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="socialcx-mirror-") as folder:  # mode 700: the rows are private
        duck.execute("begin transaction")
        try:
            duck.execute(f"create schema if not exists {quote_ident(schema)}")
            for table in tables:
                qualified = quote_table(f"{schema}.{table}")
                columns = _export_csv(pg, schema, table, f"{folder}/{table}.csv")
                duck.execute(f"drop table if exists {qualified}")
                duck.execute(f"create table {qualified} ("
                             + ", ".join(f"{quote_ident(name)} {duck_kind}" for name, duck_kind in columns) + ")")
                copied[f"{schema}.{table}"] = _import_csv(duck, qualified, columns, f"{folder}/{table}.csv",
                                                          "insert into")
            duck.execute("commit")
        except BaseException:
            duck.execute("rollback")
            raise
    pg.commit()
    return copied


def copy_rows_to_duckdb(pg, duck, table: str, target: str) -> int:
    """Every row of a PostgreSQL table, written into the DuckDB table ``target`` by ``insert or replace`` (on its
    primary key, by column name), in the caller's DuckDB transaction. Through a private CSV file, as
    :func:`copy_to_duckdb`; the rows written."""
    import tempfile

    schema, name = table.split(".")
    with tempfile.TemporaryDirectory(prefix="socialcx-mirror-") as folder:
        path = f"{folder}/{name}.csv"
        columns = _export_csv(pg, schema, name, path)
        return _import_csv(duck, quote_table(target), columns, path, "insert or replace into")


def _export_csv(pg, schema: str, table: str, path: str) -> list[tuple[str, str]]:
    """COPY a table's rows to a CSV file, lists as JSON; its columns and their DuckDB types."""
    with pg.cursor() as cur:
        columns = [(name, kind) for name, kind in _columns_raw(cur, schema, table)]
        select = ", ".join(f"to_json({quote_ident(name)})" if kind.endswith("[]") else quote_ident(name)
                           for name, kind in columns)
        with open(path, "w", encoding="utf-8") as out:
            cur.copy_expert(f"copy (select {select} from {quote_table(f'{schema}.{table}')}) to stdout "
                            "with (format csv, null '\\N')", out)
    return [(name, _duck_type(kind)) for name, kind in columns]


def _import_csv(duck, qualified: str, columns: list[tuple[str, str]], path: str, verb: str) -> int:
    """Read a CSV file of :func:`_export_csv` into a DuckDB table, casting each text column to its type; the rows
    written."""
    casts = ", ".join((f"cast(cast(c{i} as JSON) as {kind})" if kind.endswith("[]") else f"cast(c{i} as {kind})")
                      + f" as {quote_ident(name)}" for i, (name, kind) in enumerate(columns))
    if os.path.getsize(path) == 0:
        return 0
    return int(duck.execute(f"{verb} {qualified} by name select {casts} from read_csv(?, header = false, "
                            "all_varchar = true, nullstr = '\\N', quote = '\"', escape = '\"', "
                            "auto_detect = false, columns = " + _varchar_columns(len(columns)) + ")",
                            [path]).fetchall()[0][0])


def _varchar_columns(count: int) -> str:
    """read_csv's columns: c0..cN, all text (names of this module, never data)."""
    return "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(count)) + "}"


def _columns_raw(cur, schema: str, table: str) -> list[tuple[str, str]]:
    cur.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped order by a.attnum",
        [schema, table])
    return cur.fetchall()


def compact(pg, schemas: Iterable[str] = ("raw", "enriched", "intermediate", "marts", "published")) -> dict[str, object]:
    """Rewrite every table of ``schemas`` (VACUUM FULL): deleted rows (an erasure's) leave dead tuples whose bytes
    stay in the table's files until rewritten. ANALYZE recomputes the planner's statistics, whose samples
    (pg_statistic's most common values and histograms) held the same values; a superuser also rewrites
    pg_statistic, so no old version of those samples is left either. Runs outside a transaction, as VACUUM must."""
    from psycopg2 import sql

    pg.commit()
    previous, pg.autocommit = pg.autocommit, True
    try:
        with pg.cursor() as cur:
            cur.execute("select table_schema, table_name from information_schema.tables "
                        "where table_type = 'BASE TABLE' and table_schema = any(%s) order by 1, 2", [list(schemas)])
            tables = cur.fetchall()
            for schema, table in tables:
                cur.execute(sql.SQL("vacuum (full, analyze) {}.{}").format(sql.Identifier(schema),
                                                                          sql.Identifier(table)))
            cur.execute("select rolsuper from pg_roles where rolname = current_user")
            superuser = bool(cur.fetchone()[0])
            if superuser:
                cur.execute("vacuum full pg_catalog.pg_statistic")
    finally:
        pg.autocommit = previous
    return {"tables_rewritten": len(tables), "statistics_rewritten": superuser}
