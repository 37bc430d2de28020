"""A corrupted working warehouse fails validation by name, and nothing is published over the last good copy."""

from __future__ import annotations

import duckdb
import pytest

from socialcx import stages

pytestmark = pytest.mark.integration


def _published_conversations(settings):
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        return con.execute("select count(*), sum(first_response_seconds) from marts.fct_conversations").fetchall()[0]


@pytest.mark.parametrize("corruption, check", [
    ("update marts.fct_conversations set first_response_seconds = -60 "
     "where conversation_id = (select min(conversation_id) from marts.fct_conversations where is_responded)",
     "marts__fct_conversations: expect_column_values_to_be_between(first_response_seconds)"),
    ("insert into marts.fct_conversations select * from marts.fct_conversations limit 1",
     "marts__fct_conversations: expect_column_values_to_be_unique(conversation_id)"),
    ("update enriched.post_nlp set sentiment_label = 'furious' where post_id = (select min(post_id) from enriched.post_nlp)",
     "enriched__post_nlp: expect_column_values_to_be_in_set(sentiment_label)"),
    ("update marts.fct_conversations set post_count = post_count + 1 "
     "where conversation_id = (select min(conversation_id) from marts.fct_conversations)",
     "marts__fct_conversations: expect_column_values_to_be_in_set(counts_reconcile)"),
    ("update marts.fct_conversations set is_actionable = null "
     "where conversation_id = (select min(conversation_id) from marts.fct_conversations)",
     "marts__fct_conversations: expect_column_values_to_not_be_null(is_actionable)"),
    ("update marts.fct_conversations set is_resolved = true "
     "where conversation_id = (select min(conversation_id) from marts.fct_conversations where outcome = 'unanswered')",
     "marts__fct_conversations: expect_column_values_to_be_in_set(resolved_is_the_outcome)"),
    ("update marts.mart_service_performance set response_rate = 1.5 "
     "where response_rate is not null and brand = (select min(brand) from marts.mart_service_performance)",
     "marts__mart_service_performance: expect_column_values_to_be_between(response_rate)"),
    ("insert into marts.fct_posts select * from marts.fct_posts limit 3",
     "marts__fct_posts: expect_column_values_to_be_unique(post_key)"),
    ("update raw.extract_state set updated_at = updated_at - interval 3 day",
     "dbt__source_freshness: fresher_than_error_after(sample)"),
    ("delete from marts.fct_posts where post_key = (select min(post_key) from marts.fct_posts)",
     "marts__reconciliation: expect_column_pair_values_to_be_equal(raw_posts,mart_posts)"),
    ("delete from enriched.post_nlp where post_id = (select min(post_id) from enriched.post_nlp)",
     "enriched__coverage: expect_column_values_to_be_between(unenriched_posts)"),
])
def test_corruption_blocks_publish_and_keeps_the_published_marts(copy_built, corruption, check):
    settings = copy_built
    before = _published_conversations(settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute(corruption)
    with pytest.raises(stages.ValidationFailed) as failed:
        stages.validate(settings=settings)
    assert check in str(failed.value)
    with pytest.raises(stages.StageError, match="publishing refused") as refused:
        stages.publish(settings=settings)
    assert check.split(": ")[0] in str(refused.value)
    assert _published_conversations(settings) == before


def test_a_warning_is_recorded_but_does_not_block(copy_built):
    settings = copy_built
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update ops.runs set rows_quarantined = rows_read where stage = 'extract_sample'")
    result = stages.validate(settings=settings)
    assert result["success"] is True
    assert [w["suite"] for w in result["warnings"]] == ["raw__quarantine"]
    with duckdb.connect(str(settings.warehouse)) as con:
        recorded = con.execute("select severity, success from ops.validation_results where run_id = ? "
                               "and suite = 'raw__quarantine'", [result["run_id"]]).fetchall()
    assert recorded == [("warning", False)]
    published = stages.publish(settings=settings)
    assert published["validation_run_id"] == result["run_id"]


def test_results_are_kept_with_data_docs(copy_built):
    settings = copy_built
    result = stages.validate(settings=settings, full=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        suites = {s for (s,) in con.execute("select distinct suite from ops.validation_results where run_id = ?",
                                            [result["run_id"]]).fetchall()}
    assert {"raw__posts", "enriched__post_nlp", "enriched__coverage", "marts__fct_conversations", "marts__fct_posts",
            "marts__mart_service_performance", "marts__reconciliation", "raw__quarantine",
            "dbt__source_freshness"} <= suites
    assert (settings.reports_dir / "data_docs" / "index.html").exists()


def test_a_bi_reader_holding_the_published_file_sees_old_or_new_never_half(copy_built):
    import subprocess
    import sys
    import textwrap

    from socialcx.serving.publish import record_fingerprint

    settings = copy_built
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(settings.published_warehouse)!r}, read_only=True)
        print(con.execute("select count(*) from marts.fct_conversations").fetchall()[0][0], flush=True)
        sys.stdin.readline()
        print(con.execute("select count(*) from marts.fct_conversations").fetchall()[0][0], flush=True)
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    before = int(reader.stdout.readline())
    with duckdb.connect(str(settings.warehouse)) as con:  # a change the next publish carries
        con.execute("delete from marts.fct_conversations where conversation_id = "
                    "(select max(conversation_id) from marts.fct_conversations)")
        con.execute("delete from ops.validation_results")
        con.execute("insert into ops.validation_results values ('ok', now(), 's', 'critical', 'e', null, true, null, 0, 0)")
        record_fingerprint(con, "ok")  # what a passing validation of the changed marts records
    stages.publish(settings=settings)  # the reader keeps its file open meanwhile: nothing blocks
    reader.stdin.write("\n")
    reader.stdin.flush()
    still = int(reader.stdout.readline())
    reader.wait(timeout=30)
    assert still == before  # the open reader keeps the version it opened
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_conversations").fetchall()[0][0] == before - 1


def test_a_fresh_process_checks_freshness_in_a_child_while_it_imports_gx(copy_built):
    """`socialcx validate` on its own (an Airflow task, cron): dbt source freshness runs in a child process."""
    import os
    import subprocess

    from tests.support import VENV_BIN

    settings = copy_built
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update raw.extract_state set updated_at = updated_at - interval 3 day")
    run = subprocess.run([str(VENV_BIN / "socialcx"), "validate"], capture_output=True, text=True, env=os.environ)
    assert run.returncode == 1
    assert "dbt__source_freshness: fresher_than_error_after(sample)" in " ".join(run.stderr.split())
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update raw.extract_state set updated_at = updated_at + interval 3 day")
    run = subprocess.run([str(VENV_BIN / "socialcx"), "-v", "validate"], capture_output=True, text=True,
                         env=os.environ)
    assert run.returncode == 0, run.stderr[-2000:]
    # logged at INFO, what an operator reads (an Airflow task's log): the suites, not GX's import-time registry
    assert "suite raw__quarantine: True" in run.stderr
    assert "Skipping registering function" not in run.stderr and "ephemeral docs site" not in run.stderr


def test_a_run_validates_what_changed_and_catches_a_row_edited_in_place(copy_built):
    """After a passing validation, the next checks no unchanged partition; a row edited in place (no timestamp
    moved) changes its partition's checksum and is checked, and failed, on the very next run."""
    settings = copy_built
    first = stages.validate(settings=settings)  # the copy's retain changed some raw texts: checked now
    again = stages.validate(settings=settings)
    assert again["full"] is False and first["full"] is False  # a full validation passed when the copy was built
    assert again["scope"]["marts__fct_conversations"]["partitions"] == 0
    assert again["scope"]["raw__posts"]["rows"] == 0
    with duckdb.connect(str(settings.warehouse)) as con:
        in_day = con.execute("select count(*) from marts.fct_conversations where first_inbound_at::date = "
                             "(select first_inbound_at::date from marts.fct_conversations where conversation_id = "
                             "(select min(conversation_id) from marts.fct_conversations where is_responded))"
                             ).fetchall()[0][0]
        con.execute("update marts.fct_conversations set first_response_seconds = -1 where conversation_id = "
                    "(select min(conversation_id) from marts.fct_conversations where is_responded)")
    with pytest.raises(stages.ValidationFailed, match="first_response_seconds"):
        stages.validate(settings=settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        element_count = con.execute(
            "select element_count from ops.validation_results where suite = 'marts__fct_conversations' "
            "and column_name = 'first_response_seconds' and not success").fetchall()
    assert element_count == [(in_day,)]  # exactly the edited row's day, nothing else
    # the failure is not forgotten: the next run checks that day again and fails again
    with pytest.raises(stages.ValidationFailed, match="first_response_seconds"):
        stages.validate(settings=settings)


def test_a_duplicate_key_in_another_partition_is_still_caught(copy_built):
    settings = copy_built
    stages.validate(settings=settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("insert into marts.fct_conversations select * replace (first_inbound_at - interval 400 day as "
                    "first_inbound_at) from marts.fct_conversations order by conversation_id limit 1")
    with pytest.raises(stages.ValidationFailed, match=r"expect_column_values_to_be_unique\(conversation_id\)"):
        stages.validate(settings=settings)


def test_every_row_is_validated_once_the_last_full_validation_is_a_day_old(copy_built):
    settings = copy_built
    assert stages.validate(settings=settings)["full"] is False
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update ops.full_validations set validated_at = validated_at - interval 25 hour")
    result = stages.validate(settings=settings)
    assert result["full"] is True
    scope = result["scope"]["marts__fct_conversations"]
    assert scope["rows"] == scope["of_rows"] > 0
    assert stages.validate(settings=settings)["full"] is False  # the full one passed: a day until the next


def test_the_alerts_between_validation_and_publish_keep_the_validated_state(copy_built):
    """Validate marks the file's state; the alerts, after it and before publish, write only to ops and mark it again
    while they hold the file, so publish still takes validation's fingerprint. A mart edited before the alerts ran:
    nothing is carried over, and publish hashes the marts and refuses."""
    settings = copy_built
    stages.validate(settings=settings)
    stages.alert(settings=settings)
    assert stages.publish(settings=settings)["fingerprinted_by"] == "validation"

    stages.validate(settings=settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update marts.fct_conversations set first_response_seconds = first_response_seconds + 1 "
                    "where conversation_id = (select min(conversation_id) from marts.fct_conversations "
                    "where is_responded)")
    stages.alert(settings=settings)
    with pytest.raises(stages.StageError, match=r"the marts changed after validation \S+ passed \(fct_conversations:"):
        stages.publish(settings=settings)
