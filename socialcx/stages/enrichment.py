"""The enrich stage: the NLP pipeline over new or changed posts, or over every post of a backfill's days."""

from __future__ import annotations

from collections.abc import Callable

from socialcx.core.settings import Settings, get_settings
from socialcx.core.warehouse import open_warehouse, scalar, transaction
from socialcx.stages.runs import new_run_id, recorded

# posts of a date range whose enrichment a backfill redoes (not those past raw-text retention: their original
# text is gone, their enrichment is what remains of it)
_REPROCESS_POSTS = """
select source, post_id from raw.posts
where created_at::date between ? and ?
  and (source, post_id) not in (select source, post_id from raw.text_expired)
"""
REPROCESS_COUNT = f"select count(*) from enriched.post_nlp where (source, post_id) in ({_REPROCESS_POSTS})"
REPROCESS_DELETE = f"delete from enriched.post_nlp where (source, post_id) in ({_REPROCESS_POSTS})"


def _model_and_reprocess(con, settings: Settings, reprocess: tuple[str, str] | None, info: dict) -> str:
    """The model enrichment uses (the registry's); with ``reprocess``, the enrichments of those days deleted first."""
    from nlp.registry import model_for_enrichment

    model = model_for_enrichment(con, settings.nlp_model)
    if reprocess:
        with transaction(con):  # a crash after this only leaves them pending: the next run enriches them
            info["reprocessed"] = scalar(con, REPROCESS_COUNT, list(reprocess))
            con.execute(REPROCESS_DELETE, list(reprocess))
            con.execute("delete from ops.enrich_marks")  # their posts are pending again, behind any mark
    return model


def enrich(*, run_id: str | None = None, settings: Settings | None = None,
           progress: Callable[[int, int], None] | None = None,
           reprocess: tuple[str, str] | None = None) -> dict[str, object]:
    """Annotate new or changed posts; ``reprocess=(start, end)`` re-annotates every post of those days too."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with recorded(settings, run_id, "enrich") as info:
        from nlp.enrich import enrich as enrich_posts

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            model = _model_and_reprocess(con, settings, reprocess, info)
            # survey comments too (raw.survey_responses.comment), after the posts, by the same worker processes
            result = enrich_posts(con, model=model, batch_size=settings.nlp_batch_size,
                                  chunk_size=settings.nlp_chunk_size, processes=settings.nlp_processes,
                                  progress=progress, comments=True)
            info.update(result.as_dict())
            from nlp.topics import match_topics

            info["topics_changed"] = match_topics(con)  # brand topics (nlp/topics/): new posts, or all on a change
    return {"run_id": run_id, **info}


# SOCIALCX_TARGET=postgres, in Airflow: enrichment as a mapped task over chunks of the pending posts, so that N
# Celery workers annotate in parallel (dags/socialcx_pipeline.py). The working DuckDB file stays the home of raw
# and enriched (extract writes it, validation and publishing read it): the plan copies what changed into
# PostgreSQL, the chunks write their annotations to PostgreSQL's ops.enrich_results, and the collect step brings
# them into the working file, does the survey comments and the brand topics as `enrich` does, and copies what
# changed in enriched into PostgreSQL for dbt.

def enrich_plan(*, run_id: str | None = None, settings: Settings | None = None,
                reprocess: tuple[str, str] | None = None) -> dict[str, object]:
    """Copy raw and enriched into PostgreSQL and queue the pending posts there in chunks of
    SOCIALCX_NLP_CHUNK_SIZE; the chunks to map over, the model they use and its pipeline version."""
    from nlp.enrich import queue_chunks
    from nlp.pipeline import pipeline_version
    from socialcx.core import postgres

    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with recorded(settings, run_id, "enrich_plan") as info:
        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            model = _model_and_reprocess(con, settings, reprocess, info)
            pg = postgres.connect()
            try:
                info["synced_rows"] = sum(postgres.copy_from_duckdb(con, pg).values())
                version = pipeline_version(model)
                chunks = queue_chunks(pg, run_id, version, settings.nlp_chunk_size)
            finally:
                pg.close()
        info.update(model=model, pipeline_version=version, chunks=chunks)
    return {"run_id": run_id, **info}


def enrich_chunk(chunk: int, *, run_id: str, model: str, settings: Settings | None = None) -> dict[str, object]:
    """One chunk of ``enrich_plan``'s queue, annotated into PostgreSQL in one transaction (any worker, no DuckDB)."""
    from nlp.enrich import enrich_chunk as annotate_chunk
    from socialcx.core import postgres

    settings = settings or get_settings()
    pg = postgres.connect()
    try:
        return {"chunk": chunk, "enriched": annotate_chunk(pg, run_id, chunk, model, settings.nlp_batch_size)}
    finally:
        pg.close()


def enrich_collect(*, run_id: str, settings: Settings | None = None,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, object]:
    """After the chunks: their annotations into the working file, then the survey comments and the brand topics
    as `enrich` does them there, and enriched back into PostgreSQL for dbt."""
    from nlp.enrich import collect_chunks
    from nlp.enrich import enrich as enrich_posts
    from nlp.registry import model_for_enrichment
    from nlp.topics import match_topics
    from socialcx.core import postgres

    settings = settings or get_settings()
    with recorded(settings, run_id, "enrich") as info:
        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            model = model_for_enrichment(con, settings.nlp_model)
            pg = postgres.connect()
            try:
                info.update(collect_chunks(pg, con, run_id))
                # what the chunks did not cover (nothing, unless posts arrived since the plan) and the survey
                # comments, here
                rest = enrich_posts(con, model=model,
                                    batch_size=settings.nlp_batch_size, chunk_size=settings.nlp_chunk_size,
                                    processes=1, progress=progress, comments=True)
                info["enriched_here"] = rest.enriched
                info["comments_enriched"] = rest.comments_enriched
                info["topics_changed"] = match_topics(con)
                info["synced_rows"] = sum(postgres.copy_from_duckdb(con, pg, ("enriched",)).values())
            finally:
                pg.close()
    return {"run_id": run_id, **info}
