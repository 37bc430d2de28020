"""Enrichment in chunks on SOCIALCX_TARGET=postgres (the DAG maps one task per chunk, so N Celery workers share a
run's posts), against a real PostgreSQL server on loopback: the same annotations as enrichment in one process on
DuckDB, a retried chunk writes nothing twice, and a worker killed mid-chunk leaves the chunk whole to do again."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest

from socialcx import stages
from socialcx.core import postgres
from socialcx.core.settings import Settings
from tests.support import ROOT

pytestmark = pytest.mark.integration
POSTS, SEED, CHUNK = 500, 7, 200
# every column but the time it was written
COLUMNS = ("source, post_id, pipeline_version, text_hash, industry, lang, is_english, text_redacted, pii_kinds, "
           "sentiment_label, sentiment_score, sentiment_confidence, categories, primary_category, intent, "
           "is_churn_threat, is_legal_safety, is_public_shaming, urgency, topics, topics_version")


def _annotations(path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select {COLUMNS} from enriched.post_nlp order by source, post_id").fetchall()


def _pg_rows(pg, sql: str, params: list | None = None) -> list[tuple]:
    with pg.cursor() as cur:
        cur.execute(sql, params or [])
        rows = cur.fetchall()
    pg.rollback()
    return rows


def _chunk_in_a_process(chunk: int, run_id: str, **env: str) -> subprocess.CompletedProcess:
    code = ("import sys; from socialcx import stages; "
            "stages.enrich_chunk(int(sys.argv[1]), run_id=sys.argv[2], model='default')")
    return subprocess.run([sys.executable, "-c", code, str(chunk), run_id], env={**os.environ, **env},
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_chunks_on_postgres_annotate_as_one_process_on_duckdb(settings_env, postgres_target, tmp_path):
    settings = Settings(nlp_chunk_size=CHUNK)
    stages.extract("sample", settings=settings, posts=POSTS, seed=SEED)
    # the reference: the same posts enriched in one process on DuckDB
    reference = tmp_path / "reference" / "socialcx.duckdb"
    reference.parent.mkdir()
    shutil.copy(settings.warehouse, reference)
    stages.enrich(settings=Settings(warehouse=reference, target="duckdb", nlp_processes=1))
    expected = _annotations(reference)
    assert len(expected) > 2 * CHUNK  # three chunks at least

    plan = stages.enrich_plan(run_id="run-1", settings=settings)
    chunks = plan["chunks"]
    assert chunks == list(range(-(-len(expected) // CHUNK)))  # ceil(posts / chunk size) chunks: 0, 1, ...
    pg = postgres.connect(postgres.parse_url(postgres_target))
    queued = _pg_rows(pg, "select chunk, count(*) from ops.enrich_queue group by 1 order by 1")
    assert [n for _, n in queued[:-1]] == [CHUNK] * (len(chunks) - 1) and sum(n for _, n in queued) == len(expected)

    # a worker killed before its chunk commits leaves nothing of it in PostgreSQL, and the chunk still to do
    killed = _chunk_in_a_process(0, "run-1", SOCIALCX_FAILPOINT="enrich:chunk_before_commit")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _pg_rows(pg, "select count(*) from ops.enrich_results") == [(0,)]
    assert _pg_rows(pg, "select count(*) from ops.enrich_queue where done") == [(0,)]

    # two attempts of one chunk at once (Airflow re-queued a task whose worker it presumed lost): one writes it, the
    # other waits for its lock and finds it done
    with ThreadPoolExecutor(2) as pool:
        twice = list(pool.map(lambda _: stages.enrich_chunk(0, run_id="run-1", model=plan["model"],
                                                             settings=settings)["enriched"], range(2)))
    assert sorted(twice) == [0, queued[0][1]]
    done = [stages.enrich_chunk(chunk, run_id="run-1", model=plan["model"], settings=settings) for chunk in chunks]
    assert [d["enriched"] for d in done] == [0] + [n for _, n in queued[1:]]
    # a retried task (Airflow retries a chunk whose worker was lost after it committed) writes nothing again
    assert stages.enrich_chunk(chunks[-1], run_id="run-1", model=plan["model"], settings=settings)["enriched"] == 0
    assert _pg_rows(pg, "select count(*), count(distinct (source, post_id)) from ops.enrich_results") == \
        [(len(expected), len(expected))]

    collected = stages.enrich_collect(run_id="run-1", settings=settings)
    assert (collected["enriched"], collected["not_enriched"], collected["copied"]) == (len(expected), 0,
                                                                                          len(expected))
    assert collected["enriched_here"] == 0  # the chunks covered every pending post
    assert _annotations(settings.warehouse) == expected
    # PostgreSQL holds the same annotations for dbt (copied from the working file), and the queue is empty
    assert sorted(_pg_rows(pg, f"select {COLUMNS} from enriched.post_nlp")) == sorted(
        tuple(list(v) if isinstance(v, list) else v for v in row) for row in expected)
    assert _pg_rows(pg, "select (select count(*) from ops.enrich_queue) + (select count(*) from ops.enrich_results)"
                    ) == [(0,)]
    # nothing is pending now: the next plan has no chunk
    assert stages.enrich_plan(run_id="run-2", settings=settings)["chunks"] == []
    pg.close()
