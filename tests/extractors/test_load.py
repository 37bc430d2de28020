from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd

from extractors.load import MAX_TEXT_CHARS, load_posts
from extractors.sample.extract import extract_sample


def _post(post_id, text="@AcmeHelp my order is late", created_at="2026-01-05T10:00:00Z", author="u1", **extra):
    return {"post_id": post_id, "author_id": author, "is_inbound": True, "created_at": created_at, "text": text,
            "brands_mentioned": ["AcmeHelp"], **extra}


def test_bad_rows_are_quarantined_with_their_reason_and_good_rows_load(con):
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    frame = pd.DataFrame([
        _post("1"),
        _post(None),
        _post("3", created_at="not a date"),
        _post("4", text="   "),
        _post("5", text="x" * (MAX_TEXT_CHARS + 1)),
        _post("6", created_at=future),
        _post("1", text="a second row with the same id"),
        _post("8", author=None),
        _post("9", text="bad bytes \ufffd here"),
        _post("10"),
    ])
    result = load_posts(con, frame, "file", "run-1")
    assert (result.read, result.loaded, result.quarantined) == (10, 2, 8)
    assert result.reasons == {
        "missing post_id": 1, "unparseable created_at": 1, "empty text": 1,
        f"text longer than {MAX_TEXT_CHARS} characters": 1, "created_at in the future": 1,
        "duplicate post_id within input": 1, "missing author_id": 1, "invalid UTF-8 in text": 1,
    }
    assert con.execute("select post_id from raw.posts order by post_id").fetchall() == [("1",), ("10",)]
    quarantined = con.execute("select reason, record from raw.quarantine order by reason").fetchall()
    assert len(quarantined) == 8
    assert json.loads(dict(quarantined)["unparseable created_at"])["created_at"] is None


def test_reloading_changes_nothing_and_an_edit_updates_in_place(con):
    frame = pd.DataFrame([_post("1"), _post("2", text="@AcmeHelp where is my refund")])
    first = load_posts(con, frame, "file", "run-1")
    again = load_posts(con, frame, "file", "run-2")
    assert (first.inserted, first.updated) == (2, 0)
    assert (again.inserted, again.updated, again.quarantined) == (0, 0, 0)
    assert con.execute("select distinct run_id from raw.posts").fetchall() == [("run-1",)]

    edited = pd.DataFrame([_post("2", text="@AcmeHelp refund arrived, thanks"), _post("3")])
    result = load_posts(con, edited, "file", "run-3")
    assert (result.inserted, result.updated) == (1, 1)
    rows = dict(con.execute("select post_id, text from raw.posts").fetchall())
    assert rows == {"1": "@AcmeHelp my order is late", "2": "@AcmeHelp refund arrived, thanks",
                    "3": "@AcmeHelp my order is late"}


def test_deletion_marks_the_row_instead_of_removing_it(con):
    load_posts(con, pd.DataFrame([_post("1")]), "file", "run-1")
    result = load_posts(con, pd.DataFrame([_post("1", is_deleted=True)]), "file", "run-2")
    assert result.updated == 1
    assert con.execute("select is_deleted from raw.posts").fetchall() == [(True,)]


def test_is_deleted_written_as_text_is_read_as_a_boolean(con):
    load_posts(con, pd.DataFrame([_post("1", is_deleted="false"), _post("2", is_deleted="TRUE"),
                                  _post("3", is_deleted=None)]), "file", "run-1")
    assert con.execute("select post_id, is_deleted from raw.posts order by post_id").fetchall() == [
        ("1", False), ("2", True), ("3", False)]


def test_the_same_bad_record_is_quarantined_once_across_reruns(con):
    frame = pd.DataFrame([_post("1"), _post("2", created_at="yesterday-ish")])
    load_posts(con, frame, "file", "run-1")
    load_posts(con, frame, "file", "run-2")
    assert con.execute("select count(*) from raw.quarantine").fetchall() == [(1,)]


def test_sample_extract_twice_is_idempotent_and_commits_its_cursor(con):
    first = extract_sample(con, posts=1500, seed=3, end_date="2026-06-30", run_id="a")
    second = extract_sample(con, posts=1500, seed=3, end_date="2026-06-30", run_id="b")
    assert [r.inserted for r in first if r.table == "raw.posts"][0] > 1400
    assert all(r.inserted == 0 and r.updated == 0 for r in second)
    cursor = con.execute("select cursor_value from raw.extract_state where source = 'sample'").fetchall()[0][0]
    newest = con.execute("select max(created_at) from raw.posts").fetchall()[0][0]
    assert pd.Timestamp(cursor) == pd.Timestamp(newest)
