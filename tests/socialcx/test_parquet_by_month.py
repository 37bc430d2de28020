"""A large mart's Parquet file is published by month, and a later publish writes only the months that changed: the
others' row groups are copied from the current version byte for byte (socialcx/serving/parquet_stitch.py)."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcx.serving import parquet_stitch
from socialcx.serving import publish as publishing
from socialcx.serving.parquet_stitch import ParquetLayoutError, decode, encode, read_footer, stitch
from socialcx.serving.publish import publish, record_fingerprint

ROWS = """
select 'p' || i as post_key, timestamptz '2026-09-01 10:00:00+00' + to_hours(6 * i) as created_at,
       ['a', 'b', i::varchar] as categories, {'n': i, 's': 'x' || (i % 3)} as detail,
       case when i % 5 = 0 then null else i * 0.5 end as score, 'brand' || (i % 3) as brand
from range(ROW_COUNT) as r(i)
"""


def _rows(count: int) -> str:
    return ROWS.replace("ROW_COUNT", str(count))


def _footer_bytes(path) -> bytes:
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    return data[-8 - length:-8]


def test_the_footer_codec_writes_back_exactly_what_it_read(tmp_path):
    """Lists, structs, time zones, NULLs, statistics, bloom filters (DuckDB's) and Arrow's schema (pyarrow's): the
    footer decoded and encoded again is the same bytes, so a stitched file keeps every field the writers wrote."""
    with duckdb.connect() as con:
        # DuckDB cuts row groups at multiples of 2,048 rows
        con.execute(f"copy ({_rows(10_000)}) to ? (format parquet, row_group_size 2048)",
                    [str(tmp_path / "duck.parquet")])
        table = con.sql(_rows(300)).to_arrow_table()
    pq.write_table(table, tmp_path / "arrow.parquet", row_group_size=100, write_page_index=True)
    for name, groups in (("duck.parquet", 5), ("arrow.parquet", 3)):
        raw = _footer_bytes(tmp_path / name)
        assert encode(decode(raw)) == raw
        assert len(read_footer(tmp_path / name).row_groups) == groups
    (tmp_path / "not.parquet").write_bytes(b"PAR1 not a footer PAR1")
    with pytest.raises(ParquetLayoutError):
        read_footer(tmp_path / "not.parquet")


def test_row_groups_put_together_read_as_the_rows_they_came_from(tmp_path):
    """Row groups of two files, in another order: DuckDB and pyarrow read exactly their rows; a filter still finds
    its row (the bloom filters and page indexes, which lie outside the copied bytes, are dropped)."""
    rows = _rows(10_000)
    with duckdb.connect() as con:
        con.execute(f"copy ({rows} where i < 6144) to ? (format parquet, row_group_size 2048)",
                    [str(tmp_path / "a.parquet")])
        con.execute(f"copy ({rows} where i >= 6144) to ? (format parquet, row_group_size 2048)",
                    [str(tmp_path / "b.parquet")])
        a, b = read_footer(tmp_path / "a.parquet"), read_footer(tmp_path / "b.parquet")
        assert (len(a.row_groups), len(b.row_groups)) == (3, 2)
        # all 3,856 rows of b (6,144-9,999), then a's second row group, rows 2,048-4,095: 5,904 rows
        target = tmp_path / "stitched.parquet"
        assert stitch(target, [(b, 0, "2026-10"), (b, 1, "2026-11"), (a, 1, "2026-09")]) == 5904
        kept = "(post_key[2:])::int between 2048 and 4095 or (post_key[2:])::int >= 6144"
        expected = con.execute(f"select * from ({rows}) where {kept}").fetchall()
        read = con.execute("select * from read_parquet(?)", [str(target)]).fetchall()
        assert sorted(read, key=repr) == sorted(expected, key=repr) and len(read) == 5904
        assert con.execute("select post_key, score from read_parquet(?) where post_key = 'p3001'",
                           [str(target)]).fetchall() == [("p3001", 1500.5)]
        assert con.execute("select count(*) from read_parquet(?) where post_key = 'p5000'",
                           [str(target)]).fetchall() == [(0,)]
        assert con.execute("select count(*), sum(score) from read_parquet(?) where brand = 'brand1'",
                           [str(target)]).fetchall() == con.execute(
            f"select count(*), sum(score) from ({rows}) where brand = 'brand1' and ({kept})").fetchall()
    arrow = pq.read_table(target)
    assert arrow.num_rows == 5904 and arrow.column("post_key")[0].as_py() == "p6144"
    assert read_footer(target).months() == ["2026-10", "2026-11", "2026-09"]
    # a file of other columns cannot lend its row groups
    pq.write_table(pa.table({"post_key": ["x"]}), tmp_path / "other.parquet")
    with pytest.raises(ParquetLayoutError):
        stitch(tmp_path / "bad.parquet", [(a, 0, None), (read_footer(tmp_path / "other.parquet"), 0, None)])


def _validate(con, run_id: str) -> None:
    con.execute("insert into ops.validation_results values (?, now(), 's', 'critical', 'e', null, true, null, 0, 3)",
                [run_id])
    record_fingerprint(con, run_id)


def _same_rows(con, parquet, table: str = "fct_posts") -> bool:
    return con.execute(f"select (select count(*) from (select * from read_parquet($1) except all "
                       f"select * from marts.{table})) + (select count(*) from (select * from marts.{table} "
                       f"except all select * from read_parquet($1)))", [str(parquet)]).fetchall() == [(0,)]


def _group_bytes(path, month: str) -> list[bytes]:
    footer, data = read_footer(path), path.read_bytes()
    return [data[slice(*parquet_stitch._span(group))] for group, group_month in zip(footer.row_groups,
                                                                                     footer.months(), strict=True)
            if group_month == month]


@pytest.fixture
def con(tmp_path, monkeypatch):
    from socialcx.core.warehouse import open_warehouse

    monkeypatch.setattr(publishing, "PARQUET_BY_MONTH_FROM", 100)
    with open_warehouse(tmp_path / "w.duckdb") as connection:
        connection.execute("create schema if not exists marts")
        # a post every six hours from 1 September to 15 November 2026 (posts 0-118, 119-242 and 243-299), then the ten
        # first post keys in text order (p0, p1, p10, p100-p106, all of September) left with no time
        connection.execute(f"create table marts.fct_posts as {_rows(300)}")
        connection.execute("update marts.fct_posts set created_at = null where post_key in "
                           "(select post_key from marts.fct_posts order by post_key limit 10)")
        connection.execute("create table marts.dim_brands as select 'brand' || i as brand from range(3) as r(i)")
        yield connection


def test_a_large_mart_is_published_by_month_and_a_change_writes_its_month_only(con, tmp_path):
    publish_dir = tmp_path / "published"
    parquet = publish_dir / "parquet" / "fct_posts.parquet"
    _validate(con, "v1")
    first = publish(con, publish_dir, "run1")
    # the first version writes every month; a mart under the threshold is written whole, as before
    assert first["parquet_months_written"] == {"fct_posts": ["2026-09", "2026-10", "2026-11", None]}
    assert _same_rows(con, parquet)
    assert read_footer(parquet).months() == ["2026-09", "2026-10", "2026-11", None]
    september, november = _group_bytes(parquet, "2026-09"), _group_bytes(parquet, "2026-11")

    # one post of October edited: October alone is written, September and November are copied byte for byte
    con.execute("update marts.fct_posts set score = -1 where post_key = 'p150'")
    _validate(con, "v2")
    second = publish(con, publish_dir, "run2")
    assert second["parquet_months_written"] == {"fct_posts": ["2026-10"]}
    assert _same_rows(con, parquet)
    assert _group_bytes(parquet, "2026-09") == september and _group_bytes(parquet, "2026-11") == november
    with duckdb.connect() as reader:
        assert reader.execute("select score from read_parquet(?) where post_key = 'p150'",
                              [str(parquet)]).fetchall() == [(-1.0,)]

    # a post gone from November and one added in December, and a post with no time edited
    con.execute("delete from marts.fct_posts where post_key = 'p299'")
    con.execute("insert into marts.fct_posts values ('p300', timestamptz '2026-12-01 09:00:00+00', [], "
                "{'n': 300, 's': 'x0'}, 1.5, 'brand0')")
    con.execute("update marts.fct_posts set score = 7 where post_key = 'p1'")
    _validate(con, "v3")
    third = publish(con, publish_dir, "run3")
    assert third["parquet_months_written"] == {"fct_posts": ["2026-11", "2026-12", None]}
    assert _same_rows(con, parquet)
    assert read_footer(parquet).months() == ["2026-09", "2026-10", "2026-11", "2026-12", None]

    # after an erasure or a full validation nothing is copied forward: every month is written from the mart
    fourth = publish(con, publish_dir, "run4", rewrite_all=True)
    assert fourth["parquet_months_written"] == {"fct_posts": ["2026-09", "2026-10", "2026-11", "2026-12", None]}
    assert _same_rows(con, parquet)


def test_a_file_whose_months_do_not_hold_the_mart_s_rows_is_written_again(con, tmp_path):
    """The current version's file is trusted only while each unchanged month holds as many rows as the mart does
    now: one whose months were mislabelled is written again, every month. A change to more than half of the rows
    writes the file whole, in one piece."""
    publish_dir = tmp_path / "published"
    parquet = publish_dir / "parquet" / "fct_posts.parquet"
    _validate(con, "v1")
    publish(con, publish_dir, "run1")
    held = read_footer(parquet.resolve())
    labels = held.months()
    # the current file rewritten with September's and October's row groups labelled the other way round
    swapped = {"2026-09": "2026-10", "2026-10": "2026-09"}
    tampered = parquet.resolve().with_suffix(".tampered")
    stitch(tampered, [(held, index, swapped.get(month, month)) for index, month in enumerate(labels)])
    tampered.replace(parquet.resolve())
    con.execute("delete from marts.fct_posts where post_key in ('p298', 'p299')")  # two November posts gone
    con.execute("update marts.fct_posts set score = 3 where post_key = 'p1'")  # and a post with no time edited
    _validate(con, "v2")
    second = publish(con, publish_dir, "run2")
    assert second["parquet_months_written"] == {"fct_posts": ["2026-09", "2026-10", "2026-11", None]}
    assert _same_rows(con, parquet)
    with duckdb.connect() as reader:
        assert reader.execute("select strftime(created_at, '%Y-%m'), count(*) from read_parquet(?) group by 1 "
                              "order by 1", [str(parquet)]).fetchall() == [
            ("2026-09", 109), ("2026-10", 124), ("2026-11", 55), (None, 10)]

    con.execute("update marts.fct_posts set score = coalesce(score, 0) + 1 where created_at < '2026-11-01'")
    _validate(con, "v3")
    third = publish(con, publish_dir, "run3")
    assert "fct_posts" in third["rewritten"] and third["parquet_months_written"] == {}
    assert _same_rows(con, parquet) and read_footer(parquet).months() is None
    manifest = json.loads((publish_dir / "manifest.json").read_text())
    assert manifest["parquet_months_written"] == {}


def test_a_mart_with_a_column_named_as_the_month_is_written_whole(con, tmp_path, caplog):
    """The month of each row is a column while the file is written by month: a mart that has a column of that name
    keeps its own, written whole, without trying the write by month first (which fails, and says so in the log)."""
    con.execute(f"alter table marts.fct_posts add column {publishing.MONTH_KEY} varchar default 'its own'")
    _validate(con, "v1")
    assert publish(con, tmp_path / "published", "run1")["parquet_months_written"] == {}
    assert _same_rows(con, tmp_path / "published" / "parquet" / "fct_posts.parquet")
    assert "written whole" not in caplog.text


@pytest.mark.parametrize("column_type", ["timestamptz", "timestamp", "date"])
def test_the_days_a_patch_compares_are_the_rows_whose_date_is_one_of_them(column_type):
    """The ranges a patch filters on (`_days_where`) keep exactly the rows whose ``cast(column as date)`` is one of
    the days, in a time zone whose clocks move (New York, 1 November 2026), with no time kept as its own day."""
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'America/New_York'")
        con.execute(f"create table t as select case when i % 97 = 0 then null else cast(timestamptz "
                    f"'2026-10-28 00:00:00+00' + to_minutes(37 * i) as {column_type}) end as seen_at "
                    "from range(600) as r(i)")
        for days in (["2026-11-01"], ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-03"], [None],
                     ["2026-11-02", None], ["2026-10-27"]):
            where, params = publishing._days_where("seen_at", days)
            picked = con.execute(f"select seen_at from t as x{where} order by all", params).fetchall()
            wanted = con.execute("select seen_at from t where list_contains(?::date[], cast(seen_at as date)) "
                                 "or (seen_at is null and ?) order by all",
                                 [[d for d in days if d], None in days]).fetchall()
            assert picked == wanted, (days, len(picked), len(wanted))
            assert len(wanted) > 0 or days == ["2026-10-27"]


def test_a_month_is_its_days():
    """A month written by month is selected by its days: every day of it, leap years and year ends included."""
    assert [len(publishing._month_days(month)) for month in ("2026-02", "2028-02", "2026-12", "2026-11")] == \
        [28, 29, 31, 30]
    assert publishing._month_days("2026-12")[-1] == "2026-12-31" and publishing._month_days(None) == [None]
