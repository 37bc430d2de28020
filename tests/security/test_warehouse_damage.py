"""A damaged warehouse file is refused up front, naming the file and how to restore it, and never written to."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess

import duckdb
import pytest

from socialcx.core.warehouse import WarehouseDamagedError, connect
from tests.support import VENV_BIN


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "socialcx.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create table raw.posts as select range as id, 'text ' || range as t "
                    "from range(200000)")
    return path


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage,says", [
    (lambda p: os.truncate(p, p.stat().st_size - 100_000), "truncated"),
    (lambda p: p.write_bytes(b"\0" * p.stat().st_size), "zero-filled"),
    (lambda p: p.write_bytes(b"id,text\n1,hello\n"), "not a DuckDB database file"),
    (lambda p: p.write_bytes(gzip.compress(p.read_bytes())), "gzip-compressed"),
])
def test_a_damaged_file_is_refused_before_anything_writes_to_it(good_file, damage, says):
    damage(good_file)
    before = _digest(good_file)
    for read_only in (False, True):
        with pytest.raises(WarehouseDamagedError) as error:
            connect(good_file, read_only=read_only, retries=0)
        message = str(error.value)
        assert str(good_file) in message and says in message
        assert "Restore" in message and "socialcx run" in message
    assert _digest(good_file) == before  # nothing opened it read-write


def test_the_cli_says_so_in_one_line(good_file, monkeypatch):
    os.truncate(good_file, good_file.stat().st_size - 4097)
    before = _digest(good_file)
    run = subprocess.run([str(VENV_BIN / "socialcx"), "--warehouse", str(good_file), "run", "--posts", "200"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "is damaged: it is truncated" in run.stderr and "Traceback" not in run.stderr
    assert _digest(good_file) == before  # `run` once wrote into the truncated file before failing


def test_a_sound_file_still_opens(good_file):
    con = connect(good_file, retries=0)
    try:
        assert con.execute("select count(*) from raw.posts").fetchall() == [(200000,)]
    finally:
        con.close()
