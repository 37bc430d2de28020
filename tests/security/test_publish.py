"""Publish publishes exactly what was validated, as one set switched by one pointer, from any folder name."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest

from socialcx.serving.publish import PublishRefused, publish, record_fingerprint

MARTS = """
create schema if not exists marts;
create table marts.mart_service_performance (brand varchar, response_rate double, median_frt_seconds double);
insert into marts.mart_service_performance values ('A', 0.8, 600), ('B', 0.5, 1200);
create table marts.fct_conversations (conversation_id varchar, brand varchar);
insert into marts.fct_conversations values ('c1', 'A'), ('c2', 'B'), ('c3', 'B');
"""


def _validate(con, run_id: str = "v1") -> None:
    """What a passing `socialcx validate` leaves behind: its results and the marts' fingerprint."""
    con.execute("insert into ops.validation_results values (?, now(), 's', 'critical', 'e', null, true, null, 0, 3)",
                [run_id])
    record_fingerprint(con, run_id)


@pytest.fixture
def con(tmp_path):
    from socialcx.core.warehouse import open_warehouse

    with open_warehouse(tmp_path / "w.duckdb") as connection:
        connection.execute(MARTS)
        yield connection


def _published_rate(publish_dir) -> list[tuple]:
    with duckdb.connect(str(publish_dir / "socialcx.duckdb"), read_only=True) as reader:
        return reader.execute("select brand, response_rate from marts.mart_service_performance order by brand").fetchall()


@pytest.mark.parametrize("change", [
    "update marts.mart_service_performance set response_rate = 7.5 where brand = 'A'",  # a manual edit
    "update marts.mart_service_performance set median_frt_seconds = -60",  # a partial run's negative times
    "delete from marts.fct_conversations where conversation_id = 'c3'",  # a later transform --select
    "create table marts.mart_new as select 1 as x",  # a mart nobody validated
])
def test_marts_changed_after_validation_are_not_published(con, tmp_path, change):
    publish_dir = tmp_path / "published"
    _validate(con)
    publish(con, publish_dir, "run1")
    con.execute(change)
    with pytest.raises(PublishRefused, match="the marts changed after validation v1 passed") as error:
        publish(con, publish_dir, "run2")
    assert "socialcx validate" in str(error.value)
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.5)]  # the validated set stays
    _validate(con, "v2")  # validated again: now it may go out
    assert publish(con, publish_dir, "run3")["validation_run_id"] == "v2"


def test_a_failed_or_missing_validation_blocks_publishing(con, tmp_path):
    with pytest.raises(PublishRefused, match="nothing validated yet"):
        publish(con, tmp_path / "p", "r")
    con.execute("insert into ops.validation_results values ('v0', now(), 's', 'critical', 'e', null, true, null, 0, 3)")
    with pytest.raises(PublishRefused, match="recorded no fingerprint"):  # a forged or pre-upgrade record
        publish(con, tmp_path / "p", "r")


def test_a_publish_folder_with_quotes_and_spaces_works(con, tmp_path):
    publish_dir = tmp_path / "it's a \"folder\"; drop table marts.fct_conversations; --"
    _validate(con)
    manifest = publish(con, publish_dir, "run1")
    assert manifest["tables"] == {"fct_conversations": 3, "mart_service_performance": 2}
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.5)]
    assert (publish_dir / "parquet" / "fct_conversations.parquet").exists()
    assert con.execute("select count(*) from marts.fct_conversations").fetchall() == [(3,)]


def test_one_pointer_switches_the_whole_set_and_leftovers_are_cleaned(con, tmp_path):
    publish_dir = tmp_path / "published"
    _validate(con)
    first = publish(con, publish_dir, "run1")
    # a publish killed mid-way (or out of disk) left a half-written version and, in the old layout, temp copies
    (publish_dir / "versions" / "20990101T000000000000Z.tmp-999999").mkdir(parents=True)
    (publish_dir / "versions" / "20990101T000000000000Z.tmp-999999" / "socialcx.duckdb").write_bytes(b"half")
    (publish_dir / "socialcx.duckdb.tmp-999998").write_bytes(b"stale copy")
    con.execute("update marts.mart_service_performance set response_rate = 0.9 where brand = 'A'")
    _validate(con, "v2")
    second = publish(con, publish_dir, "run2")
    assert sorted(second["cleaned"]) == ["20990101T000000000000Z.tmp-999999", "socialcx.duckdb.tmp-999998"]
    assert not list(publish_dir.rglob("*.tmp-*"))
    # the DuckDB file, the Parquet files and the manifest all come from the version `current` points at
    current = os.readlink(publish_dir / "current")
    assert current == f"versions/{second['version']}"
    manifest = json.loads((publish_dir / "manifest.json").read_text())
    assert manifest["version"] == second["version"] and manifest["validation_run_id"] == "v2"
    assert os.path.realpath(publish_dir / "socialcx.duckdb").startswith(os.path.realpath(publish_dir / current))
    assert os.path.realpath(publish_dir / "parquet").startswith(os.path.realpath(publish_dir / current))
    with duckdb.connect() as reader:
        parquet = reader.execute("select response_rate from read_parquet(?) where brand = 'A'",
                                 [str(publish_dir / "parquet" / "mart_service_performance.parquet")]).fetchall()
    assert parquet == [(0.9,)] and _published_rate(publish_dir)[0] == ("A", 0.9)
    # the previous version is kept for readers that opened it a moment ago; older ones are pruned
    assert sorted(p.name for p in (publish_dir / "versions").iterdir()) == sorted([first["version"], second["version"]])
    _validate(con, "v3")
    third = publish(con, publish_dir, "run3")
    assert third["pruned"] == [first["version"]]


def test_a_publish_that_fails_part_way_leaves_the_published_set_as_it_was(con, tmp_path, monkeypatch):
    publish_dir = tmp_path / "published"
    _validate(con)
    publish(con, publish_dir, "run1")
    before = os.readlink(publish_dir / "current")
    con.execute("update marts.mart_service_performance set response_rate = 0.1")
    _validate(con, "v2")
    import socialcx.serving.publish as module

    def out_of_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module.os, "replace", out_of_disk)
    with pytest.raises(OSError):
        publish(con, publish_dir, "run2")
    monkeypatch.undo()
    assert os.readlink(publish_dir / "current") == before
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.5)]
    publish(con, publish_dir, "run3")  # the next publish cleans the leftover and succeeds
    assert not list(publish_dir.rglob("*.tmp-*"))
    assert _published_rate(publish_dir) == [("A", 0.1), ("B", 0.1)]


@pytest.mark.integration
def test_a_bad_row_kept_by_an_incremental_mart_names_the_repair(copy_built):
    """Once, every later run failed on the same dbt test with no hint; now the error says how to repair."""
    from socialcx import stages

    settings = copy_built
    with duckdb.connect(str(settings.warehouse)) as con:  # a bad row the incremental model will keep
        con.execute("insert into marts.fct_conversations select * from marts.fct_conversations limit 1")
    for _ in range(2):  # the same failure run after run, each time with the repair
        with pytest.raises(stages.StageError) as error:
            stages.transform(settings=settings)
        message = str(error.value)
        assert "unique_fct_conversations_conversation_id" in message
        assert "fct_conversations is incremental" in message
        assert "socialcx transform --full-refresh --select fct_conversations" in message and "socialcx backfill" in message
    stages.transform(settings=settings, select="fct_conversations", full_refresh=True)  # the repair works
    stages.transform(settings=settings)
    stages.release_dbt_connections()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) - count(distinct conversation_id) from marts.fct_conversations"
                           ).fetchall() == [(0,)]


def test_a_folder_in_the_layout_before_versioned_sets_is_taken_over(con, tmp_path):
    """Upgrading: real files where the links go (and a temp copy a killed publish left) become one versioned set."""
    publish_dir = tmp_path / "published"
    (publish_dir / "parquet").mkdir(parents=True)
    (publish_dir / "parquet" / "old.parquet").write_bytes(b"old")
    (publish_dir / "parquet" / "fct_conversations.parquet.tmp-999999").write_bytes(b"half")
    (publish_dir / "socialcx.duckdb").write_bytes(b"old file")
    (publish_dir / "manifest.json").write_text("{}")
    _validate(con)
    publish(con, publish_dir, "run1")
    for name in ("socialcx.duckdb", "parquet", "manifest.json"):
        assert os.readlink(publish_dir / name) == f"current/{name}"
    assert sorted(p.name for p in (publish_dir / "parquet").iterdir()) == ["fct_conversations.parquet",
                                                                           "mart_service_performance.parquet"]
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.5)]
    assert not list(publish_dir.rglob("*.tmp-*")) and not list(publish_dir.glob("*.old*"))


def test_only_the_marts_that_changed_are_written_again(con, tmp_path):
    publish_dir = tmp_path / "published"
    _validate(con)
    first = publish(con, publish_dir, "run1")
    assert first["rewritten"] == ["fct_conversations", "mart_service_performance"] and first["carried_over"] == []
    con.execute("delete from marts.fct_conversations where conversation_id = 'c3'")
    con.execute("create table marts.mart_new as select 1 as x")
    _validate(con, "v2")
    second = publish(con, publish_dir, "run2")
    assert second["rewritten"] == ["fct_conversations", "mart_new"]
    assert second["carried_over"] == ["mart_service_performance"]
    assert second["tables"] == {"fct_conversations": 2, "mart_new": 1, "mart_service_performance": 2}
    old, new = (publish_dir / "versions" / v / "parquet" for v in (first["version"], second["version"]))
    # the unchanged mart's Parquet file is the same file (a hard link), the changed one a new file
    assert os.path.samefile(old / "mart_service_performance.parquet", new / "mart_service_performance.parquet")
    assert not os.path.samefile(old / "fct_conversations.parquet", new / "fct_conversations.parquet")
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.5)]
    with duckdb.connect(str(publish_dir / "socialcx.duckdb"), read_only=True) as reader:
        assert reader.execute("select conversation_id from marts.fct_conversations order by 1").fetchall() == [
            ("c1",), ("c2",)]
    # a mart dropped from the warehouse leaves the published file too; a full rewrite writes every mart again
    con.execute("drop table marts.mart_new")
    _validate(con, "v3")
    third = publish(con, publish_dir, "run3", rewrite_all=True)
    assert third["rewritten"] == ["fct_conversations", "mart_service_performance"] and third["carried_over"] == []
    with duckdb.connect(str(publish_dir / "socialcx.duckdb"), read_only=True) as reader:
        assert reader.execute("select table_name from information_schema.tables order by 1").fetchall() == [
            ("fct_conversations",), ("mart_service_performance",)]
    with duckdb.connect() as reader:
        assert reader.execute("select count(*) from read_parquet(?)",
                              [str(publish_dir / "parquet" / "fct_conversations.parquet")]).fetchall() == [(2,)]


def test_a_dropped_mart_leaves_a_carried_over_file(con, tmp_path):
    publish_dir = tmp_path / "published"
    con.execute("create table marts.mart_old as select 1 as x")
    _validate(con)
    publish(con, publish_dir, "run1")
    con.execute("drop table marts.mart_old")
    _validate(con, "v2")
    second = publish(con, publish_dir, "run2")
    assert second["carried_over"] == ["fct_conversations", "mart_service_performance"]
    with duckdb.connect(str(publish_dir / "socialcx.duckdb"), read_only=True) as reader:
        assert reader.execute("select table_name from information_schema.tables order by 1").fetchall() == [
            ("fct_conversations",), ("mart_service_performance",)]
    assert not (publish_dir / "parquet" / "mart_old.parquet").exists()


def _published_rows(publish_dir, table: str) -> list[tuple]:
    with duckdb.connect(str(publish_dir / "socialcx.duckdb"), read_only=True) as reader:
        return sorted(reader.execute(f"select * from marts.{table}").fetchall(), key=repr)


def test_a_mart_where_few_rows_changed_is_patched_in_the_copied_file(con, tmp_path):
    """A 0.1% run changes a few rows of a large mart: the copy of the previous file is patched (rows deleted and
    inserted), not written whole, and ends holding exactly the mart's rows, duplicates and NULLs included."""
    publish_dir = tmp_path / "published"
    con.execute("create table marts.fct_posts as select 'p' || i as post_key, i % 7 as brand_id, "
                "case when i % 10 = 0 then null else i / 4 end as score from range(200) as r(i)")
    con.execute("insert into marts.fct_posts values ('dup', 1, 0.5), ('dup', 1, 0.5), ('dup', 1, 0.5)")
    _validate(con)
    publish(con, publish_dir, "run1")
    # an edit, a deletion, a new row, a NULL that became a value, and one copy fewer of a duplicated row
    con.execute("update marts.fct_posts set score = 99 where post_key = 'p5'")
    con.execute("delete from marts.fct_posts where post_key = 'p7'")
    con.execute("insert into marts.fct_posts values ('p200', 3, 1.5)")
    con.execute("update marts.fct_posts set score = 0 where post_key = 'p10'")
    con.execute("delete from marts.fct_posts where rowid = (select min(rowid) from marts.fct_posts "
                "where post_key = 'dup')")
    _validate(con, "v2")
    second = publish(con, publish_dir, "run2")
    assert "fct_posts" in second["rewritten"]
    # rows written: p5, p200, p10 and the two copies of 'dup' that remain (a changed count rewrites the value)
    assert second["patched_rows"] == {"fct_posts": 5}
    assert _published_rows(publish_dir, "fct_posts") == sorted(con.execute("select * from marts.fct_posts").fetchall(),
                                                                key=repr)
    assert len(_published_rows(publish_dir, "fct_posts")) == 202
    with duckdb.connect() as reader:  # the Parquet file is the mart too
        assert reader.execute("select count(*) from read_parquet(?) where post_key = 'dup'",
                              [str(publish_dir / "parquet" / "fct_posts.parquet")]).fetchall() == [(2,)]

    # most rows changed, or a column's type changed: written whole
    con.execute("update marts.fct_posts set brand_id = brand_id + 1")
    _validate(con, "v3")
    assert "fct_posts" not in publish(con, publish_dir, "run3")["patched_rows"]
    # the declined patch left none of its working tables behind
    assert con.execute("select count(*) from duckdb_tables() where temporary and table_name like 'publish%'"
                       ).fetchall() == [(0,)]
    con.execute("alter table marts.fct_posts alter score type varchar")
    _validate(con, "v4")
    fourth = publish(con, publish_dir, "run4")
    assert "fct_posts" not in fourth["patched_rows"]
    assert _published_rows(publish_dir, "fct_posts") == sorted(con.execute("select * from marts.fct_posts").fetchall(),
                                                                key=repr)


def test_a_patch_compares_only_the_days_whose_rows_changed(con, tmp_path):
    """A mart with a date or timestamp column is fingerprinted per day of it; the next publish compares only the days
    whose fingerprint differs from the current version's, on both sides, and still ends holding exactly the mart.
    A version whose day fingerprints do not add up to what its file holds is not trusted: all rows are compared."""
    publish_dir = tmp_path / "published"
    # 40 posts a day over ten days, and two posts with no time
    con.execute("create table marts.fct_posts as select 'p' || i as post_key, timestamp '2026-10-01 08:00' + "
                "to_hours(24 * (i // 40)) + to_minutes(i % 40) as created_at, i % 3 as brand_id from range(400) as r(i)")
    con.execute("insert into marts.fct_posts values ('n1', null, 1), ('n2', null, 2)")
    _validate(con)
    first = publish(con, publish_dir, "run1")
    assert first["patched_days"] == {}
    # one post edited on Oct 3, one gone on Oct 7, one new on Nov 1, and a post with no time edited
    con.execute("update marts.fct_posts set brand_id = 9 where post_key = 'p85'")
    con.execute("delete from marts.fct_posts where post_key = 'p250'")
    con.execute("insert into marts.fct_posts values ('p400', timestamp '2026-11-01 09:00', 0)")
    con.execute("update marts.fct_posts set brand_id = 7 where post_key = 'n2'")
    _validate(con, "v2")
    second = publish(con, publish_dir, "run2")
    assert second["patched_days"] == {"fct_posts": 4}  # Oct 3, Oct 7, Nov 1 and the day None, of the 12
    assert second["patched_rows"] == {"fct_posts": 3}  # p85, p400, n2 written; p250 deleted
    assert _published_rows(publish_dir, "fct_posts") == sorted(con.execute("select * from marts.fct_posts").fetchall(),
                                                                key=repr)
    days = json.loads((publish_dir / "current" / "days.json").read_text())
    assert days["marts"]["fct_posts"]["column"] == "created_at"
    assert len(days["marts"]["fct_posts"]["days"]) == 12  # Oct 1-10, Nov 1 and None

    def edited_then_published(edit, post_key: str, run: str, written: int) -> None:
        """The days.json of the version whose DuckDB file the publish takes and patches (the one before the current,
        `_recyclable`) edited, one post of Oct 1 changed: every row is compared. ``written``: the rows that differ
        between that version and the mart now."""
        base = _older_version(publish_dir)
        days = json.loads((base / "days.json").read_text())
        edit(days["marts"]["fct_posts"]["days"])
        (base / "days.json").write_text(json.dumps(days))
        con.execute("update marts.fct_posts set brand_id = brand_id + 10 where post_key = ?", [post_key])
        _validate(con, f"v{run}")
        manifest = publish(con, publish_dir, f"run{run}")
        assert manifest["duckdb_from"] == {"how": "recycled", "version": base.name}
        assert manifest["patched_rows"] == {"fct_posts": written} and manifest["patched_days"] == {}
        assert _published_rows(publish_dir, "fct_posts") == sorted(
            con.execute("select * from marts.fct_posts").fetchall(), key=repr)

    def one_more_post(days: list) -> None:
        days[0][1] += 1

    def cut_short(days: list) -> None:
        days[0] = days[0][:2]

    # fingerprints that no longer add up to the current version's file are not trusted, nor a file of another shape
    # run 1's file: p85, p400 and n2 (run 2) and p5 written; then run 2's: p5 (run 3) and p6
    edited_then_published(one_more_post, "p5", "3", written=4)
    edited_then_published(cut_short, "p6", "4", written=2)


def _older_version(publish_dir):
    """The published version before the current one."""
    current = os.path.realpath(publish_dir / "current")
    older = [p for p in (publish_dir / "versions").iterdir() if os.path.realpath(p) != current]
    assert len(older) == 1
    return older[0]


def _rows_of(path, table: str = "fct_conversations") -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as reader:
        return reader.execute(f"select * from marts.{table} order by all").fetchall()


def test_the_older_versions_file_is_taken_and_patched_not_the_current_one_copied(con, tmp_path):
    """Each publish leaves two versions: the current one and the one before, pruned by the next. The next takes the
    older one's DuckDB file and patches it by what changed in the two runs since, instead of copying the current
    file whole (its size, every run); the current version's file, which readers open, is never written."""
    publish_dir = tmp_path / "published"
    con.execute("insert into marts.fct_conversations select 'c' || i, 'C' from range(10, 30) as r(i)")
    _validate(con)
    first = publish(con, publish_dir, "run1")
    assert first["duckdb_from"] == {"how": "new", "version": None} and first["duckdb_since"] == first["version"]
    con.execute("insert into marts.fct_conversations values ('c4', 'A')")
    _validate(con, "v2")
    second = publish(con, publish_dir, "run2")  # no older version yet: the current file is copied
    assert second["duckdb_from"] == {"how": "copied", "version": first["version"]}
    first_file = os.stat(publish_dir / "versions" / first["version"] / "socialcx.duckdb")
    con.execute("delete from marts.fct_conversations where conversation_id = 'c1'")
    con.execute("update marts.mart_service_performance set response_rate = 0.7 where brand = 'B'")
    _validate(con, "v3")
    third = publish(con, publish_dir, "run3")
    assert third["duckdb_from"] == {"how": "recycled", "version": first["version"]}
    assert third["duckdb_since"] == first["version"]
    assert third["pruned"] == [first["version"]]
    # run 1's file itself (the same inode), brought from run 1's marts to run 3's: c4 in and c1 out (patched), B's
    # rate (one row of two: written whole)
    assert os.stat(publish_dir / "socialcx.duckdb").st_ino == first_file.st_ino
    assert third["patched_rows"] == {"fct_conversations": 1}
    mart = con.execute("select * from marts.fct_conversations order by all").fetchall()
    assert len(mart) == 23 and ("c4", "A") in mart and ("c1", "A") not in mart
    assert _rows_of(publish_dir / "socialcx.duckdb") == mart
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.7)]
    # run 2's file, which a reader may still have open, holds run 2's marts
    assert _rows_of(publish_dir / "versions" / second["version"] / "socialcx.duckdb") == sorted([*mart, ("c1", "A")])
    # and the next takes run 2's
    _validate(con, "v4")
    assert publish(con, publish_dir, "run4")["duckdb_from"] == {"how": "recycled", "version": second["version"]}
    assert _rows_of(publish_dir / "socialcx.duckdb") == mart
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.7)]


def test_an_older_file_a_reader_holds_open_or_written_before_a_rewrite_is_not_taken(con, tmp_path):
    """DuckDB locks a file it opens, read-only too: a file a reader still holds is not written; the current one is
    copied, as before. Nor is a file written before the last fresh one (after an erasure or a daily full validation,
    `rewrite_all`): it may hold the pages of what was deleted then."""
    publish_dir = tmp_path / "published"
    _validate(con)
    first = publish(con, publish_dir, "run1")
    publish(con, publish_dir, "run2")
    held = publish_dir / "versions" / first["version"] / "socialcx.duckdb"
    reader = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print(c.execute('select count(*) from marts.fct_conversations').fetchone()[0], flush=True); sys.stdin.read()",
         str(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "3"
        con.execute("delete from marts.fct_conversations where conversation_id = 'c1'")
        _validate(con, "v3")
        third = publish(con, publish_dir, "run3")
    finally:
        reader.communicate("")
    assert third["duckdb_from"]["how"] == "copied" and not list(publish_dir.rglob("*.tmp-*"))
    assert _rows_of(publish_dir / "socialcx.duckdb") == [("c2", "B"), ("c3", "B")]
    # after a fresh file, the older version's is not taken, the next one is
    _validate(con, "v4")
    fresh = publish(con, publish_dir, "run4", rewrite_all=True)
    assert fresh["duckdb_from"]["how"] == "new" and fresh["duckdb_since"] == fresh["version"]
    _validate(con, "v5")
    fifth = publish(con, publish_dir, "run5")
    assert fifth["duckdb_from"] == {"how": "copied", "version": fresh["version"]}
    _validate(con, "v6")
    sixth = publish(con, publish_dir, "run6")
    assert sixth["duckdb_from"] == {"how": "recycled", "version": fresh["version"]}
    assert sixth["duckdb_since"] == fresh["version"]
    assert _rows_of(publish_dir / "socialcx.duckdb") == [("c2", "B"), ("c3", "B")]


def test_publish_takes_the_validated_fingerprint_only_while_the_file_is_as_validation_left_it(tmp_path):
    """`socialcx validate` records the marts' fingerprint, per day too, and the file's state once it closed it;
    publish then uses that fingerprint instead of hashing every mart again. Any write since (a mart edited, with
    its modification time set back), a pending log, or another validation's mark: the marts are fingerprinted
    again and compared, as always."""
    from socialcx.core.warehouse import file_state, open_warehouse
    from socialcx.serving.publish import _days_record, fingerprint, mark_validated

    warehouse, publish_dir = tmp_path / "w.duckdb", tmp_path / "published"
    with open_warehouse(warehouse) as con:
        con.execute(MARTS)
        con.execute("create table marts.fct_posts as select 'p' || i as post_key, timestamp '2026-10-01 08:00' + "
                    "to_hours(i) as created_at from range(60) as r(i)")
        _validate(con)
        con.execute("checkpoint")  # as the validate stage does: what it committed goes into the file
        assert mark_validated(warehouse, "v1") == file_state(warehouse)  # while held: nothing else writes first
        # reading the file's state from this process left DuckDB's lock in place: another process cannot write
        other = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1])",
                                str(warehouse)], capture_output=True, text=True)
        assert other.returncode != 0 and "lock" in other.stderr.lower()
    assert mark_validated(warehouse, "v1", expected=file_state(warehouse))  # closing the file wrote nothing

    def published(run: str) -> dict:
        with open_warehouse(warehouse) as con:
            return publish(con, publish_dir, run, warehouse=warehouse)

    first = published("run1")
    assert first["fingerprinted_by"] == "validation" and first["validation_run_id"] == "v1"
    assert first["tables"] == {"fct_conversations": 3, "fct_posts": 60, "mart_service_performance": 2}
    with open_warehouse(warehouse) as con:  # what it took is what hashing the marts now gives
        days: dict = {}
        assert first["fingerprints"] == {t: list(f) for t, f in fingerprint(con, days).items()}
        assert json.loads((publish_dir / "current" / "days.json").read_text()) == json.loads(
            json.dumps(_days_record(con, days)))
    assert len(json.loads((publish_dir / "current" / "days.json").read_text())["marts"]["fct_posts"]["days"]) == 3
    assert published("run2")["fingerprinted_by"] == "validation"  # opening and reading leave the file as it was

    # a mart edited by hand, its modification time set back: the change time still moved
    before = os.stat(warehouse)
    with open_warehouse(warehouse) as con:
        con.execute("update marts.mart_service_performance set response_rate = 0.99 where brand = 'B'")
    os.utime(warehouse, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(PublishRefused, match="the marts changed after validation v1 passed"):
        published("run3")
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.5)]

    # validated again but the mark is another run's (a validation that failed to write it): hashed again
    with open_warehouse(warehouse) as con:
        _validate(con, "v2")
    assert published("run4")["fingerprinted_by"] == "publish"
    assert _published_rate(publish_dir) == [("A", 0.8), ("B", 0.99)]

    # a commit still in the log: the file alone is not the database, so no state is taken from it
    with open_warehouse(warehouse) as con:
        _validate(con, "v3")
        con.execute("checkpoint")
        marked = mark_validated(warehouse, "v3")
    assert marked is not None
    holder = duckdb.connect(str(warehouse))
    holder.execute("update marts.fct_conversations set brand = 'C' where conversation_id = 'c1'")
    assert file_state(warehouse) is None and mark_validated(warehouse, "v3", expected=marked) is None
    holder.close()
    assert not (tmp_path / "w.duckdb.validated").exists()
    with pytest.raises(PublishRefused, match=r"changed after validation v3 passed \(fct_conversations"):
        published("run5")
