"""The validate stage: dbt source freshness and the Great Expectations suites; on success, the fingerprint of
the marts that publish may publish."""

from __future__ import annotations

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
    with recorded(settings, run_id, "validate") as info:
        freshness_checks = start_source_freshness(settings)
        import great_expectations  # noqa: F401  (imported while dbt runs in the child)

        from expectations.checkpoints import private_tempdir, run_validations
        from socialcx.serving.publish import record_fingerprint

        freshness = freshness_checks()
        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con, private_tempdir():
            outcome = run_validations(con, run_id, docs_dir=settings.reports_dir / "data_docs",
                                      extra_checks=freshness, full=full,
                                      full_after_hours=settings.full_validation_hours)
            if outcome.success:  # what publish may publish: exactly these marts, byte for byte
                record_fingerprint(con, run_id)
        info.update(outcome.as_dict())
        if not outcome.success:
            names = "; ".join(f"{f['suite']}: {f['expectation']}({f['column']}) observed {f['observed']}"
                              for f in outcome.failures)
            raise ValidationFailed(f"{len(outcome.failures)} critical check(s) failed, nothing will be published: {names}")
    return {"run_id": run_id, **info}
