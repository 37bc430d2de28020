"""The enrich stage: run the spaCy pipeline over posts not yet enriched by this pipeline version.

Output goes to ``enriched.post_nlp``, keyed by (source, post_id, pipeline_version). A post is picked up
again when its text changes (``text_hash``) or when the pipeline version is bumped. Work is committed in
chunks, so an interrupted run keeps what it finished and the next run does only the rest.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from nlp.annotate import COLUMNS, _annotate, _load_worker, _worker
from nlp.pipeline import load_pipeline, pipeline_version
from nlp.topics import load_topics, topics_for
from socialcx.core import failpoints
from socialcx.core.warehouse import scalar, transaction

log = logging.getLogger(__name__)


PENDING = """
select p.source, p.post_id, p.text, md5(p.text) as text_hash, p.is_inbound,
       coalesce(b.industry, 'generic') as industry, p.brand
from raw.posts_with_brand as p  -- the brand a post belongs to, as the marts attribute it
left join raw.brands as b
    on b.handle = p.brand
left join enriched.post_nlp as e
    on e.source = p.source and e.post_id = p.post_id and e.pipeline_version = {version}
-- pending: never enriched by this version, or its text changed since. A changed text moved updated_at past
-- the enrichment, so the text is hashed only for those rows (hashing every text cost seconds at 1M posts)
where {since}(e.post_id is null
       or case when p.updated_at > e.enriched_at then e.text_hash <> md5(p.text) else false end)
-- past raw-text retention the raw text is the redacted one: its enrichment stands (socialcx/governance/text_expiry.py)
and not exists (select 1 from raw.text_expired as x where x.source = p.source and x.post_id = p.post_id)
order by p.source, p.post_id
"""


@dataclass
class EnrichResult:
    pipeline_version: str
    pending: int
    enriched: int
    comments_enriched: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"pipeline_version": self.pipeline_version, "pending": self.pending, "enriched": self.enriched,
                "comments_enriched": self.comments_enriched}


@dataclass
class WorkerPool:
    pool: Any
    processes: int


def _split(frame: pd.DataFrame, processes: int, batch_size: int) -> tuple[list[tuple], list[pd.Index]]:
    """Jobs of posts of one industry and direction, at most ``processes`` per group, with the rows they cover."""
    jobs, order = [], []
    for (industry, inbound), group in frame.groupby(["industry", "is_inbound"], sort=False):
        texts = group["text"].tolist()
        step = max(batch_size, -(-len(texts) // processes))
        for start in range(0, len(texts), step):
            jobs.append((texts[start:start + step], industry, bool(inbound), batch_size))
            order.append(group.index[start:start + step])
    return jobs, order


def _assemble(frame: pd.DataFrame, results: list[list[tuple]], order: list[pd.Index]) -> pd.DataFrame:
    annotated = pd.DataFrame([row for rows in results for row in rows], columns=list(COLUMNS),
                             index=pd.Index([i for index in order for i in index]))
    return annotated.loc[frame.index]


def enrich_frame(nlp, frame: pd.DataFrame, batch_size: int = 2000, pool: WorkerPool | None = None) -> pd.DataFrame:
    """Annotate a frame with columns text, industry, is_inbound; returns one row per input row, same index.

    With a ``pool`` (see :func:`worker_pool`) the posts are split into chunks annotated by its worker
    processes, each holding its own pipeline (spaCy's ``n_process`` pickles every Doc back and is far slower).
    """
    jobs, order = _split(frame, pool.processes if pool is not None else 1, batch_size)
    if pool is not None and len(jobs) > 1:
        results = list(pool.pool.map(_worker, jobs))
    else:
        results = [_annotate(nlp, *job) for job in jobs]
    return _assemble(frame, results, order)


@contextmanager
def worker_pool(processes: int, model: str, wait: bool = True) -> Iterator[WorkerPool | None]:
    """A pool of ``processes`` workers, or None for one process.

    Workers are *spawned*, not forked: the enrich stage runs inside Airflow and next to DuckDB, whose threads
    may hold locks at the moment of a fork and leave a forked child waiting forever. A spawned worker starts
    clean and loads the pipeline once (a few seconds), so a pool only pays off for large batches. With
    ``wait`` the pool is warmed up before use and, if a worker cannot start, enrichment runs in one process
    instead; without it the workers start in the background (the caller handles a broken pool).
    """
    if processes <= 1:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    executor = None
    try:
        executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_load_worker, initargs=(model, os.getpid()))
        warm_up = [executor.submit(abs, n) for n in range(processes)]
        if wait:
            [future.result(timeout=300) for future in warm_up]
    except Exception as exc:  # a broken pool, or a daemonic process that may not have children
        log.warning("parallel enrichment unavailable (%s); using one process", exc.__class__.__name__)
        if executor is not None:
            executor.shutdown(cancel_futures=True)
        yield None
        return
    try:
        yield WorkerPool(executor, processes)
    finally:
        executor.shutdown()


PARALLEL_FROM = 20_000  # posts pending before worker processes pay for their start-up


def enrich(con: duckdb.DuckDBPyConnection, *, model: str = "default", chunk_size: int = 50_000,
           batch_size: int = 2000, processes: int = 1,
           progress: Callable[[int, int], None] | None = None, comments: bool = False) -> EnrichResult:
    """Posts new or changed since this pipeline version; with ``comments``, survey comments too (below), after the
    posts and by the same worker processes."""
    version = pipeline_version(model)
    since = enriched_up_to(con, version)
    snapshot = scalar(con, "select max(updated_at) from raw.posts")  # this process holds the file: no load between
    # the pending set once, numbered: re-running the anti-join (md5 of every text) per chunk cost a third
    # of the stage at 1M posts
    con.execute(f"create or replace temp table _pending as select *, row_number() over () as n from "
                f"({PENDING.format(version='?', since='' if since is None else 'p.updated_at > ? and ')})",
                [version] + ([] if since is None else [since]))
    pending = scalar(con, "select count(*) from _pending")
    pending_comments = con.execute(PENDING_COMMENTS, [version]).df() if comments else None
    texts = pending + (len(pending_comments) if comments else 0)
    # the workers start (and load the pipeline) while this process reads the first chunk
    with worker_pool(processes if texts >= PARALLEL_FROM else 1, model, wait=False) as pool:
        annotator = _Annotator(model, batch_size, pool)
        done = _enrich_pending(con, version, pending, chunk_size, annotator, progress)
        comments_done = _write_comments(con, version, pending_comments, annotator) if comments else 0
    if snapshot is not None:  # every post loaded up to the snapshot is enriched by this version
        con.execute("insert into ops.enrich_marks values (?, ?, ?) on conflict (pipeline_version) do update set "
                    "posts_up_to = excluded.posts_up_to, "
                    "all_read_at = case when ? then excluded.all_read_at else all_read_at end",
                    [version, snapshot, pd.Timestamp.now(tz="UTC"), since is None])
    return EnrichResult(pipeline_version=version, pending=pending, enriched=done, comments_enriched=comments_done)


# How often a run looks at every post for what is pending, whatever the mark says (below).
FULL_SCAN_HOURS = 24


def enriched_up_to(con: duckdb.DuckDBPyConnection, version: str):
    """Where a run of ``version`` may start looking for pending posts: the newest ``updated_at`` a run that ended
    had seen (``ops.enrich_marks``), or None for every post.

    A run enriches every post pending when it starts (the process holds the file, so nothing loads meanwhile), then
    marks how far the posts went. Every post loaded or changed since has a later ``updated_at``: extract stamps it
    with the load's time, as does every change (a deletion, an erasure's redaction), the same contract the
    incremental dbt models build on (``changed_posts()`` also reads what is newer than its mark). So the next run
    reads only the posts after the mark, not every post against every enrichment (0.5-0.9 s at 5M posts, growing
    with history; 5 ms after the mark). A run that fails leaves the last mark where it was: the next looks again
    from there. What deletes enrichments without a newer post behind them removes the marks (a backfill's
    reprocessing in the same transaction, `socialcx nlp rollback` before its deletes). A post left unenriched
    around that contract (a clock set back, a hand-made insert or delete) is found by the next validation, whose
    critical ``enriched__coverage`` suite counts every post without an enrichment: when the latest one failed, the
    next run reads every post. And a day after a run last read every post (``FULL_SCAN_HOURS``), the next reads
    them all."""
    row = con.execute("select posts_up_to, all_read_at from ops.enrich_marks where pipeline_version = ?",
                      [version]).fetchone()
    if row is None or row[1] < pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=FULL_SCAN_HOURS):
        return None
    coverage = con.execute("select success from ops.validation_results where suite = 'enriched__coverage' "
                           "order by validated_at desc limit 1").fetchone()
    return None if coverage is not None and not coverage[0] else row[0]


class _Annotator:
    """Annotates chunks in worker processes (submitted at once, collected later, so that this process reads
    and writes the warehouse while the workers annotate), or in this process."""

    def __init__(self, model: str, batch_size: int, pool: WorkerPool | None) -> None:
        self.model, self.batch_size, self.pool, self.nlp = model, batch_size, pool, None

    def submit(self, frame: pd.DataFrame) -> Callable[[], pd.DataFrame]:
        if self.pool is not None:
            from concurrent.futures.process import BrokenProcessPool

            jobs, order = _split(frame, self.pool.processes, self.batch_size)
            try:
                futures = [self.pool.pool.submit(_worker, job) for job in jobs]
            except BrokenProcessPool as exc:
                self._fall_back(exc)
            else:
                def collect() -> pd.DataFrame:
                    try:
                        return _assemble(frame, [future.result() for future in futures], order)
                    except BrokenProcessPool as exc:  # a worker could not start or died: finish in this process
                        self._fall_back(exc)
                        return self.submit(frame)()
                return collect
        if self.nlp is None:
            self.nlp = load_pipeline(self.model)[0]
        annotated = enrich_frame(self.nlp, frame, self.batch_size)
        return lambda: annotated

    def _fall_back(self, exc: BaseException) -> None:
        log.warning("parallel enrichment unavailable (%s); using one process", exc.__class__.__name__)
        self.pool = None


def _post_rows(frame: pd.DataFrame, annotations: pd.DataFrame, version: str, by_brand, topics_version: str
               ) -> pd.DataFrame:
    """enriched.post_nlp's rows for pending posts (``PENDING``'s columns) and their annotations: the brand topics
    are matched here, as the rows are written."""
    annotated = pd.concat([frame[["source", "post_id", "text_hash", "industry"]], annotations], axis=1)
    annotated["pipeline_version"] = version
    annotated["topics"] = pd.Series([topics_for(text, brand, by_brand) for text, brand
                                     in zip(frame["text"], frame["brand"], strict=True)], dtype=object,
                                    index=frame.index)
    annotated["topics_version"] = topics_version
    annotated["enriched_at"] = pd.Timestamp.now(tz="UTC")
    return annotated


def _enrich_pending(con, version: str, pending: int, chunk_size: int, annotator: _Annotator,
                    progress: Callable[[int, int], None] | None) -> int:
    # brand topics are matched here, in this process while the workers annotate, and written with the rest: an
    # UPDATE of the list column afterwards (nlp/topics.py::match_topics) cost 16 s per 100k posts
    by_brand, topics_version = load_topics()
    read = done = 0
    in_flight: list[tuple[pd.DataFrame, Callable[[], pd.DataFrame]]] = []
    while done < pending:
        # keep the workers two chunks ahead: while they annotate, this process reads and writes
        while read < pending and len(in_flight) < 2:
            frame = con.execute("select * exclude (n) from _pending where n > ? and n <= ? order by n",
                                [read, read + chunk_size]).df()
            in_flight.append((frame, annotator.submit(frame)))
            read += len(frame)
        frame, collect = in_flight.pop(0)
        annotated = _post_rows(frame, collect(), version, by_brand, topics_version)
        con.register("_nlp_in", annotated)
        try:
            with transaction(con):
                con.execute("insert or replace into enriched.post_nlp by name select * from _nlp_in")
        finally:
            con.unregister("_nlp_in")
        done += len(frame)
        failpoints.hit("enrich:after_chunk")
        log.info("enriched %d/%d posts", done, pending)
        if progress:
            progress(done, pending)
    con.execute("drop table if exists _pending")
    return done


# Survey comments (raw.survey_responses.comment) get the same annotation as a customer's post to the brand: PII
# redacted, sentiment, the brand's industry categories. One row per answer and pipeline version.
PENDING_COMMENTS = """
select r.source, r.response_id, r.comment as text, md5(r.comment) as text_hash, true as is_inbound,
       coalesce(any_value(b.industry), 'generic') as industry
from raw.survey_responses as r
left join raw.brands as b
    on lower(b.handle) = lower(r.brand)
left join enriched.survey_nlp as e
    on e.source = r.source and e.response_id = r.response_id and e.pipeline_version = ?
where r.comment is not null and trim(r.comment) <> '' and (e.response_id is null or e.text_hash <> md5(r.comment))
group by all
order by r.source, r.response_id
"""


def _write_comments(con: duckdb.DuckDBPyConnection, version: str, frame: pd.DataFrame, annotator: _Annotator) -> int:
    """Annotate the pending survey comments (``PENDING_COMMENTS``) into ``enriched.survey_nlp``; how many."""
    if frame.empty:
        return 0
    annotated = pd.concat([frame[["source", "response_id", "text_hash"]], annotator.submit(frame)()], axis=1)
    annotated = annotated.rename(columns={"text_redacted": "comment_redacted"})[
        ["source", "response_id", "text_hash", "lang", "comment_redacted", "sentiment_label", "sentiment_score",
         "categories", "primary_category"]]
    annotated["pipeline_version"] = version
    annotated["enriched_at"] = pd.Timestamp.now(tz="UTC")
    con.register("_survey_nlp_in", annotated)
    try:
        with transaction(con):
            con.execute("insert or replace into enriched.survey_nlp by name select * from _survey_nlp_in")
    finally:
        con.unregister("_survey_nlp_in")
    return len(annotated)


# On PostgreSQL (SOCIALCX_TARGET=postgres) the pending posts are cut into numbered chunks in a queue that every
# worker reads: each chunk is one Airflow mapped task, on whichever Celery worker takes it, written in one
# transaction. The queue holds what PENDING read (text, brand, industry), so a chunk reads only its own rows. The
# chunks write ops.enrich_results, not enriched.post_nlp: enriched in PostgreSQL is only ever a copy of the working
# file's, which the copy keeps up to date by what changed (socialcx/core/postgres.py: copy_from_duckdb).
QUEUE_DDL = """
create schema if not exists ops;
create table if not exists ops.enrich_queue (
    run_id      text not null,
    chunk       integer not null,
    n           bigint not null,
    source      text not null,
    post_id     text not null,
    text        text not null,
    text_hash   text not null,
    is_inbound  boolean,
    industry    text not null,
    brand       text,
    done        boolean not null default false
)
"""


def queue_chunks(pg, run_id: str, version: str, chunk_size: int) -> list[int]:
    """PostgreSQL: number the posts pending for ``version`` into chunks of ``chunk_size`` under ``run_id`` (a queue
    and results left by an earlier, failed run are dropped: its posts are pending again). Commits; the chunk
    numbers."""
    with pg.cursor() as cur:
        cur.execute(QUEUE_DDL)
        cur.execute("drop table if exists ops.enrich_results")
        cur.execute("create table ops.enrich_results (like enriched.post_nlp)")
        cur.execute("truncate ops.enrich_queue")
        cur.execute("insert into ops.enrich_queue (run_id, chunk, n, source, post_id, text, text_hash, is_inbound, "
                    "industry, brand) "
                    "select %s, (n - 1) / %s, n, source, post_id, text, text_hash, is_inbound, industry, brand "
                    f"from (select *, row_number() over (order by source, post_id) as n "
                    f"from ({PENDING.format(version='%s', since='')}) as pending) as numbered",
                    [run_id, chunk_size, version])
        cur.execute("select distinct chunk from ops.enrich_queue where run_id = %s order by 1", [run_id])
        chunks = [chunk for (chunk,) in cur.fetchall()]
    pg.commit()
    return chunks


def enrich_chunk(pg, run_id: str, chunk: int, model: str = "default", batch_size: int = 2000) -> int:
    """PostgreSQL: annotate one chunk of the queue into ops.enrich_results (enriched.post_nlp's columns), in one
    transaction that also marks the chunk done. A chunk already done (a retried task) is left alone. The posts
    written."""
    from socialcx.core.postgres import write_frame

    version = pipeline_version(model)
    with pg.cursor() as cur:
        cur.execute("select source, post_id, text, text_hash, is_inbound, industry, brand from ops.enrich_queue "
                    # locked: a second attempt of the same chunk (a worker presumed lost) waits, then finds it done
                    "where run_id = %s and chunk = %s and not done order by n for update", [run_id, chunk])
        frame = pd.DataFrame(cur.fetchall(), columns=["source", "post_id", "text", "text_hash", "is_inbound",
                                                      "industry", "brand"])
    if frame.empty:
        pg.rollback()
        return 0
    by_brand, topics_version = load_topics()
    nlp = load_pipeline(model)[0]
    rows = _post_rows(frame, enrich_frame(nlp, frame, batch_size), version, by_brand, topics_version)
    written = write_frame(pg, "ops.enrich_results", rows, ["source", "post_id", "pipeline_version"])
    with pg.cursor() as cur:
        cur.execute("update ops.enrich_queue set done = true where run_id = %s and chunk = %s", [run_id, chunk])
    failpoints.hit("enrich:chunk_before_commit")
    pg.commit()
    log.info("enriched chunk %d: %d posts", chunk, written)
    return written


def collect_chunks(pg, con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """PostgreSQL to the working DuckDB file: the annotations the chunks of ``run_id`` wrote, into
    enriched.post_nlp in one DuckDB transaction; then the run's queue and results are emptied. Chunks not done (a
    task that failed) stay pending: the next run queues them again."""
    from socialcx.core.postgres import copy_rows_to_duckdb

    with pg.cursor() as cur:
        cur.execute("select count(*) filter (where done), count(*) filter (where not done) from ops.enrich_queue "
                    "where run_id = %s", [run_id])
        done, left = cur.fetchone()
    with transaction(con):
        copied = copy_rows_to_duckdb(pg, con, "ops.enrich_results", "enriched.post_nlp")
    with pg.cursor() as cur:
        cur.execute("delete from ops.enrich_queue where run_id = %s", [run_id])
        cur.execute("truncate ops.enrich_results")
    pg.commit()
    return {"enriched": int(done), "not_enriched": int(left), "copied": copied}
