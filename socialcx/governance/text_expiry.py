"""Raw-text retention: after ``SOCIALCX_RAW_TEXT_RETENTION_DAYS`` days a post's original text (which may hold
names, e-mail addresses, phone numbers) is replaced in ``raw.posts`` by its redacted text from enrichment.

Only posts that have been enriched lose their raw text, so nothing the marts use is lost: they read the
redacted text and the NLP results, which stay. ``raw.text_expired`` lists the posts whose text was dropped,
so enrichment never re-reads the redacted text as if it were new (a backfill does not re-enrich them either).
The limit is on the posts' own dates against the wall clock; 0 keeps raw text forever.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from socialcx.core.warehouse import scalar, transaction

# The posts not expired yet are found first, by key: joined first, every old post's text was hashed (md5) to match
# its enrichment before the expired ones were dropped, 2.6-3.3 s a run at 5M posts against 1.6 s (session 23)
EXPIRE = """
create or replace temp table _expiring as
with not_expired as (
    select p.source, p.post_id, p.text
    from raw.posts as p
    where p.created_at < ?
      and not exists (select 1 from raw.text_expired as x where x.source = p.source and x.post_id = p.post_id)
)
select p.source, p.post_id, e.text_redacted
from not_expired as p
inner join enriched.post_nlp as e
    on e.source = p.source and e.post_id = p.post_id and e.text_hash = md5(p.text)
where e.text_redacted is not null and e.text_redacted <> ''
qualify row_number() over (partition by p.source, p.post_id order by e.enriched_at desc) = 1
"""


def expire_raw_text(con: duckdb.DuckDBPyConnection, days: int, now: datetime | None = None) -> dict[str, object]:
    """Replace the raw text of enriched posts older than ``days`` by their redacted text, in one transaction."""
    if days <= 0:
        return {"retention_days": days, "expired": 0}
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    con.execute(EXPIRE, [cutoff])
    expired = scalar(con, "select count(*) from _expiring")
    if expired:
        with transaction(con):
            con.execute("update raw.posts as p set text = x.text_redacted from _expiring as x "
                        "where p.source = x.source and p.post_id = x.post_id")
            con.execute("insert into raw.text_expired select source, post_id, ? from _expiring", [datetime.now(UTC)])
    con.execute("drop table _expiring")
    return {"retention_days": days, "cutoff": cutoff.isoformat(), "expired": expired}
