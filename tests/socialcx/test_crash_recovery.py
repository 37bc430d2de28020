"""Reliability: SIGKILL during extract, enrichment and dbt loses nothing; re-runs and concurrent writers change
nothing. Every process here is a real `socialcx run`, killed by the kernel (signal 9) at a named failpoint."""

from __future__ import annotations

import os
import signal
import subprocess

import duckdb
import pytest

from socialcx.core.warehouse import table_checksums
from tests.support import VENV_BIN
from tests.support.columns import BOOKKEEPING_COLUMNS, LOAD_COLUMNS

pytestmark = pytest.mark.integration

SCHEMAS = ("raw", "enriched", "staging", "intermediate", "marts")
# they record that a run happened, not data: the extract cursor's timestamp and the run log
RUN_RECORDS = ("raw.extract_state",)


def _env(tmp_path, **extra):
    env = {**os.environ, "SOCIALCX_WAREHOUSE": str(tmp_path / "wh" / "socialcx.duckdb"),
           "SOCIALCX_PUBLISH_DIR": str(tmp_path / "published"), "SOCIALCX_REPORTS_DIR": str(tmp_path / "reports"),
           "SOCIALCX_NLP_CHUNK_SIZE": "400", "SOCIALCX_LOCK_RETRIES": "60"}
    env.pop("SOCIALCX_FAILPOINT", None)
    env.update(extra)
    return env


def _run(env, *args):
    return subprocess.run([str(VENV_BIN / "socialcx"), "run", "--posts", "1500", "--seed", "11", *args],
                          env=env, capture_output=True, text=True, timeout=600)


def _sums(path, skip=RUN_RECORDS, ignore=BOOKKEEPING_COLUMNS + LOAD_COLUMNS):
    """Checksums of every table and view; by default without the columns saying which run loaded a row."""
    # default configuration: this process may hold the file open already (dbt-duckdb keeps its connection)
    with duckdb.connect(str(path)) as con:
        return table_checksums(con, SCHEMAS, skip, ignore)


@pytest.fixture(scope="module")
def reference(built):
    """The uninterrupted run of the same world (1,500 posts, seed 11): the conftest's `built` warehouse."""
    settings, _ = built
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("checkpoint")
    return _sums(settings.warehouse)


def test_killed_during_extract_enrich_and_dbt_then_rerun_equals_an_uninterrupted_run(tmp_path, reference):
    warehouse = tmp_path / "wh" / "socialcx.duckdb"
    kills = []
    for failpoint in ("extract:before_commit", "enrich:after_chunk", "dbt:fct_posts"):
        killed = _run(_env(tmp_path, SOCIALCX_FAILPOINT=failpoint))
        assert killed.returncode == -signal.SIGKILL, (failpoint, killed.stderr[-2000:])
        kills.append(failpoint)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            tables = {f"{s}.{t}" for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables").fetchall()}
            posts = con.execute("select count(*) from raw.posts").fetchone()[0]
            enriched = (con.execute("select count(*) from enriched.post_nlp").fetchone()[0]
                        if "enriched.post_nlp" in tables else 0)
            marts = {t for t in tables if t.startswith("marts.")}
        if failpoint == "extract:before_commit":
            assert posts == 0  # the killed transaction left nothing half-written
        elif failpoint == "enrich:after_chunk":
            assert posts == reference["raw.posts"][0] and enriched == 400  # one committed chunk of three
        else:
            # dbt died after fct_posts, before the marts built after it
            assert enriched == posts and "marts.fct_posts" in marts and "marts.mart_sentiment" not in marts

    finished = _run(_env(tmp_path))
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert kills == ["extract:before_commit", "enrich:after_chunk", "dbt:fct_posts"]
    recovered = _sums(warehouse)
    assert recovered == reference  # same rows in every table and view: nothing lost, nothing duplicated
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) - count(distinct (source, post_id)) from raw.posts").fetchone()[0] == 0
        tmp_tables = con.execute("select table_name from information_schema.tables "
                                 "where table_name like '%dbt_tmp%' or table_name like '%__dbt_backup%'").fetchall()
        assert tmp_tables == []


def test_the_same_run_twice_leaves_every_table_identical(tmp_path):
    env = _env(tmp_path)
    assert _run(env).returncode == 0
    warehouse = tmp_path / "wh" / "socialcx.duckdb"
    first = _sums(warehouse, skip=(), ignore=())  # every column, load times and run ids included
    assert _run(env).returncode == 0
    second = _sums(warehouse, skip=(), ignore=())
    changed = sorted(name for name in first if first[name] != second[name])
    assert changed == list(RUN_RECORDS)  # only the extract cursor's run timestamp moves
    assert len(first) >= 25  # raw, enriched and every dbt model


def test_two_writers_at_once_neither_collides_nor_duplicates(tmp_path, reference):
    env = _env(tmp_path)
    command = [str(VENV_BIN / "socialcx"), "run", "--posts", "1500", "--seed", "11"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outcomes = [p.communicate(timeout=600) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), [err[-2000:] for _, err in outcomes]
    assert _sums(tmp_path / "wh" / "socialcx.duckdb") == reference


def test_killed_while_dbt_builds_in_postgres_then_rerun_equals_duckdb(tmp_path, built, postgres_target):
    """SOCIALCX_TARGET=postgres: the run is killed while dbt builds in PostgreSQL (after fct_posts); the re-run's
    marts there equal the uninterrupted DuckDB build of the same world, row for row."""
    from socialcx.core import postgres
    from tests.support import parity

    killed = _run(_env(tmp_path, SOCIALCX_FAILPOINT="dbt:fct_posts"))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    pg = postgres.connect(postgres.parse_url(postgres_target))
    built_then = set(parity.table_names(pg, "marts", postgres=True))
    pg.rollback()
    assert "fct_posts" in built_then and "mart_sentiment" not in built_then  # dbt died half-way

    finished = _run(_env(tmp_path))
    assert finished.returncode == 0, finished.stderr[-3000:]
    settings, _ = built
    with duckdb.connect(str(settings.warehouse)) as duck:  # the session's process built it: same configuration
        tables = parity.table_names(duck, "marts", postgres=False)
        assert tables == parity.table_names(pg, "marts", postgres=True) and len(tables) >= 37
        different = {}
        for table in tables:
            # changed_at is when a row's posts were loaded: two runs, two clocks
            difference = parity.compare_table(parity.rows(duck, "marts", table, postgres=False, ignore=("changed_at",)),
                                              parity.rows(pg, "marts", table, postgres=True, ignore=("changed_at",)))
            if difference:
                different[table] = difference
    pg.close()
    assert not different, different


def test_two_sources_extracting_at_once_both_land(tmp_path):
    """The DAG's extracts share no pool (they fetch at the same time): two sources' extracts started together both
    finish, each writing when the other has let go of the file, and every row read is accounted for."""
    from tests.support import ROOT

    env = _env(tmp_path)
    commands = [[str(VENV_BIN / "socialcx"), "extract", "sample", "--posts", "1500", "--seed", "11"],
                [str(VENV_BIN / "socialcx"), "extract", "file", str(ROOT / "tests" / "fixtures" / "file" / "twcs_small.csv")]]
    started = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for c in commands]
    outcomes = [p.communicate(timeout=600) for p in started]
    assert [p.returncode for p in started] == [0, 0], [err[-2000:] for _, err in outcomes]
    with duckdb.connect(str(tmp_path / "wh" / "socialcx.duckdb"), read_only=True) as con:
        runs = con.execute("select stage, status, rows_read, rows_loaded, rows_quarantined from ops.runs "
                           "order by stage").fetchall()
        by_source = dict(con.execute("select source, count(*) from raw.posts group by 1").fetchall())
    assert [(stage, status) for stage, status, *_ in runs] == [("extract_file", "success"),
                                                                ("extract_sample", "success")]
    for _, _, read, loaded, quarantined in runs:
        assert read == loaded + quarantined and loaded > 0
    assert by_source["sample"] > 1000 and by_source["file"] > 0  # both sources landed in raw.posts
