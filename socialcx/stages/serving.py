"""The serving stages, each a call into ``socialcx.serving``: publish the validated marts, build the report
from what was published, send new alerts, build the documentation site."""

from __future__ import annotations

from contextlib import ExitStack

from socialcx.core.settings import Settings, get_settings
from socialcx.core.warehouse import open_warehouse, scalar
from socialcx.stages.runs import StageError, new_run_id, recorded


def publish(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with recorded(settings, run_id, "publish") as info:
        from socialcx.governance.privacy import complete_requests
        from socialcx.serving.publish import PublishRefused, latest_validation, prune_versions
        from socialcx.serving.publish import publish as publish_marts

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            # every mart into a fresh file after an erasure (a copied file could keep a dropped table's pages)
            # and after a full validation (once a day: the file does not grow by the pages of dropped tables)
            validation_run, _ = latest_validation(con)
            rewrite_all = bool(
                scalar(con, "select count(*) from ops.erasure_requests where status = 'pending'")
                or scalar(con, "select count(*) from ops.full_validations where run_id = ?", [validation_run]))
            try:
                manifest = publish_marts(con, settings.publish_dir, run_id, rewrite_all=rewrite_all,
                                         warehouse=settings.warehouse)
            except PublishRefused as exc:
                raise StageError(str(exc)) from exc
            if settings.target == "postgres":
                # the same validated marts for BI in PostgreSQL: the marts dbt built there, which the working file
                # mirrors (the transform stage) and validation checked
                from socialcx.core import postgres
                from socialcx.serving.publish_postgres import publish_schema

                pg = postgres.connect()
                try:
                    manifest["postgres_published"] = publish_schema(pg, sorted(manifest["tables"]),
                                                                    reader_role=settings.bi_role or None)
                finally:
                    pg.close()
            if complete_requests(con):  # a forget whose re-publish failed is finished by this publish
                manifest["pruned"] = [*manifest.get("pruned", []), *prune_versions(settings.publish_dir, keep=1)]
        info.update(manifest)
    return {"run_id": run_id, **info}


def report(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Build reports/latest/index.html from the published marts (what BI readers see, never the working file)."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with recorded(settings, run_id, "report") as info:
        from socialcx.core.erasure import Register
        from socialcx.serving.report import build_report

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            register = Register.load(con)  # a forgotten person's handle is never shown, even in an older publish
        try:
            info.update(build_report(settings.published_warehouse, settings.reports_dir / "latest", run_id=run_id,
                                     forgotten=register.is_person))
        except FileNotFoundError as exc:
            raise StageError(str(exc)) from exc
    return {"run_id": run_id, **info}


def alert(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Send new alerts (spikes with their drivers, spreading unanswered complaints, urgent or negative posts
    unanswered past SLA) through the configured channels.

    The alerts read the validated marts and run before publish (the DAG, `socialcx run`). They write only to ``ops``
    (deliveries, ops.runs), so when the file was as the last validation left it (`validated_state_holds`), its state is
    marked again once they are done, while the file is still held: publish then still takes validation's fingerprint."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    from socialcx.serving.publish import mark_validated, seal_validated, validated_state_holds

    validation_run = marked = None
    with ExitStack() as holding:
        with recorded(settings, run_id, "alert") as info:
            from socialcx.serving.alerts import send_new

            con = holding.enter_context(open_warehouse(settings.warehouse, retries=settings.lock_retries))
            validation_run = validated_state_holds(con, settings.warehouse)
            info.update(send_new(con, settings, run_id))
        if validation_run is not None:
            marked = seal_validated(con, settings.warehouse, validation_run)
    if marked is not None:  # closed: the mark stays only if the close wrote nothing and nothing wrote since
        mark_validated(settings.warehouse, validation_run, expected=marked)
    return {"run_id": run_id, **info}


def docs(settings: Settings | None = None) -> dict[str, str]:
    """dbt's static docs (lineage, model and KPI definitions) and the index page linking them, the GX Data Docs
    and the report (served by ``socialcx docs``)."""
    from socialcx.serving.docs import write_site
    from socialcx.stages.dbt import dbt_invoke

    settings = settings or get_settings()
    dbt_invoke(["docs", "generate", "--static"], settings)
    return write_site(settings)
