"""Backfill re-processes a date range; raw text past retention is replaced by the redacted text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from socialcx import stages
from socialcx.core.settings import get_settings
from socialcx.governance.text_expiry import expire_raw_text

pytestmark = pytest.mark.integration

# what the KPIs are made of; changed_at is bookkeeping (a backfill re-enriches, so it moves)
SNAPSHOT = "select * exclude (changed_at) from marts.fct_conversations order by conversation_id"


def _sla(settings, brand):
    with duckdb.connect(str(settings.warehouse)) as con:
        return dict(con.execute("select first_inbound_date, max(sla_target_minutes) from marts.fct_conversations "
                                "where brand = ? group by 1", [brand]).fetchall())


def test_backfill_rebuilds_its_range_and_nothing_else(copy_built):
    settings = copy_built
    with duckdb.connect(str(settings.warehouse)) as con:
        # as if everything had been loaded and enriched a month ago, so the lookback holds only the newest posts
        con.execute("update raw.posts set updated_at = updated_at - interval 30 days")
        con.execute("update enriched.post_nlp set enriched_at = enriched_at - interval 30 days")
    stages.dbt_invoke(["build", "--full-refresh", "--select", "fct_posts", "fct_conversations"], settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        brand, sla = con.execute("select handle, sla_minutes from raw.brands order by handle limit 1").fetchone()
        # the brand's SLA changes; no post changes, so an ordinary incremental run leaves settled months alone
        con.execute("update raw.brands set sla_minutes = ? where handle = ?", [sla * 3, brand])
    before = _sla(settings, brand)
    days = sorted(before)
    start, end = days[len(days) // 3], days[len(days) // 3 + 20]  # three weeks, months before the lookback
    stages.transform(settings=settings)
    settled = {d for d in before if d < days[-1] - timedelta(days=8)}  # older than the 7-day lookback
    assert {d: m for d, m in _sla(settings, brand).items() if d in settled} == {d: before[d] for d in settled}

    stages.backfill(start.isoformat(), end.isoformat(), settings=settings)
    after = _sla(settings, brand)
    assert {d: m for d, m in after.items() if start <= d <= end} == {
        d: sla * 3 for d in before if start <= d <= end}
    assert {d: m for d, m in after.items() if d in settled and not start <= d <= end} == {
        d: before[d] for d in settled if not start <= d <= end}
    # the KPI mart follows: within-SLA % of the range is computed against the new target
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        published = con.execute("select max(sla_target_minutes) from marts.fct_conversations where brand = ? "
                                "and first_inbound_date between ? and ?", [brand, start, end]).fetchone()[0]
    assert published == sla * 3

    # the same backfill again changes no figure
    with duckdb.connect(str(settings.warehouse)) as con:
        first = con.execute(SNAPSHOT).fetchall()
    stages.backfill(start.isoformat(), end.isoformat(), settings=settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        assert con.execute(SNAPSHOT).fetchall() == first


def test_backfill_reenriches_the_posts_of_its_range(copy_built):
    settings = copy_built
    with duckdb.connect(str(settings.warehouse)) as con:
        day = con.execute("select created_at::date from raw.posts order by created_at limit 1 offset 100").fetchone()[0]
        in_range = con.execute("select count(*) from raw.posts where created_at::date = ?", [day]).fetchone()[0]
    (enrich,) = [r for r in stages.backfill(day.isoformat(), day.isoformat(), settings=settings)
                 if r["stage"] == "enrich"]
    assert enrich["reprocessed"] == enrich["enriched"] == in_range > 0


def test_backfill_with_bad_dates_names_the_fix(settings_env):
    with pytest.raises(stages.StageError, match="YYYY-MM-DD"):
        stages.backfill("01/10/2026", "2026-10-31", settings=settings_env)
    with pytest.raises(stages.StageError, match="after --end"):
        stages.backfill("2026-10-31", "2026-10-01", settings=settings_env)


def test_raw_text_past_retention_is_replaced_by_the_redacted_text(copy_built):
    settings = copy_built
    with duckdb.connect(str(settings.warehouse)) as con:
        newest = con.execute("select max(created_at) from raw.posts").fetchone()[0]
        now = newest + timedelta(days=30)
        old = con.execute("select count(*) from raw.posts where created_at < ?", [now - timedelta(days=60)]).fetchone()[0]
        with_pii = con.execute("""select p.source, p.post_id, p.text, e.text_redacted from raw.posts p
            join enriched.post_nlp e using (source, post_id)
            where p.created_at < ? and p.text <> e.text_redacted limit 1""", [now - timedelta(days=60)]).fetchone()
        assert with_pii, "the sample world has old posts with PII"
        marts_before = con.execute("select * exclude (changed_at) from marts.fct_posts order by post_key").fetchall()

        result = expire_raw_text(con, 60, now=now.astimezone(UTC))
        assert result["expired"] == old > 0
        source, post_id, original, redacted = with_pii
        assert con.execute("select text from raw.posts where source = ? and post_id = ?",
                           [source, post_id]).fetchone()[0] == redacted != original
        assert con.execute("select count(*) from raw.posts where created_at >= ? and (source, post_id) in "
                           "(select source, post_id from raw.text_expired)", [now - timedelta(days=60)]).fetchone()[0] == 0
        assert expire_raw_text(con, 60, now=now)["expired"] == 0  # done once
    # nothing is re-enriched from the redacted text, a backfill leaves them be, and the marts are unchanged
    (enrich,) = [r for r in stages.backfill("2020-01-01", datetime.now(UTC).date().isoformat(), settings=settings)
                 if r["stage"] == "enrich"]
    assert enrich["reprocessed"] == enrich["enriched"] == len(marts_before) - old
    with duckdb.connect(str(settings.warehouse)) as con:
        assert con.execute("select * exclude (changed_at) from marts.fct_posts order by post_key").fetchall() == (
            marts_before)


def test_retention_is_a_stage_of_every_run(copy_built, monkeypatch):
    monkeypatch.setenv("SOCIALCX_RAW_TEXT_RETENTION_DAYS", "1")
    (retained,) = [r for r in stages.backfill("2026-10-01", "2026-10-01", settings=get_settings())
                   if r["stage"] == "retain"]
    with duckdb.connect(str(copy_built.warehouse)) as con:
        total = con.execute("select count(*) from raw.posts").fetchone()[0]
        assert con.execute("select count(*) from raw.text_expired").fetchone()[0] == retained["expired"] == total
