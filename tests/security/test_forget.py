"""Erasure that sticks: after `socialcx forget`, the person is nowhere (tables, quarantine, published files,
reports, dbt's logs, the DuckDB file's bytes) and no later extract (sample world, re-delivered file, CRM export)
brings them back. A forget that cannot re-publish says what is still published and how to finish."""

from __future__ import annotations

import json
import subprocess

import duckdb
import pytest

from socialcx import stages
from socialcx.core.erasure import identifier_hash
from tests.support import VENV_BIN

pytestmark = pytest.mark.integration

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
T = "Mon Jan 05 14:00:00 +0000 2026"
EMAIL = "forget.me@example.org"


def _person(settings) -> dict[str, str]:
    """A customer who wrote to a brand and was answered by name ("Hi Umar")."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        author, handle, name = con.execute("""
            select p.author_id, p.author_handle, c.name from raw.posts as p
            join raw.customers as c on c.social_handle = p.author_handle
            join raw.posts as r on r.parent_post_id = p.post_id and r.text like 'Hi %' or r.text like '%Hi ' || split_part(c.name, ' ', 1) || '%'
            where p.is_inbound and r.parent_post_id = p.post_id
            group by all order by count(*) desc, 1 limit 1""").fetchall()[0]
        replies = [p for (p,) in con.execute(
            "select post_id from raw.posts where text ilike ? and text like ?",
            [f"%@{handle}%", f"%{name.split()[0]}%"]).fetchall()]
    assert replies, "the world must hold a brand reply naming the person"
    return {"author": author, "handle": handle, "name": name, "first": name.split()[0], "replies": replies}


def _drop_files(folder, person) -> None:
    """A twcs file with the person's posts and an unreadable line naming them; a CRM export with a duplicate."""
    folder.mkdir(parents=True, exist_ok=True)
    h = person["handle"]
    (folder / "drop.csv").write_text(
        HEADER
        + f'900001,{h},True,{T},"@SkyLarkAir my bag is gone",,\n'
        + f'900002,someone_else,True,{T},"@SkyLarkAir same as @{h} here",,\n'
        + f'900003,{h},True,{T},"broken "quote" line from {h}",,\n')


def _crm(folder, person) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_text(
        "customer_id,social_handle,name,email\n"
        f"{person['author']},{person['handle']},{person['name']},{EMAIL}\n"
        f"{person['author']},{person['handle']},{person['name']},{EMAIL}\n"  # a duplicate: quarantined
        "K1,other_person,Other Person,other@example.org\n"
        f"K2,,Someone,{EMAIL}\n")  # the same person by e-mail only
    (folder / "orders.csv").write_text(
        "order_id,customer_id,brand,ordered_at,amount\n"
        f"o1,{person['author']},SkyLarkAir,2026-01-10,120.00\n"
        "o2,K1,SkyLarkAir,2026-01-11,80.00\n"
        f"o3,{person['author']},SkyLarkAir,not a date,10\n")  # quarantined with the person's id in it


def _leftovers(path, needles: list[str], schemas=("raw", "enriched", "marts", "ops", "staging", "intermediate")):
    found = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for (table,) in con.execute("select table_schema || '.' || table_name from information_schema.tables "
                                    "where list_contains(?, table_schema)", [list(schemas)]).fetchall():
            schema, name = table.split(".")
            for needle in needles:
                n = con.execute(f'select count(*) from "{schema}"."{name}" as t where cast(t as varchar) ilike ?',
                                [f"%{needle}%"]).fetchall()[0][0]
                if n:
                    found[f"{table}~{needle}"] = n
    return found


def _parquet_leftovers(folder, needles):
    found = {}
    for parquet in folder.glob("*.parquet"):
        with duckdb.connect() as con:
            for needle in needles:
                n = con.execute("select count(*) from read_parquet(?) as t where cast(t as varchar) ilike ?",
                                [str(parquet), f"%{needle}%"]).fetchall()[0][0]
                if n:
                    found[f"{parquet.name}~{needle}"] = n
    return found


def test_forget_is_permanent_everywhere(copy_built, tmp_path, monkeypatch):
    settings = copy_built
    person = _person(settings)
    needles = [person["author"], person["handle"], person["name"], EMAIL]
    drop, crm = tmp_path / "drop", tmp_path / "crm"
    _drop_files(drop, person)
    _crm(crm, person)
    stages.extract("file", settings=settings, paths=[drop])
    stages.extract("crm", settings=settings, location=str(crm))
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        held = con.execute("select count(*) from raw.quarantine where record ilike ? or record ilike ?",
                           [f"%{person['handle']}%", f"%{person['author']}%"]).fetchall()[0][0]
    assert held >= 3  # the broken CSV line, the CRM duplicate, the unparseable order
    (settings.publish_dir / "socialcx.duckdb.tmp-999999").write_bytes(b"a stale copy from a killed publish")

    result = stages.forget(author=person["author"], emails=[EMAIL], settings=settings)
    assert result["posts"] > 0 and result["customers"] >= 2 and result["quarantined"] >= 3
    assert result["names_redacted"] >= 1 and result["compacted"]["bytes_after"] > 0

    # the register keeps hashes, never the identifiers
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        hashes = {h for (h,) in con.execute("select hash from ops.erasure_identifiers").fetchall()}
        assert identifier_hash(person["handle"]) in hashes and identifier_hash(EMAIL) in hashes
        assert con.execute("select status from ops.erasure_requests").fetchall() == [("complete",)]
        # the brand's replies no longer name them ("Hi Umar")
        texts = [t for (t,) in con.execute("select text from raw.posts where list_contains(?, post_id)",
                                           [person["replies"]]).fetchall()]
    assert texts and not any(person["first"] in t for t in texts)
    assert all("@[forgotten]" in t for t in texts)
    assert _leftovers(settings.warehouse, needles) == {}
    assert _leftovers(settings.published_warehouse, needles, ("marts",)) == {}
    assert _parquet_leftovers(settings.publish_dir / "parquet", needles) == {}
    # no bytes of them in the working file, no stale published copy, no older published version
    for needle in (person["handle"], person["author"]):
        grep = subprocess.run(["grep", "-a", "-c", "-i", needle, str(settings.warehouse)], capture_output=True, text=True)
        assert grep.stdout.strip() == "0", needle
    assert not list(settings.publish_dir.rglob("*.tmp-*"))
    assert len(list((settings.publish_dir / "versions").iterdir())) == 1
    # dbt's logs and artefacts, the report and the Data Docs do not name them either
    for folder in (settings.dbt_project_dir / "logs", settings.dbt_project_dir / "target", settings.reports_dir):
        grep = subprocess.run(["grep", "-r", "-l", "-i", "-e", person["author"], "-e", person["handle"], str(folder)],
                              capture_output=True, text=True)
        assert grep.stdout == "", grep.stdout

    # the next runs bring nothing back: the sample world regenerates them, the file is re-delivered under
    # another name, the CRM export still lists them
    (drop / "drop.csv").rename(drop / "redelivered.csv")
    stages.run_all(settings=settings, sources=["sample"], posts=1500, seed=11)
    extracted = stages.extract("file", settings=settings, paths=[drop])
    assert extracted["tables"][0]["erased"] == 1 and extracted["tables"][0]["loaded"] == 1
    crm_result = stages.extract("crm", settings=settings, location=str(crm))
    assert [t["erased"] for t in crm_result["tables"]] == [3, 2]
    stages.run_all(settings=settings, sources=[])
    stages.release_dbt_connections()  # dbt keeps the file open read-write in this process; the checks read it
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        mention = con.execute("select text from raw.posts where post_id = '900002'").fetchall()
    assert mention == [("@SkyLarkAir same as @[forgotten] here",)]
    assert _leftovers(settings.warehouse, needles) == {}
    assert _leftovers(settings.published_warehouse, needles, ("marts",)) == {}
    assert _parquet_leftovers(settings.publish_dir / "parquet", needles) == {}


def test_a_forgotten_post_is_not_loaded_again(copy_built, tmp_path):
    settings = copy_built
    stages.forget(post="sample:1", settings=settings)
    stages.extract("sample", settings=settings, posts=1500, seed=11)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.posts where source = 'sample' and post_id = '1'").fetchall() == [(0,)]


def test_a_forget_that_cannot_republish_says_what_is_still_published(copy_built):
    settings = copy_built
    person = _person(settings)
    with duckdb.connect(str(settings.warehouse)) as con:  # the pipeline is unhealthy: a critical check fails
        con.execute("insert into raw.posts (source, post_id, author_id, is_inbound, created_at, text, updated_at, "
                    "ingested_at, run_id) values ('sample', 'future-1', 'x', true, now() + interval 30 day, 'hi', "
                    "now(), now(), 'r')")
    run = subprocess.run([str(VENV_BIN / "socialcx"), "forget", "--author", person["author"]], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 1
    message = " ".join(run.stderr.split())
    assert "is done in the working warehouse and registered" in message
    assert "still published:" in message and "socialcx.duckdb:marts.fct_posts" in message
    assert "fct_posts.parquet" in message and "To finish" in message and "socialcx run" in message
    assert person["author"] not in message and person["handle"] not in message  # the message names no one
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select status from ops.erasure_requests").fetchall() == [("pending",)]
        con.close()
    with duckdb.connect(str(settings.warehouse)) as con:  # repaired: the next publish finishes the erasure
        con.execute("delete from raw.posts where post_id = 'future-1'")
    stages.run_all(settings=settings, sources=[])
    stages.release_dbt_connections()
    assert _leftovers(settings.published_warehouse, [person["author"], person["handle"]], ("marts",)) == {}
    assert len(list((settings.publish_dir / "versions").iterdir())) == 1
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select status from ops.erasure_requests").fetchall() == [("complete",)]
    assert json.loads((settings.publish_dir / "manifest.json").read_text())["version"]
