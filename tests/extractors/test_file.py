from __future__ import annotations

import json
import shutil

import pytest

from extractors.file.extract import FileSourceError, Mapping, extract_files
from extractors.sample.generator import generate
from extractors.sample.twcs import write_twcs
from tests.support import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "file"


def _reasons(con):
    return [r for (r,) in con.execute("select reason from raw.quarantine order by reason").fetchall()]


def test_twcs_file_loads_good_rows_and_quarantines_each_kind_of_bad_row(con):
    [result] = extract_files(con, [FIXTURES / "twcs_small.csv"], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (12, 4, 8)
    assert result.loaded + result.quarantined == result.read
    assert sorted(p for (p,) in con.execute("select post_id from raw.posts").fetchall()) == ["10", "11", "12", "20"]
    reasons = _reasons(con)
    assert "unparseable created_at" in reasons
    assert "missing author_id" in reasons
    assert "inbound value 'maybe' is not true/false" in reasons
    assert "duplicate post_id within input" in reasons
    assert "empty text" in reasons
    assert sum(r.startswith("unreadable CSV line (UNQUOTED VALUE") for r in reasons) == 1
    assert sum(r.startswith("unreadable CSV line (MISSING COLUMNS") for r in reasons) == 1
    assert sum(r.startswith("unreadable CSV line (INVALID ENCODING") for r in reasons) == 1
    assert len(reasons) == result.quarantined


def test_twcs_rows_map_onto_posts(con):
    extract_files(con, [FIXTURES / "twcs_small.csv"], run_id="r1")
    rows = {r[0]: r[1:] for r in con.execute(
        "select post_id, author_id, is_inbound, parent_post_id, brands_mentioned, created_at, text from raw.posts"
    ).fetchall()}
    assert rows["11"][:4] == ("AcmeAirCare", False, "10", None)
    assert rows["12"][4].hour == 14 and rows["12"][4].minute == 25
    assert rows["12"][5] == "@AcmeAirCare thanks,\nthat helps"  # a quoted newline stays in the text
    # the brand a customer addressed: a handle that posts as a brand in the file comes first
    assert rows["20"][3] == ["AcmeAirCare"]
    assert rows["10"][3] == ["AcmeAirCare"]


def test_an_unchanged_file_is_skipped_and_a_changed_one_merges(con, tmp_path):
    path = tmp_path / "drop.csv"
    shutil.copy(FIXTURES / "twcs_small.csv", path)
    extract_files(con, [path], run_id="r1")
    counts = con.execute("select (select count(*) from raw.posts), (select count(*) from raw.quarantine)").fetchall()
    [again] = extract_files(con, [path], run_id="r2")
    assert again.read == 0 and again.notes and "unchanged" in again.notes[0]
    assert con.execute("select (select count(*) from raw.posts), (select count(*) from raw.quarantine)").fetchall() == counts

    path.write_text(path.read_text(encoding="utf-8", errors="replace").replace(
        "any news?", "any news??") + '50,509,True,Mon Jan 05 17:00:00 +0000 2026,@AcmeAirCare new one,,\n')
    [changed] = extract_files(con, [path], run_id="r3")
    assert (changed.inserted, changed.updated) == (1, 1)
    assert con.execute("select count(*) from raw.posts").fetchall()[0][0] == 5


def test_mapped_layout_loads_through_a_mapping_file(con):
    [result] = extract_files(con, [FIXTURES / "helpdesk_export.csv"], run_id="r1", fmt="mapped",
                             mapping=Mapping.from_file(FIXTURES / "mapping.yml"))
    assert (result.read, result.loaded, result.quarantined) == (3, 2, 1)
    rows = con.execute("select post_id, is_inbound, parent_post_id, brands_mentioned from raw.posts order by post_id").fetchall()
    assert rows == [("h1", True, None, ["ShopCo"]), ("h2", False, "h1", None)]
    assert _reasons(con) == ["inbound value 'sideways' is not true/false"]


def test_a_mapped_layout_may_describe_its_authors(con, tmp_path):
    """Optional author columns (mapping 'authors:') fill raw.authors: followers as counts, verified as a boolean; a
    count that is not a whole number is left unknown, not guessed; a re-load changes nothing."""
    export = tmp_path / "export.csv"
    export.write_text(
        "id,user,direction,posted,body,reply_to,account,name,fans,follows,blue\n"
        "h1,cust-9,in,2026-02-02 09:15:00,@ShopCo where is my parcel?,,ShopCo,Nine,1200,80,false\n"
        "h2,ShopCo,out,2026-02-02 09:40:00,@cust-9 It ships today,h1,ShopCo,ShopCo,250000,10,true\n"
        "h3,cust-7,in,2026-02-02 10:00:00,@ShopCo hello?,,ShopCo,Seven,lots,,\n")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text((FIXTURES / "mapping.yml").read_text() + "authors:\n  display_name: name\n"
                       "  followers_count: fans\n  following_count: follows\n  is_verified: blue\n")
    [result] = extract_files(con, [export], run_id="r1", fmt="mapped", mapping=Mapping.from_file(mapping))
    assert result.loaded == 3 and "3 new and 0 updated author(s)" in result.notes
    assert con.execute("select author_id, display_name, followers_count, following_count, is_verified "
                       "from raw.authors order by author_id").fetchall() == [
        ("ShopCo", "ShopCo", 250000, 10, True), ("cust-7", "Seven", None, None, None),
        ("cust-9", "Nine", 1200, 80, False)]
    export.write_text(export.read_text() + "h4,cust-9,in,2026-02-02 11:00:00,@ShopCo thanks!,,ShopCo,Nine,1250,80,false\n")
    [again] = extract_files(con, [export], run_id="r2", fmt="mapped", mapping=Mapping.from_file(mapping))
    assert "0 new and 1 updated author(s)" in again.notes  # cust-9 gained followers; the others are as they were
    assert con.execute("select followers_count from raw.authors where author_id = 'cust-9'").fetchone() == (1250,)
    mapping.write_text((FIXTURES / "mapping.yml").read_text() + "authors:\n  karma: fans\n")
    with pytest.raises(FileSourceError, match="karma is not one of handle, display_name, followers_count"):
        Mapping.from_file(mapping)


def test_jsonl_and_parquet_load_too(con, tmp_path):
    [jsonl] = extract_files(con, [FIXTURES / "posts.jsonl"], run_id="r1")
    assert (jsonl.read, jsonl.loaded, jsonl.quarantined) == (3, 2, 1)
    assert _reasons(con)[0].startswith("unreadable JSON line (JSONDecodeError")
    parquet = tmp_path / "posts.parquet"
    con.execute(f"copy (select '60' as tweet_id, '700' as author_id, 'True' as inbound, "
                f"'Wed Jan 07 09:00:00 +0000 2026' as created_at, '@AcmeAirCare hi' as text, "
                f"null as response_tweet_id, null as in_response_to_tweet_id) to '{parquet}' (format parquet)")
    [result] = extract_files(con, [parquet], run_id="r2")
    assert (result.read, result.loaded) == (1, 1)


def test_unreadable_input_fails_naming_the_file_and_commits_nothing(con, tmp_path):
    good = tmp_path / "a_good.csv"
    shutil.copy(FIXTURES / "twcs_small.csv", good)
    broken = tmp_path / "b_broken.parquet"
    broken.write_bytes(b"this is not parquet")
    with pytest.raises(FileSourceError, match="b_broken.parquet cannot be read"):
        extract_files(con, [tmp_path], run_id="r1")
    assert con.execute("select count(*) from raw.posts").fetchall() == [(0,)]
    assert con.execute("select count(*) from raw.quarantine").fetchall() == [(0,)]
    with pytest.raises(FileSourceError, match="nowhere.csv does not exist"):
        extract_files(con, [tmp_path / "nowhere.csv"], run_id="r2")
    with pytest.raises(FileSourceError, match="not a twcs file"):
        extract_files(con, [FIXTURES / "helpdesk_export.csv"], run_id="r3")


def test_a_mapping_missing_required_columns_says_which(tmp_path):
    bad = tmp_path / "mapping.yml"
    bad.write_text("columns:\n  post_id: id\n")
    with pytest.raises(FileSourceError, match="maps no column to author_id, created_at, is_inbound, text"):
        Mapping.from_file(bad)


def test_a_large_generated_twcs_file_accounts_for_every_row_and_reloads_to_nothing(con, tmp_path):
    world = generate(5000, seed=21)
    path = write_twcs(world, tmp_path / "twcs.csv")
    [result] = extract_files(con, [path], run_id="r1")
    assert result.read == len(world.posts) and result.quarantined == 0
    assert con.execute("select count(*) from raw.posts").fetchall()[0][0] == len(world.posts)
    path.touch()
    [again] = extract_files(con, [path], run_id="r2")
    assert again.inserted == again.updated == 0


@pytest.mark.skipif(not (ROOT.parent / "shared" / "data" / "twcs_sample.csv").exists(),
                    reason="the real twcs sample lives in ../shared, beside the project")
def test_real_twcs_rows_all_accounted_for(con):
    real = ROOT.parent / "shared" / "data" / "twcs_sample.csv"
    [result] = extract_files(con, [real], run_id="r1")
    assert result.read > 100 and result.loaded + result.quarantined == result.read
    stored = con.execute("select count(*) from raw.posts").fetchall()[0][0]
    quarantined = con.execute("select count(*) from raw.quarantine").fetchall()[0][0]
    assert stored + quarantined == result.read
    assert json.loads(json.dumps(result.as_dict()))["read"] == result.read
