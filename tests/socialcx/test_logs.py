"""No secret and no raw PII in logs or error output."""

from __future__ import annotations

import logging
import os
import subprocess
from datetime import UTC, datetime

import duckdb
import pytest

from socialcx.core.logs import ScrubFilter, scrub
from socialcx.core.pii import EMAIL, PHONE
from tests.support import VENV_BIN
from tests.support.x_mock_server import MockXServer

TOKEN = "tok-9f8e7d6c5b4a"


def test_scrub_masks_secrets_from_the_environment_and_pii(monkeypatch):
    monkeypatch.setenv("SOCIALCX_X_BEARER_TOKEN", TOKEN)
    monkeypatch.setenv("AIRFLOW_CONN_SOCIALCX_ALERTS_WEBHOOK", "slackwebhook://:T1%2FB2%2Fsecretpath@hooks.slack.com")
    line = (f"GET https://api.x.com/2/tweets?token={TOKEN} failed for jane.doe@example.com, call +1 415 555 0134, "
            "card 4111 1111 1111 1111; conn slackwebhook://:T1%2FB2%2Fsecretpath@hooks.slack.com")
    assert scrub(line) == ("GET https://api.x.com/2/tweets?token=*** failed for [email], call [phone], card [card]; "
                           "conn ***")


def test_the_filter_scrubs_formatted_arguments_and_tracebacks(monkeypatch):
    monkeypatch.setenv("SOCIALCX_X_BEARER_TOKEN", TOKEN)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "bad row from %s with %s", ("a@b.io", TOKEN), None)
    try:
        raise ValueError(f"cannot parse 'call me on 415-555-0134' ({TOKEN})")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert ScrubFilter().filter(record)
    assert record.getMessage() == "bad row from [email] with ***"
    assert TOKEN not in record.exc_text and "415-555-0134" not in record.exc_text and "[phone]" in record.exc_text


@pytest.mark.integration
def test_a_verbose_run_logs_no_token_and_no_personal_data(tmp_path):
    env = {**os.environ, "SOCIALCX_WAREHOUSE": str(tmp_path / "wh.duckdb"), "SOCIALCX_PUBLISH_DIR": str(tmp_path / "p"),
           "SOCIALCX_REPORTS_DIR": str(tmp_path / "r"), "SOCIALCX_X_BEARER_TOKEN": TOKEN}
    with MockXServer(token=TOKEN) as server:
        server.add_user("1", "AcmeAirCare")
        server.add_user("7", "jane")
        server.add_tweet("10", "7", "@AcmeAirCare reach me at jane.doe@example.com or 415-555-0134", datetime(2026, 10, 30, 10, tzinfo=UTC))
        env.update({"SOCIALCX_X_BASE_URL": server.url, "SOCIALCX_X_BRANDS": "AcmeAirCare", "SOCIALCX_SOURCES": "sample,x"})
        run = subprocess.run([str(VENV_BIN / "socialcx"), "-v", "run", "--posts", "1500"], env=env,
                             capture_output=True, text=True, timeout=600)
        # and an error that quotes the token: the API refuses a wrong one
        wrong = subprocess.run([str(VENV_BIN / "socialcx"), "-v", "extract", "x"],
                               env={**env, "SOCIALCX_X_BEARER_TOKEN": "tok-wrong-123456"},
                               capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert wrong.returncode == 1
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        texts = [t for (t,) in con.execute("select text from raw.posts").fetchall()]
    personal = {m.group(0) for t in texts for m in EMAIL.finditer(t)} | {m.group(0) for t in texts for m in PHONE.finditer(t)}
    assert "jane.doe@example.com" in personal and len(personal) > 10  # the world really holds personal data
    output = run.stdout + run.stderr + wrong.stdout + wrong.stderr
    assert "INFO" in run.stderr  # verbose logging was on
    leaked = sorted(p for p in personal if p in output)
    assert leaked == []
    assert TOKEN not in output and "tok-wrong-123456" not in output
