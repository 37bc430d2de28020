"""An X API that misbehaves (loops, garbles, stalls, echoes the token) never hangs a run, never holds the
warehouse while it waits, and never puts the token in a message."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pytest

from extractors.x.client import HttpXClient, XApiError
from extractors.x.extract import extract_x
from socialcx import stages
from tests.support.x_fake import FakeXClient
from tests.support.x_mock_server import MockXServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOKEN = "bearer-from-an-airflow-connection-42"


@pytest.fixture
def server():
    with MockXServer(token=TOKEN) as mock:
        mock.add_user("1", "AcmeAirCare")
        for i in range(250):
            mock.add_user(str(100 + i), f"traveller{i}")
            mock.add_tweet(str(1000 + i), str(100 + i), f"@AcmeAirCare flight {i} delayed", T0)
        yield mock


def _client(server, waits=None, **kwargs) -> HttpXClient:
    return HttpXClient(bearer_token=TOKEN, base_url=server.url, sleep=(waits if waits is not None else []).append,
                       **kwargs)


def test_a_repeated_next_token_stops_at_once_and_writes_nothing(con, server):
    server.looping_next_token = "100"
    with pytest.raises(XApiError, match="repeated next_token '100'.*paging loops"):
        extract_x(con, _client(server), ["AcmeAirCare"], run_id="r1")
    assert len(server.requests) == 2  # once 2,536 requests in 5 s
    assert con.execute("select count(*) from raw.posts").fetchall() == [(0,)]
    assert con.execute("select count(*) from raw.extract_state").fetchall() == [(0,)]


def test_pages_are_capped_per_run(con, server):
    with pytest.raises(XApiError, match="more than 2 pages"):
        extract_x(con, _client(server, max_pages=2), ["AcmeAirCare"], run_id="r1")
    assert len(server.requests) == 2


def test_a_malformed_body_is_retried_then_named(con, server):
    waits: list[float] = []
    server.raw_next = [(200, {"Content-Type": "application/json"}, b'{"data": [ {"id": "1"')]
    [result] = extract_x(con, _client(server, waits), ["AcmeAirCare"], run_id="r1")  # retried: the next answer is fine
    assert result.inserted == 250 and waits == [1.0]
    server.raw_next = [(200, {}, b"<html>gateway</html>")] * 4
    with pytest.raises(XApiError, match="malformed JSON body.*after 4 attempts"):
        extract_x(con, _client(server, max_retries=3), ["AcmeAirCare"], run_id="r2")


def test_a_non_numeric_rate_limit_reset_backs_off_instead_of_crashing(con, server):
    waits: list[float] = []
    server.raw_next = [(429, {"x-rate-limit-reset": "soon", "Content-Type": "application/json"},
                        b'{"title": "Too Many Requests"}')]
    [result] = extract_x(con, _client(server, waits), ["AcmeAirCare"], run_id="r1")
    assert result.inserted == 250 and waits == [2.0]  # back-off for attempt 1: 1 s x 2


def test_waits_are_capped_in_total(con, server):
    server.raw_next = [(503, {}, b"{}")] * 6
    with pytest.raises(XApiError, match="waits would exceed 5s"):
        extract_x(con, _client(server, max_total_wait=5.0, max_retries=10), ["AcmeAirCare"], run_id="r1")


def test_a_non_numeric_tweet_id_is_quarantined_and_the_rest_loads(con):
    pages = [{"data": [{"id": "abc", "author_id": "7", "text": "@AcmeAirCare x", "created_at": "2026-03-02T09:00:00.000Z"},
                       {"id": "55", "author_id": "7", "text": "@AcmeAirCare y", "created_at": "2026-03-02T09:00:00.000Z"}],
              "includes": {"users": [{"id": "7", "username": "someone"}]}, "meta": {"result_count": 2}}]
    [result] = extract_x(con, FakeXClient(pages), ["AcmeAirCare"], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (2, 1, 1)
    assert con.execute("select post_id from raw.posts").fetchall() == [("55",)]
    assert con.execute("select reason from raw.quarantine").fetchall() == [("tweet id 'abc' is not numeric",)]
    assert con.execute("select cursor_value from raw.extract_state").fetchall() == [("55",)]


def test_an_echoed_token_never_reaches_the_message(server):
    server.raw_next = [(400, {"Content-Type": "application/json"},
                        ('{"title": "Bad Request", "detail": "invalid request for token ' + TOKEN + '"}').encode())]
    with pytest.raises(XApiError) as error:
        _client(server).search_recent("(@AcmeAirCare OR from:AcmeAirCare) -is:retweet")
    assert TOKEN not in str(error.value) and "***" in str(error.value)


def test_a_token_from_a_connection_is_masked_by_the_scrubber(monkeypatch):
    from socialcx.core import logs

    monkeypatch.delenv("SOCIALCX_X_BEARER_TOKEN", raising=False)
    logs.register_secret(TOKEN)  # what extractors.x.extract.bearer_token does with a connection's password
    assert logs.scrub(f"GET /x?token={TOKEN} failed") == "GET /x?token=*** failed"


def test_the_warehouse_is_free_while_the_api_makes_us_wait(settings_env, server):
    """A rate-limit wait happens before the write: another process can open the working file meanwhile."""
    server.raw_next = [(429, {"x-rate-limit-reset": "0", "Content-Type": "application/json"}, b"{}")]
    opened: list[int] = []

    def sleep_and_probe(seconds: float) -> None:
        probe = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()",
                                str(settings_env.warehouse)], capture_output=True, text=True, timeout=60)
        opened.append(probe.returncode)

    client = HttpXClient(bearer_token=TOKEN, base_url=server.url, sleep=sleep_and_probe)
    result = stages.extract("x", settings=settings_env, client=client, brands=["AcmeAirCare"])
    assert opened == [0]  # the other process got the file read-write while we waited
    assert result["loaded"] == 250
    with duckdb.connect(str(settings_env.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.posts where source = 'x'").fetchall() == [(250,)]
