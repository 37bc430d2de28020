"""The validate stage: dbt source freshness and the Great Expectations suites; on success, the fingerprint of
the marts that publish may publish."""

from __future__ import annotations

import threading
from contextlib import ExitStack

from socialcx.core.settings import Settings, get_settings
from socialcx.core.warehouse import open_warehouse
from socialcx.stages.freshness import start_source_freshness
from socialcx.stages.runs import ValidationFailed, new_run_id, recorded


def validate(*, run_id: str | None = None, settings: Settings | None = None,
             full: bool | None = None) -> dict[str, object]:
    """Run dbt source freshness and the GX suites. Raises ValidationFailed, naming every failed critical check.

    ``full``: True checks every row; False only the partitions that changed since they passed; None (default)
    every row when no full validation passed within ``SOCIALCX_FULL_VALIDATION_HOURS``, else what changed."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    from socialcx.serving.publish import fingerprint, mark_validated, record_fingerprint, seal_validated

    # The connection that fingerprints the marts stays open until the file's state is marked (`mark_validated`):
    # DuckDB's lock keeps every other process from writing in between, ops.runs' row included (`recorded` writes it
    # through this same database). Publish then reuses the fingerprint while the file stays in that state.
    with ExitStack() as holding:
        with recorded(settings, run_id, "validate") as info:
            freshness_checks = start_source_freshness(settings)
            # Great Expectations takes 5-7 s to import, all of it Python: it imports in a thread while dbt's
            # freshness check runs in the child and this thread fingerprints the marts (DuckDB, which lets go of
            # the GIL)
            importing = threading.Thread(target=_import_great_expectations, name="import-great-expectations",
                                         daemon=True)
            importing.start()

            freshness = freshness_checks()  # the child has let go of the file
            con = holding.enter_context(open_warehouse(settings.warehouse, retries=settings.lock_retries))
            # what publish may publish: exactly these marts, byte for byte (the suites write only to ops, and this
            # connection holds the file: nothing else writes in between)
            days: dict = {}
            marts = fingerprint(con, days)
            importing.join()
            from expectations.checkpoints import private_tempdir, run_validations

            with private_tempdir():
                outcome = run_validations(con, run_id, docs_dir=settings.reports_dir / "data_docs",
                                          extra_checks=freshness, full=full,
                                          full_after_hours=settings.full_validation_hours)
            if outcome.success:
                record_fingerprint(con, run_id, marts, days)
            info.update(outcome.as_dict())
            if not outcome.success:
                names = "; ".join(f"{f['suite']}: {f['expectation']}({f['column']}) observed {f['observed']}"
                                  for f in outcome.failures)
                raise ValidationFailed(f"{len(outcome.failures)} critical check(s) failed, nothing will be "
                                       f"published: {names}")
        marked = seal_validated(con, settings.warehouse, run_id)  # still held: nothing else wrote in between
    # closed: a close that wrote (it should not) or a write since leaves no mark
    if marked is not None:
        mark_validated(settings.warehouse, run_id, expected=marked)
    return {"run_id": run_id, **info}


def _import_great_expectations() -> None:
    """Import GX ahead of the suites. A failure here (an import the main thread holds half-done) is not one: the
    suites import it again, and that import says what is wrong."""
    from expectations.checkpoints import quiet_great_expectations

    quiet_great_expectations()  # before the import, which logs GX's API registry at INFO
    try:
        import great_expectations  # noqa: F401
    except Exception:  # the suites import it again and report it
        pass
