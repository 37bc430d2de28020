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

from nlp.components import state
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


COLUMNS = ("lang", "is_english", "text_redacted", "pii_kinds", "sentiment_label", "sentiment_score",
           "sentiment_confidence", "categories", "primary_category", "intent", "is_churn_threat", "is_legal_safety",
           "is_public_shaming", "urgency")


def _annotate(nlp, texts: list[str], industry: str, inbound: bool, batch_size: int) -> list[tuple]:
    """Rows of COLUMNS for posts of one industry and direction. Brand posts get no complaint categories."""
    if inbound:
        docs = nlp.pipe(texts, batch_size=batch_size,
                        component_cfg={"socialcx_categories": {"industries": [industry]}})
    else:
        with nlp.select_pipes(disable=[p for p in ("socialcx_categories", "textcat_multilabel") if p in nlp.pipe_names]):
            docs = list(nlp.pipe(texts, batch_size=batch_size))
    rows = []
    for doc in docs:
        x = state(doc)
        cats = categories_for(x["category_hits"], industry) if inbound and x["is_english"] and x["category_hits"] else []
        rows.append((x["lang"], x["is_english"], x["text_redacted"], x["pii_kinds"], x["sentiment_label"],
                     x["sentiment_score"], x["sentiment_confidence"], cats, cats[0] if cats else None, x["intent"],
                     x["is_churn_threat"], x["is_legal_safety"], x["is_public_shaming"], x["urgency"]))
    return rows


_WORKER_NLP = None


def _worker(args: tuple[str, list[str], str, bool, int]) -> list[tuple]:
    global _WORKER_NLP
    model, texts, industry, inbound, batch_size = args
    if _WORKER_NLP is None:
        _WORKER_NLP = load_pipeline(model)[0]
    return _annotate(_WORKER_NLP, texts, industry, inbound, batch_size)


def enrich_frame(nlp, frame: pd.DataFrame, batch_size: int = 2000, processes: int = 1,
                 model: str = "default") -> pd.DataFrame:
    """Annotate a frame with columns text, industry, is_inbound; returns one row per input row, same index.

    With ``processes`` > 1 the posts are split into chunks annotated by worker processes, each loading the
    pipeline once (spaCy's own ``n_process`` pickles every Doc back and is far slower for this pipeline).
    """
    jobs, order = [], []
    for (industry, inbound), group in frame.groupby(["industry", "is_inbound"], sort=False):
        texts = group["text"].tolist()
        step = max(batch_size, -(-len(texts) // max(processes, 1)))
        for start in range(0, len(texts), step):
            jobs.append((model, texts[start:start + step], industry, bool(inbound), batch_size))
            order.append(group.index[start:start + step])
    results: list[list[tuple]] = []
    if processes > 1 and len(jobs) > 1:
        try:
            results = _parallel(jobs, processes)
        except (AssertionError, OSError) as exc:  # e.g. inside a daemonic process: no children allowed
            log.warning("parallel enrichment unavailable (%s); using one process", exc)
    if not results:
        results = [_annotate(nlp, texts, industry, inbound, size) for _, texts, industry, inbound, size in jobs]
    annotated = pd.DataFrame([row for rows in results for row in rows], columns=list(COLUMNS),
                             index=pd.Index([i for index in order for i in index]))
    return annotated.loc[frame.index]


def _parallel(jobs: list[tuple], processes: int) -> list[list[tuple]]:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        return pool.map(_worker, jobs, chunksize=1)


def enrich(con: duckdb.DuckDBPyConnection, *, model: str = "default", chunk_size: int = 50_000,
           batch_size: int = 2000, processes: int = 1,
           progress: Callable[[int, int], None] | None = None) -> EnrichResult:
    con.execute(DDL)
    nlp, version = load_pipeline(model)
    pending = scalar(con, f"select count(*) from ({PENDING})", [version])
    done = 0
    while True:
        frame = con.execute(PENDING + " limit ?", [version, chunk_size]).df()
        if frame.empty:
            break
        annotated = pd.concat([frame[["source", "post_id", "text_hash", "industry"]],
                               enrich_frame(nlp, frame, batch_size, processes, model)], axis=1)
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
