"""The enrich stage: run the spaCy pipeline over posts not yet enriched by this pipeline version.

Output goes to ``enriched.post_nlp``, keyed by (source, post_id, pipeline_version). A post is picked up
again when its text changes (``text_hash``) or when the pipeline version is bumped. Work is committed in
chunks, so an interrupted run keeps what it finished and the next run does only the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pandas as pd

from nlp.pipeline import load_pipeline
from socialcx.warehouse import scalar

log = logging.getLogger(__name__)

DDL = """
create table if not exists enriched.post_nlp (
    source               varchar not null,
    post_id              varchar not null,
    pipeline_version     varchar not null,
    text_hash            varchar not null,
    industry             varchar not null,
    lang                 varchar,
    is_english           boolean not null,
    text_redacted        varchar not null,
    pii_kinds            varchar[],
    sentiment_label      varchar,
    sentiment_score      double,
    sentiment_confidence double,
    categories           varchar[],
    primary_category     varchar,
    intent               varchar,
    is_churn_threat      boolean not null,
    is_legal_safety      boolean not null,
    is_public_shaming    boolean not null,
    urgency              varchar not null,
    enriched_at          timestamptz not null,
    primary key (source, post_id, pipeline_version)
)
"""

PENDING = """
select p.source, p.post_id, p.text, md5(p.text) as text_hash, p.is_inbound,
       coalesce(b.industry, 'generic') as industry
from raw.posts as p
left join raw.brands as b
    on b.handle = case when p.is_inbound then p.brands_mentioned[1] else p.author_id end
where not exists (
    select 1 from enriched.post_nlp as e
    where e.source = p.source and e.post_id = p.post_id
      and e.pipeline_version = ? and e.text_hash = md5(p.text)
)
order by p.source, p.post_id
"""


@dataclass
class EnrichResult:
    pipeline_version: str
    pending: int
    enriched: int

    def as_dict(self) -> dict[str, object]:
        return {"pipeline_version": self.pipeline_version, "pending": self.pending, "enriched": self.enriched}


def categories_for(hits: dict[str, list[str]], industry: str) -> list[str]:
    """Categories from the industry's own taxonomy, or from the generic one when it has none."""
    return hits[industry] if industry in hits else hits.get("generic", [])


def enrich_frame(nlp, frame: pd.DataFrame, batch_size: int = 2000) -> pd.DataFrame:
    """Annotate a frame with columns text, industry, is_inbound; returns one row per input row."""
    out: dict[str, list] = {k: [] for k in (
        "lang", "is_english", "text_redacted", "pii_kinds", "sentiment_label", "sentiment_score",
        "sentiment_confidence", "categories", "primary_category", "intent", "is_churn_threat", "is_legal_safety",
        "is_public_shaming", "urgency")}
    contexts = zip(frame["industry"].tolist(), frame["is_inbound"].tolist(), strict=True)
    for doc, (industry, inbound) in nlp.pipe(zip(frame["text"].tolist(), contexts, strict=True), batch_size=batch_size,
                                             as_tuples=True):
        x = doc._
        cats = categories_for(x.category_hits, industry) if inbound and x.is_english else []
        out["lang"].append(x.lang)
        out["is_english"].append(x.is_english)
        out["text_redacted"].append(x.text_redacted)
        out["pii_kinds"].append(x.pii_kinds)
        out["sentiment_label"].append(x.sentiment_label)
        out["sentiment_score"].append(x.sentiment_score)
        out["sentiment_confidence"].append(x.sentiment_confidence)
        out["categories"].append(cats)
        out["primary_category"].append(cats[0] if cats else None)
        out["intent"].append(x.intent)
        out["is_churn_threat"].append(x.is_churn_threat)
        out["is_legal_safety"].append(x.is_legal_safety)
        out["is_public_shaming"].append(x.is_public_shaming)
        out["urgency"].append(x.urgency)
    return pd.DataFrame(out, index=frame.index)


def enrich(con: duckdb.DuckDBPyConnection, *, model: str = "default", chunk_size: int = 20_000,
           batch_size: int = 2000, progress: Callable[[int, int], None] | None = None) -> EnrichResult:
    con.execute(DDL)
    nlp, version = load_pipeline(model)
    pending = scalar(con, f"select count(*) from ({PENDING})", [version])
    done = 0
    while True:
        frame = con.execute(PENDING + " limit ?", [version, chunk_size]).df()
        if frame.empty:
            break
        annotated = pd.concat([frame[["source", "post_id", "text_hash", "industry"]],
                               enrich_frame(nlp, frame, batch_size)], axis=1)
        annotated["pipeline_version"] = version
        annotated["enriched_at"] = pd.Timestamp.now(tz="UTC")
        con.register("_nlp_in", annotated)
        try:
            con.execute("begin transaction")
            con.execute("""
                insert or replace into enriched.post_nlp by name
                select * from _nlp_in
            """)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.unregister("_nlp_in")
        done += len(frame)
        log.info("enriched %d/%d posts", done, pending)
        if progress:
            progress(done, pending)
    return EnrichResult(pipeline_version=version, pending=pending, enriched=done)
