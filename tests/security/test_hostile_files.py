"""Files as an attacker or a careless exporter would drop them: nothing leaks, nothing runs, every row is
accounted for (read = loaded + quarantined), and a file that cannot be read at all is named with the fix."""

from __future__ import annotations

import gzip
import json
import re
import zipfile

import duckdb
import pandas as pd
import pytest

from extractors.file import extract as file_extract
from extractors.file.extract import FileSourceError, Mapping, extract_files
from tests.support import ROOT

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
T = "Mon Jan 05 14:00:00 +0000 2026"
CANARY = "canary-token-7f3a9c"  # stands for a secret in the process environment


def _row(post_id: str, text: str = "@AcmeAirCare my bag is lost", inbound: str = "True", when: str = T) -> str:
    return f'{post_id},50{post_id[-1]},{inbound},{when},"{text}",,\n'


def _posts(con) -> list[str]:
    return sorted(p for (p,) in con.execute("select post_id from raw.posts").fetchall())


def _reasons(con) -> list[str]:
    return sorted(r for (r,) in con.execute("select reason from raw.quarantine").fetchall())


def _everything(con) -> str:
    """Every value the load wrote, as one string (for leak checks)."""
    tables = ["raw.posts", "raw.quarantine", "raw.file_loads"]
    return " ".join(str(con.execute(f"select list(t) from {t} as t").fetchall()) for t in tables)


def _accounted(result) -> None:
    assert result.read == result.loaded + result.quarantined + result.erased


# ---- SQL injection -----------------------------------------------------------------------------------------

INJECTIONS = [
    # closes the column spec and unions the process environment in (the reported attack)
    "x': 'VARCHAR'}) union all by name select content as text from read_text('/proc/self/environ') --",
    # reads an arbitrary file
    "y': 'VARCHAR'}) union all by name select content as text from read_text('/etc/hostname') --",
    "it's",  # a quote alone once failed with a parser error that printed the query
    'd"q',
    "z; drop table raw.posts; --",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_a_crafted_csv_header_is_a_column_name_never_sql(con, tmp_path, monkeypatch, evil):
    monkeypatch.setenv("SOCIALCX_X_BEARER_TOKEN", CANARY)
    path = tmp_path / "drop.csv"
    # the evil name is one more (quoted) column; the twcs columns are all there
    header = HEADER.rstrip("\n") + ',"' + evil.replace('"', '""') + '"\n'
    path.write_text(header + _row("10").rstrip("\n") + ",extra\n" + _row("11").rstrip("\n") + ",extra\n")
    [result] = extract_files(con, [path], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (2, 2, 0)
    assert _posts(con) == ["10", "11"]
    dump = _everything(con)
    assert CANARY not in dump and "PATH=" not in dump and "HOSTNAME" not in dump
    assert con.execute("select count(*) from raw.posts").fetchall() == [(2,)]


def test_injection_in_values_is_stored_as_text(con, tmp_path):
    path = tmp_path / "values.csv"
    evil = "'); drop table raw.posts; select ('"
    path.write_text(HEADER + _row("10", text=f"@AcmeAirCare {evil}") + f'11\');--,501,True,{T},"@AcmeAirCare ok",,\n')
    [result] = extract_files(con, [path], run_id="r1")
    _accounted(result)
    assert con.execute("select text from raw.posts where post_id = '10'").fetchall() == [(f"@AcmeAirCare {evil}",)]
    assert "11');--" in _posts(con)


@pytest.mark.parametrize("header,problem", [("a,a,b\n", "column names repeat: a"), ("a,,b\n", "column(s) 2 have no name")])
def test_an_unusable_header_is_named(con, tmp_path, header, problem):
    path = tmp_path / "bad_header.csv"
    path.write_text(header + "1,2,3\n")
    with pytest.raises(FileSourceError, match=re.escape(f"bad_header.csv has an unusable header ({problem}")):
        extract_files(con, [path], run_id="r1")


def test_no_f_string_pastes_into_sql_outside_the_audited_places():
    """Every f-string SQL in the package goes through quote_ident/quote_table or pastes only constants."""
    offenders = []
    for path in [*ROOT.glob("socialcx/*.py"), *ROOT.glob("extractors/**/*.py"), *ROOT.glob("nlp/*.py"),
                 *ROOT.glob("expectations/*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"execute\(f[\"']", line) and "{" in line:
                pasted = re.findall(r"\{([^}]+)\}", line)
                if any(not (p.startswith(("quote_ident(", "quote_table(", "q[")) or p.isupper() or p in (
                        "target", "name", "posts", "customers", "where", "addressed", "on", "changed", "updates",
                        "cols", "vals", "quarantined")) for p in pasted):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


# ---- rows that once aborted a load or vanished ---------------------------------------------------------------

def test_an_empty_inbound_cell_is_quarantined_and_the_rest_loads(con, tmp_path):
    path = tmp_path / "twcs.csv"
    path.write_text(HEADER + _row("10") + _row("11", inbound="") + _row("12", inbound="False"))
    other = tmp_path / "zz_other.csv"  # a second file of the same call still loads
    other.write_text(HEADER + _row("20"))
    results = extract_files(con, [path, other], run_id="r1")
    assert [(r.read, r.loaded, r.quarantined) for r in results] == [(3, 2, 1), (1, 1, 0)]
    assert _posts(con) == ["10", "12", "20"]
    assert _reasons(con) == ["missing inbound value"]


def test_a_null_or_missing_inbound_in_jsonl_and_parquet_is_quarantined(con, tmp_path):
    rows = [{"tweet_id": "30", "author_id": "601", "inbound": "True", "created_at": T, "text": "@AcmeAirCare hi",
             "response_tweet_id": None, "in_response_to_tweet_id": None},
            {"tweet_id": "31", "author_id": "602", "inbound": None, "created_at": T, "text": "@AcmeAirCare hi",
             "response_tweet_id": None, "in_response_to_tweet_id": None},
            {"tweet_id": "32", "author_id": "603", "created_at": T, "text": "@AcmeAirCare no inbound key",
             "response_tweet_id": None, "in_response_to_tweet_id": None}]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    parquet = tmp_path / "b.parquet"
    pd.DataFrame([{**r, "tweet_id": "4" + r["tweet_id"][1], "inbound": r.get("inbound")} for r in rows]).to_parquet(parquet)
    results = extract_files(con, [jsonl, parquet], run_id="r1")
    assert [(r.read, r.loaded, r.quarantined) for r in results] == [(3, 1, 2), (3, 1, 2)]
    assert _posts(con) == ["30", "40"]
    assert _reasons(con) == ["missing inbound value"] * 4


def test_an_empty_direction_in_a_mapped_file_is_quarantined(con, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,user,direction,posted,body,reply_to,account\n"
                    "h1,cust-9,in,2026-02-02 09:15:00,@ShopCo where is it,,ShopCo\n"
                    "h2,ShopCo,,2026-02-02 09:40:00,@cust-9 today,h1,ShopCo\n")
    mapping = Mapping.from_file(ROOT / "tests" / "fixtures" / "file" / "mapping.yml")
    [result] = extract_files(con, [path], run_id="r1", fmt="mapped", mapping=mapping)
    assert (result.read, result.loaded, result.quarantined) == (2, 1, 1)
    assert _reasons(con) == ["missing inbound value"]


def test_a_line_far_over_the_maximum_is_quarantined_not_lost(con, tmp_path):
    """DuckDB dropped a line much longer than its buffer without a reject record ("read 2" of 3 rows)."""
    path = tmp_path / "huge.csv"
    with path.open("w") as handle:
        handle.write(HEADER + _row("10"))
        handle.write(f'11,502,True,{T},' + "A" * 64_000_000 + ",,\n")  # unquoted, 64 MB
        handle.write(_row("12"))
    [result] = extract_files(con, [path], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (3, 2, 1)
    [(reason, record)] = con.execute("select reason, record from raw.quarantine").fetchall()
    assert reason.startswith("unreadable CSV line (LINE SIZE OVER MAXIMUM")
    assert json.loads(record)["line"] == 3 and len(record) < 5000


def test_a_line_just_over_the_maximum_is_quarantined_once(con, tmp_path, monkeypatch):
    monkeypatch.setattr(file_extract, "MAX_LINE_BYTES", 2000)
    path = tmp_path / "long.csv"
    path.write_text(HEADER + _row("10") + _row("11", text="@AcmeAirCare " + "b" * 3000) + _row("12"))
    [result] = extract_files(con, [path], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (3, 2, 1)
    assert len(_reasons(con)) == 1


@pytest.mark.parametrize("when,year", [("Mon Jan 01 00:00:00 +0000 0001", "0001"),
                                       ("Thu Jan 01 00:00:00 +0000 1970", "1970")])
def test_absurd_dates_are_quarantined(con, tmp_path, when, year):
    path = tmp_path / f"dates_{year}.csv"
    path.write_text(HEADER + _row("10") + _row("11", when=when))
    [result] = extract_files(con, [path], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (2, 1, 1)
    [reason] = _reasons(con)
    assert reason in ("created_at before 2006-01-01 (SOCIALCX_EARLIEST_POST_DATE)", "unparseable created_at")


def test_the_plausible_date_window_is_configurable(con, tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIALCX_EARLIEST_POST_DATE", "2026-02-01")
    path = tmp_path / "window.csv"
    path.write_text(HEADER + _row("10"))  # 2026-01-05
    [result] = extract_files(con, [path], run_id="r1")
    assert result.quarantined == 1
    assert _reasons(con) == ["created_at before 2026-02-01 (SOCIALCX_EARLIEST_POST_DATE)"]


MAPPING = """columns: {post_id: id, author_id: user, created_at: posted, text: body, is_inbound: direction}
inbound_values: [in]
"""


@pytest.mark.parametrize("dates,problem", [
    (["13/01/2026 10:00", "01/13/2026 11:00"], "mixes day-first"),
    (["03/04/2026 10:00", "05/06/2026 11:00"], "read both day-first and month-first"),
])
def test_ambiguous_day_month_dates_are_refused_naming_the_fix(con, tmp_path, dates, problem):
    path = tmp_path / "dates.csv"
    path.write_text("id,user,direction,posted,body\n"
                    + "".join(f"h{i},c{i},in,{d},@ShopCo hello\n" for i, d in enumerate(dates)))
    (tmp_path / "m.yml").write_text(MAPPING)
    with pytest.raises(FileSourceError, match=f"dates.csv .*{problem}.*created_at_format"):
        extract_files(con, [path], run_id="r1", fmt="mapped", mapping=Mapping.from_file(tmp_path / "m.yml"))
    assert con.execute("select count(*) from raw.posts").fetchall() == [(0,)]


def test_day_first_dates_that_can_only_be_day_first_load_as_such(con, tmp_path):
    path = tmp_path / "dates.csv"
    path.write_text("id,user,direction,posted,body\nh1,c1,in,13/01/2026 10:00,@ShopCo a\nh2,c2,in,02/01/2026 10:00,@ShopCo b\n")
    (tmp_path / "m.yml").write_text(MAPPING)
    extract_files(con, [path], run_id="r1", fmt="mapped", mapping=Mapping.from_file(tmp_path / "m.yml"))
    days = dict(con.execute("select post_id, strftime(created_at, '%Y-%m-%d') from raw.posts").fetchall())
    assert days == {"h1": "2026-01-13", "h2": "2026-01-02"}


def test_deep_nesting_and_nested_values_in_jsonl_are_quarantined(con, tmp_path):
    good = {"tweet_id": "1", "author_id": "601", "inbound": "True", "created_at": T, "text": "@AcmeAirCare ok"}
    path = tmp_path / "nested.jsonl"
    path.write_text("\n".join([
        json.dumps(good),
        "[" * 100_000 + "]" * 100_000,  # aborted the call with RecursionError
        json.dumps({**good, "tweet_id": "2", "text": [1, 2]}),  # once loaded as the text "[1, 2]"
        json.dumps({**good, "tweet_id": "3", "author_id": {"id": 7}}),
    ]) + "\n")
    [result] = extract_files(con, [path], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (4, 1, 3)
    reasons = _reasons(con)
    assert "unreadable JSON line (nested too deeply)" in reasons
    assert "field 'text' holds a nested list, not a single value" in reasons
    assert "field 'author_id' holds a nested dict, not a single value" in reasons


def test_nested_and_nan_values_in_parquet_are_not_loaded_as_text(con, tmp_path):
    path = tmp_path / "nested.parquet"
    con.execute("""copy (select * from (values
        ('1', '601', 'True', 'Mon Jan 05 14:00:00 +0000 2026', '@AcmeAirCare ok', [1, 2]),
        ('2', '602', 'True', 'Mon Jan 05 14:00:00 +0000 2026', '@AcmeAirCare fine', null))
        as t(tweet_id, author_id, inbound, created_at, text, tags)) to ? (format parquet)""", [str(path)])
    nan = tmp_path / "nan.parquet"
    pd.DataFrame({"tweet_id": ["5"], "author_id": ["605"], "inbound": ["True"], "created_at": [T],
                  "text": [float("nan")], "response_tweet_id": [None], "in_response_to_tweet_id": [None]}).to_parquet(nan)
    results = extract_files(con, [path, nan], run_id="r1")
    for result in results:
        _accounted(result)
    assert _posts(con) == ["2"]
    assert sorted(_reasons(con)) == ["empty text", "field 'tags' holds a nested list, not a single value"]
    assert con.execute("select count(*) from raw.posts where text in ('nan', '[1, 2]')").fetchall() == [(0,)]


# ---- files that are not what their name says ------------------------------------------------------------------

def _xlsx(path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")


@pytest.mark.parametrize("make,what,fix", [
    (lambda p: p.write_bytes(gzip.compress((HEADER + _row("1")).encode())), "gzip-compressed data", "gunzip"),
    (_xlsx, "a ZIP archive", "export the sheet as CSV"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))), "binary data", "UTF-8 CSV"),
    (lambda p: p.write_bytes((HEADER + _row("1")).encode("utf-16")), "UTF-16 text", "save it as UTF-8"),
])
def test_a_misnamed_file_is_refused_naming_what_it_is_and_the_fix(con, tmp_path, make, what, fix):
    path = tmp_path / "export.csv"
    make(path)
    with pytest.raises(FileSourceError) as error:
        extract_files(con, [path], run_id="r1")
    message = str(error.value)
    assert "export.csv" in message and what in message and fix in message
    assert "read_csv" not in message and "select" not in message.lower()
    # not recorded as loaded: once fixed (or still broken), the next run tries it again
    assert con.execute("select count(*) from raw.file_loads").fetchall() == [(0,)]


def test_a_utf8_bom_is_read_not_reported_as_missing_columns(con, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + _row("10")).encode())
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + json.dumps({"tweet_id": "20", "author_id": "7", "inbound": "True",
                                                    "created_at": T, "text": "@AcmeAirCare hi"}).encode() + b"\n")
    results = extract_files(con, [path, jsonl], run_id="r1")
    assert [(r.read, r.loaded) for r in results] == [(1, 1), (1, 1)]
    assert _posts(con) == ["10", "20"]


def test_a_broken_parquet_file_names_itself_without_raw_engine_text(con, tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(FileSourceError, match="broken.parquet cannot be read as parquet") as error:
        extract_files(con, [path], run_id="r1")
    assert "select" not in str(error.value).lower()


def test_the_warehouse_is_untouched_by_a_refused_call(tmp_path):
    from socialcx.core.warehouse import open_warehouse

    with open_warehouse(tmp_path / "w.duckdb") as con:
        good = tmp_path / "a.csv"
        good.write_text(HEADER + _row("10"))
        bad = tmp_path / "b.csv"
        bad.write_bytes(gzip.compress(b"x"))
        with pytest.raises(FileSourceError):
            extract_files(con, [good, bad], run_id="r1")  # one call, one transaction: nothing half-loaded
        assert con.execute("select count(*) from raw.posts").fetchall() == [(0,)]
    assert duckdb.connect(str(tmp_path / "w.duckdb")).execute("select 1").fetchall() == [(1,)]


def test_a_typed_parquet_export_loads_timestamps_and_booleans(con, tmp_path):
    """A twcs layout written by a tool that keeps types: created_at a timestamp, inbound a boolean."""
    path = tmp_path / "typed.parquet"
    con.execute("""copy (select * from (values
        ('1', '601', true, timestamptz '2026-01-05 14:00:00+00', '@AcmeAirCare my bag is lost', null),
        ('2', 'AcmeAirCare', false, timestamptz '2026-01-05 14:20:00+00', '@601 sorry, checking', '1'))
        as t(tweet_id, author_id, inbound, created_at, text, in_response_to_tweet_id)) to ? (format parquet)""",
                [str(path)])
    [result] = extract_files(con, [path], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (2, 2, 0)
    rows = con.execute("select post_id, is_inbound, strftime(created_at, '%H:%M'), parent_post_id from raw.posts "
                       "order by post_id").fetchall()
    assert rows == [("1", True, "14:00", None), ("2", False, "14:20", "1")]
