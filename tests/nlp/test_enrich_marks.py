"""Where a run looks for pending posts (nlp/enrich.py, ``enriched_up_to``): after the mark the last run that ended
left, not every post against every enrichment; a backfill that re-opens posts behind the mark makes the next run
read every post; so does a validation that found a post without an enrichment; and a day after every post was last
read, a run reads them all again."""

from __future__ import annotations

import duckdb
import pytest

from socialcx import stages

POSTS, SEED = 200, 11


def _mark(warehouse) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select posts_up_to, all_read_at from ops.enrich_marks").fetchone()


def test_a_run_reads_from_the_mark_and_every_post_once_a_day(settings_env):
    warehouse = settings_env.warehouse
    stages.extract("sample", settings=settings_env, posts=POSTS, seed=SEED)
    first = stages.enrich(settings=settings_env)
    with duckdb.connect(str(warehouse)) as con:
        newest = con.execute("select max(updated_at) from raw.posts").fetchone()[0]
        enriched = con.execute("select count(*) from enriched.post_nlp").fetchone()[0]
    assert first["pending"] == first["enriched"] == enriched > 0
    up_to, read_all_at = _mark(warehouse)
    assert up_to == newest

    with duckdb.connect(str(warehouse)) as con:
        # an enrichment removed by hand, around the contract (no newer post behind it), and three posts edited as
        # extract's merge edits them (a new text, updated_at moved to the load's time)
        gone = con.execute("delete from enriched.post_nlp where post_id = (select min(post_id) from "
                           "enriched.post_nlp) returning post_id").fetchone()[0]
        edited = [r[0] for r in con.execute("select post_id from raw.posts where post_id <> ? order by post_id "
                                            "limit 3", [gone]).fetchall()]
        con.execute("update raw.posts set text = text || ' (edited)', updated_at = now() "
                    "where list_contains(?, post_id)", [edited])
    second = stages.enrich(settings=settings_env)
    # only what changed since the mark: the three edited posts, not the one whose enrichment went behind it
    assert (second["pending"], second["enriched"]) == (3, 3)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from enriched.post_nlp where post_id = ?", [gone]).fetchone() == (0,)
    assert _mark(warehouse)[1] == read_all_at  # it did not read every post

    # a day after every post was last read, the next run reads them all: the removed enrichment is found
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update ops.enrich_marks set all_read_at = all_read_at - interval 25 hours")
    third = stages.enrich(settings=settings_env)
    assert (third["pending"], third["enriched"]) == (1, 1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from enriched.post_nlp where post_id = ?", [gone]).fetchone() == (1,)
    assert _mark(warehouse)[1] > read_all_at


def test_a_backfill_reprocessing_posts_behind_the_mark_reads_every_post(settings_env):
    warehouse = settings_env.warehouse
    stages.extract("sample", settings=settings_env, posts=POSTS, seed=SEED)
    stages.enrich(settings=settings_env)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        day, on_day = con.execute("select created_at::date, count(*) from raw.posts group by 1 order by 2 desc "
                                  "limit 1").fetchone()
    # the backfill deletes that day's enrichments and removes the marks in the same transaction: their posts, all
    # behind the mark, are pending again and enriched by the same run
    result = stages.enrich(settings=settings_env, reprocess=(str(day), str(day)))
    assert result["reprocessed"] == on_day
    assert result["pending"] == result["enriched"] == on_day
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.posts as p where not exists (select 1 from enriched.post_nlp "
                           "as e where e.post_id = p.post_id and e.source = p.source)").fetchone() == (0,)


def test_a_post_left_unenriched_behind_the_mark_is_found_by_validation_then_enriched(copy_built):
    settings = copy_built
    assert stages.enrich(settings=settings)["pending"] == 0  # the built world: every post enriched, a mark left
    with duckdb.connect(str(settings.warehouse)) as con:
        gone = con.execute("delete from enriched.post_nlp where post_id = (select min(post_id) from "
                           "enriched.post_nlp) returning post_id").fetchone()[0]
    assert stages.enrich(settings=settings)["pending"] == 0  # behind the mark: this run does not see it
    with pytest.raises(stages.ValidationFailed, match="enriched__coverage"):
        stages.validate(settings=settings)
    again = stages.enrich(settings=settings)  # the latest coverage check failed: every post is read
    assert (again["pending"], again["enriched"]) == (1, 1)
    with duckdb.connect(str(settings.warehouse)) as con:  # as the stages opened it (dbt keeps it open)
        assert con.execute("select count(*) from enriched.post_nlp where post_id = ?", [gone]).fetchone() == (1,)
    stages.validate(settings=settings)  # passes again
