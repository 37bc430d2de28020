from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from socialcx.cli import build_parser, main
from tests.support import VENV_BIN

COMMANDS = [[], ["extract"], ["extract", "sample"], ["enrich"], ["transform"], ["validate"], ["publish"], ["run"],
            ["summary"], ["forget"], ["report"], ["docs"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "socialcx")
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: socialcx" in capsys.readouterr().out


def test_the_command_is_installed_in_the_venv():
    out = subprocess.run([str(VENV_BIN / "socialcx"), "--help"], capture_output=True, text=True, check=True).stdout
    for stage in ("extract", "enrich", "transform", "validate", "publish", "run"):
        assert stage in out


def test_report_before_anything_was_published_says_what_to_do(settings_env, capsys):
    assert main(["report"]) == 1
    message = capsys.readouterr().err
    assert str(settings_env.published_warehouse) in message and "socialcx publish" in message


def test_publish_before_anything_was_validated_says_what_to_do(settings_env, capsys):
    assert main(["publish"]) == 1
    assert "run `socialcx validate` before `socialcx publish`" in capsys.readouterr().err.replace("\n", " ")


def test_a_bad_setting_names_the_variable(settings_env, monkeypatch, capsys):
    monkeypatch.setenv("SOCIALCX_SAMPLE_POSTS", "lots")
    assert main(["extract", "sample"]) == 1
    assert "SOCIALCX_SAMPLE_POSTS='lots' is not a whole number" in capsys.readouterr().err.replace("\n", " ")


def test_a_warehouse_file_named_like_a_schema_is_refused_with_the_fix(settings_env, tmp_path, capsys):
    # DuckDB would call the database "raw" too, and every query on raw.posts would fail as ambiguous
    assert main(["--warehouse", str(tmp_path / "raw.duckdb"), "extract", "sample", "--posts", "50"]) == 1
    out = capsys.readouterr().err.replace("\n", " ")
    assert f"warehouse file {tmp_path / 'raw.duckdb'} is named like one of its schemas" in out
    assert "SOCIALCX_WAREHOUSE=warehouse/socialcx.duckdb" in out
    assert not (tmp_path / "raw.duckdb").exists()


def test_a_locked_warehouse_is_retried_then_named(settings_env, capsys):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(settings_env.warehouse)!r})
        print("locked", flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    settings_env.warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["--warehouse", str(settings_env.warehouse), "extract", "sample", "--posts", "50"]) == 1
        out = capsys.readouterr().err.replace("\n", " ")
        assert f"warehouse {settings_env.warehouse} is locked by another process after 2 retries" in out
    finally:
        holder.kill()


def test_extract_sample_honours_the_warehouse_setting(settings_env, capsys):
    assert main(["extract", "sample", "--posts", "300", "--seed", "1"]) == 0
    assert settings_env.warehouse.exists()
    assert "raw.posts" in capsys.readouterr().out
