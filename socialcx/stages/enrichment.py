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


def enrich(*, run_id: str | None = None, settings: Settings | None = None,
           progress: Callable[[int, int], None] | None = None,
           reprocess: tuple[str, str] | None = None) -> dict[str, object]:
    """Annotate new or changed posts; ``reprocess=(start, end)`` re-annotates every post of those days too."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with recorded(settings, run_id, "enrich") as info:
        from nlp.enrich import enrich as enrich_posts
        from nlp.registry import model_for_enrichment

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            model = model_for_enrichment(con, settings.nlp_model)
            if reprocess:
                with transaction(con):  # a crash after this only leaves them pending: the next run enriches them
                    info["reprocessed"] = scalar(con, REPROCESS_COUNT, list(reprocess))
                    con.execute(REPROCESS_DELETE, list(reprocess))
            # survey comments too (raw.survey_responses.comment), after the posts, by the same worker processes
            result = enrich_posts(con, model=model, batch_size=settings.nlp_batch_size,
                                  chunk_size=settings.nlp_chunk_size, processes=settings.nlp_processes,
                                  progress=progress, comments=True)
            info.update(result.as_dict())
            from nlp.topics import match_topics

            info["topics_changed"] = match_topics(con)  # brand topics (nlp/topics/): new posts, or all on a change
    return {"run_id": run_id, **info}
