"""The governance stages: forget a person or a post everywhere (``socialcx.governance.privacy``), and expire
raw text past its retention (``socialcx.governance.text_expiry``)."""

from __future__ import annotations

from socialcx.core.settings import Settings, get_settings
from socialcx.core.warehouse import open_warehouse
from socialcx.stages.dbt import release_dbt_connections
from socialcx.stages.enrichment import enrich
from socialcx.stages.runs import StageError, new_run_id, recorded
from socialcx.stages.serving import publish, report
from socialcx.stages.transformation import transform
from socialcx.stages.validation import validate


def retain(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Raw-text retention: enriched posts older than SOCIALCX_RAW_TEXT_RETENTION_DAYS keep only their redacted
    text (socialcx/governance/text_expiry.py)."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with recorded(settings, run_id, "retain") as info:
        from socialcx.governance.text_expiry import expire_raw_text

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            info.update(expire_raw_text(con, settings.raw_text_retention_days))
    return {"run_id": run_id, **info}


class ForgetIncomplete(StageError):
    """The erasure is done in the working warehouse and registered, but re-publishing it failed."""


def forget(*, author: str | None = None, post: str | None = None, emails: list[str] | None = None,
           run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Erase a person (``author``: id, handle or CRM customer id; ``emails`` matched too) or one post
    (``post``: source:post_id) everywhere, register it so no extract brings it back, then rebuild, validate and
    re-publish (the publish stage completes the pending request and drops every older published version and
    leftover copy), redact dbt's logs and artefacts and the reports, and compact the working file. If
    re-publishing fails, ForgetIncomplete says what is still published and how to finish."""
    from socialcx.governance.privacy import compact, forget_author, forget_post, redact_files, still_published

    settings = settings or get_settings()
    run_id = run_id or new_run_id("forget")
    if bool(author) == bool(post):
        raise StageError("say what to forget: --author ID (a person) or --post SOURCE:POST_ID (one post)")
    with recorded(settings, run_id, "forget") as info:
        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            if author:
                erasure = forget_author(con, author, emails)
            else:
                source, _, post_id = str(post).partition(":")
                if not post_id:
                    raise StageError("--post must be SOURCE:POST_ID, e.g. file:1234")
                erasure = forget_post(con, source, post_id)
        info.update(erasure.as_dict())
    identifiers = erasure.identifiers
    try:
        enrich(run_id=run_id, settings=settings)
        transform(run_id=run_id, settings=settings)
        # what an erasure leaves no trace of for an incremental build to find: an erased order (mart_roi), an erased
        # post of a person whose other posts stay (mart_advocates' counts and reach; fct_survey_responses' account
        # of a handle; fct_escalations' routing of a conversation that keeps other posts)
        rebuilt = "mart_advocates+ fct_survey_responses+ fct_escalations+" + (" mart_roi+" if erasure.orders else "")
        transform(run_id=run_id, settings=settings, select=rebuilt, full_refresh=True)
        validate(run_id=run_id, settings=settings)
        published = publish(run_id=run_id, settings=settings)
        report(run_id=run_id, settings=settings)
    except StageError as exc:
        left = still_published(settings.published_warehouse, settings.publish_dir / "parquet", identifiers)
        where = ("still published: " + "; ".join(f"{k} ({v} row(s))" for k, v in left.items())) if left else (
            "the published files hold none of the identifiers")
        raise ForgetIncomplete(
            f"erasure {erasure.request_id} is done in the working warehouse and registered (no extract will load "
            f"the data again), but re-publishing failed: {exc}. {where}. To finish: fix the failure above, then run "
            "`socialcx run` (or `socialcx transform && socialcx validate && socialcx publish && socialcx report`); "
            "the request stays pending in ops.erasure_requests until a publish succeeds") from None
    info["versions_pruned"] = published.get("pruned", [])
    dbt_dir = settings.dbt_project_dir
    info["files_redacted"] = len(redact_files([dbt_dir / "logs", dbt_dir / "target", settings.reports_dir],
                                              identifiers))
    release_dbt_connections()
    info["compacted"] = compact(settings.warehouse)
    if settings.target == "postgres":  # the erased rows' bytes out of PostgreSQL's table files too
        from socialcx.core import postgres

        pg = postgres.connect()
        try:
            info["postgres_compacted"] = postgres.compact(pg)
        finally:
            pg.close()
    return {"run_id": run_id, **info, "republished": published.get("published_at")}
