"""Compare the marts of two warehouses row for row (DuckDB against DuckDB, or DuckDB against PostgreSQL).

Rows are compared as multisets: each table's rows are normalised (numbers to float, lists to tuples, aware
timestamps to UTC) and sorted; two rows are equal when every value is, floats within a relative tolerance.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from socialcx.core.warehouse import quote_ident

TOLERANCE = 1e-9


def _norm(value: object) -> object:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _norm(v)) for k, v in value.items()))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def _sort_key(value: object) -> tuple:
    """A total order that does not depend on a float's last bits."""
    if value is None:
        return (0,)
    if isinstance(value, float):
        return (1, float(f"{value:.6g}") if math.isfinite(value) else value)
    if isinstance(value, tuple):
        return (2, tuple(_sort_key(v) for v in value))
    return (3, type(value).__name__, str(value))


def _equal(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def table_names(con, schema: str, *, postgres: bool) -> list[str]:
    sql = ("select table_name from information_schema.tables where table_schema = %s order by 1" if postgres else
           "select table_name from information_schema.tables where table_schema = ? order by 1")
    if postgres:
        with con.cursor() as cur:
            cur.execute(sql, [schema])
            return [r[0] for r in cur.fetchall()]
    return [r[0] for r in con.execute(sql, [schema]).fetchall()]


def rows(con, schema: str, table: str, *, postgres: bool, ignore: tuple[str, ...] = ()) -> tuple[list[str], list[tuple]]:
    """A table's column names and its rows, normalised and sorted; columns in ``ignore`` left out."""
    sql = f"select * from {quote_ident(schema)}.{quote_ident(table)}"
    if postgres:
        with con.cursor() as cur:
            cur.execute(sql)
            names = [d.name for d in cur.description]
            fetched = cur.fetchall()
    else:
        result = con.execute(sql)
        names = [d[0] for d in result.description]
        fetched = result.fetchall()
    keep = [i for i, name in enumerate(names) if name not in ignore]
    names = [names[i] for i in keep]
    normalised = [tuple(_norm(row[i]) for i in keep) for row in fetched]
    normalised.sort(key=lambda row: tuple(_sort_key(v) for v in row))
    return names, normalised


def compare_table(left: tuple[list[str], list[tuple]], right: tuple[list[str], list[tuple]]) -> str | None:
    """None when equal; else what differs first."""
    (lnames, lrows), (rnames, rrows) = left, right
    if lnames != rnames:
        return f"columns differ: {lnames} vs {rnames}"
    if len(lrows) != len(rrows):
        return f"{len(lrows)} rows vs {len(rrows)}"
    for lrow, rrow in zip(lrows, rrows, strict=True):
        if not _equal(lrow, rrow):
            diffs = [f"{n}: {a!r} vs {b!r}" for n, a, b in zip(lnames, lrow, rrow, strict=True) if not _equal(a, b)]
            return "first different row: " + "; ".join(diffs[:5])
    return None
