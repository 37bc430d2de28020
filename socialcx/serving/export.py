"""``socialcx export conversations|replies``: one row per conversation (or brand reply) from the published marts,
as CSV or Parquet, filtered by brand and dates.

It reads the published DuckDB file (what BI sees: validated marts only), never the working warehouse. Every filter
is a query parameter and the output path a parameter of COPY: nothing given is pasted into SQL. The file is written
under a temporary name and moved into place, so a reader never sees half of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from socialcx.core.warehouse import open_published

# what each export holds: the mart, the column its date filter reads, its order
EXPORTS = {
    "conversations": ("marts.fct_conversations", "first_inbound_at", "first_inbound_at, conversation_id"),
    "replies": ("marts.fct_replies", "replied_at", "replied_at, reply_key"),
}
FORMATS = ("csv", "parquet")


@dataclass
class Export:
    path: Path
    rows: int

    def as_dict(self) -> dict[str, object]:
        return {"export": str(self.path), "rows": self.rows}


def export(published: Path, what: str, output: Path, *, brands: list[str] | None = None, start: date | None = None,
           end: date | None = None, fmt: str = "csv") -> Export:
    if what not in EXPORTS:
        raise ValueError(f"unknown export {what!r}: choose {' or '.join(EXPORTS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose csv or parquet")
    if start and end and start > end:
        raise ValueError(f"--start {start} is after --end {end}: give the earlier date first")
    if not published.exists():
        raise FileNotFoundError(f"no published marts at {published}: run `socialcx publish` (or `socialcx run`) "
                                "before `socialcx export`")
    table, day_column, order = EXPORTS[what]
    con = open_published(published)  # in UTC: days are UTC days, as the marts' dates are
    try:
        # (table, day_column and order come from EXPORTS above, never from the command line)
        query = (f"select * from {table} where (?::varchar[] is null or list_contains(?::varchar[], brand)) "
                 f"and (?::date is null or {day_column}::date >= ?::date) "
                 f"and (?::date is null or {day_column}::date <= ?::date) order by {order}")
        params = [brands or None, brands or [], start, start, end, end]
        rows = con.execute(f"select count(*) from ({query})", params).fetchone()[0]
        output.parent.mkdir(parents=True, exist_ok=True)
        temporary = output.with_name(f".{output.name}.tmp-{os.getpid()}")
        options = "(format parquet, compression zstd)" if fmt == "parquet" else "(format csv, header)"
        con.execute(f"copy ({query}) to ? {options}", [*params, str(temporary)])
    finally:
        con.close()
    os.replace(temporary, output)
    return Export(output, int(rows))
