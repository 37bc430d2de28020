"""The X source against a local server on 127.0.0.1 that answers like the real API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from extractors.x.client import HttpXClient, XApiError
from extractors.x.extract import extract_x
from tests.support import free_port
from tests.support.x_fake import FakeXClient
from tests.support.x_mock_server import MockXServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _world(server: MockXServer, conversations: int, start_id: int = 1000) -> None:
    server.add_user("1", "AcmeAirCare")
    server.add_user("2", "OtherAir")
    for i in range(conversations):
        customer = str(100 + i)
        server.add_user(customer, f"traveller{i}")
        root, reply = str(start_id + 2 * i), str(start_id + 2 * i + 1)
        server.add_tweet(root, customer, f"@AcmeAirCare my flight {i} is delayed", T0 + timedelta(minutes=i))
        server.add_tweet(reply, "1", f"@traveller{i} sorry, checking now ^JK", T0 + timedelta(minutes=i + 5),
                         reply_to=root)
    server.add_tweet("999999", "2", "@OtherAir unrelated brand", T0)  # not in the AcmeAirCare stream


@pytest.fixture
def server():
    with MockXServer(token="secret-token") as mock:
        yield mock


def _client(server, **kwargs) -> HttpXClient:
    waits: list[float] = []
    kwargs.setdefault("sleep", waits.append)
    client = HttpXClient(bearer_token="secret-token", base_url=server.url, **kwargs)
    client.waits = waits  # type: ignore[attr-defined]
    return client


def test_pages_through_all_results_and_maps_tweets(con, server):
    _world(server, 130)  # 260 tweets -> 3 pages of 100
    [result] = extract_x(con, _client(server), ["AcmeAirCare"], run_id="r1")
    assert (result.read, result.inserted, result.quarantined) == (260, 260, 0)
    searches = [r for r in server.requests if r["path"] == "/2/tweets/search/recent"]
    assert [r.get("next_token") for r in searches] == [None, "100", "200"]
    assert searches[0]["query"] == "(@AcmeAirCare OR from:AcmeAirCare) -is:retweet"
    assert searches[0]["expansions"] == "author_id" and "conversation_id" in searches[0]["tweet.fields"]
    reply = con.execute("select author_id, is_inbound, parent_post_id, conversation_id, brands_mentioned "
                        "from raw.posts where post_id = '1001'").fetchall()[0]
    assert reply == ("AcmeAirCare", False, "1000", "1000", None)
    root = con.execute("select author_id, author_handle, is_inbound, brands_mentioned from raw.posts "
                       "where post_id = '1000'").fetchall()[0]
    assert root == ("100", "traveller0", True, ["AcmeAirCare"])
    assert con.execute("select cursor_value from raw.extract_state where source='x' and stream='AcmeAirCare'"
                       ).fetchall() == [("1259",)]


def test_next_run_resumes_from_the_stored_since_id(con, server):
    _world(server, 10)
    extract_x(con, _client(server), ["AcmeAirCare"], run_id="r1")
    _world(server, 3, start_id=5000)
    [result] = extract_x(con, _client(server), ["AcmeAirCare"], run_id="r2")
    assert (result.read, result.inserted) == (6, 6)
    assert server.requests[-1]["since_id"] == "1019"
    [nothing] = extract_x(con, _client(server), ["AcmeAirCare"], run_id="r3")
    assert nothing.read == 0
    assert con.execute("select count(*) from raw.posts").fetchall() == [(26,)]


def test_rate_limit_waits_until_the_reset_time(con, server):
    server.rate_limit, server.window_seconds = 1, 1.0
    _world(server, 60)  # two pages: the second request hits the limit
    client = HttpXClient(bearer_token="secret-token", base_url=server.url, max_results=100)
    [result] = extract_x(con, client, ["AcmeAirCare"], run_id="r1")
    assert result.inserted == 120
    statuses = len(server.requests)
    assert statuses >= 3  # page 1, a 429, then page 2 after the reset


def test_server_errors_and_timeouts_are_retried_with_backoff(con, server):
    _world(server, 5)
    server.fail_next = [503, 502]
    server.delay_next = [0.0, 0.0, 1.5]  # the third request stalls past the client's timeout
    client = _client(server, timeout=0.5, backoff_seconds=0.25)
    [result] = extract_x(con, client, ["AcmeAirCare"], run_id="r1")
    assert result.inserted == 10
    assert client.waits == [0.25, 0.5, 1.0]


def test_persistent_failure_raises_and_commits_nothing(con, server):
    _world(server, 130)
    client = _client(server, backoff_seconds=0.01, max_retries=2)
    # first page succeeds, then the API keeps failing on the second
    original = server.answer

    def failing_after_first(path, authorization):
        if len(server.requests) >= 1:
            server.fail_next = [503]
        return original(path, authorization)

    server.answer = failing_after_first
    with pytest.raises(XApiError, match="answered 503"):
        extract_x(con, client, ["AcmeAirCare"], run_id="r1")
    assert con.execute("select count(*) from raw.posts").fetchall() == [(0,)]
    assert con.execute("select count(*) from raw.extract_state").fetchall() == [(0,)]


def test_a_wrong_token_fails_clearly_without_showing_the_token(con, server):
    _world(server, 1)
    client = HttpXClient(bearer_token="wrong-token-value", base_url=server.url, sleep=lambda s: None)
    with pytest.raises(XApiError) as failed:
        extract_x(con, client, ["AcmeAirCare"], run_id="r1")
    assert "refused the bearer token (401 Unauthorized)" in str(failed.value)
    assert "SOCIALCX_X_BEARER_TOKEN" in str(failed.value)
    assert "wrong-token-value" not in str(failed.value) and "wrong-token-value" not in repr(client)


def test_an_unreachable_api_names_it(con):
    port = free_port()
    client = HttpXClient(bearer_token="t", base_url=f"http://127.0.0.1:{port}", max_retries=1, sleep=lambda s: None)
    with pytest.raises(XApiError, match=f"X API at http://127.0.0.1:{port} unreachable after 2 attempts"):
        extract_x(con, client, ["AcmeAirCare"], run_id="r1")


def test_no_token_says_where_to_put_it():
    with pytest.raises(XApiError, match="SOCIALCX_X_BEARER_TOKEN or the password of the Airflow connection"):
        HttpXClient(bearer_token="")


def test_fake_client_serves_recorded_pages(con):
    page = {"data": [{"id": "7", "author_id": "9", "text": "@AcmeAirCare hi", "created_at": "2026-03-01T10:00:00.000Z",
                      "conversation_id": "7", "lang": "en", "public_metrics": {"like_count": 2}}],
            "includes": {"users": [{"id": "9", "username": "pat"}]}, "meta": {"result_count": 1}}
    fake = FakeXClient([page])
    [result] = extract_x(con, fake, ["AcmeAirCare"], run_id="r1")
    assert result.inserted == 1
    assert con.execute("select like_count, lang from raw.posts").fetchall() == [(2, "en")]


def test_token_comes_from_the_environment_or_the_airflow_connection(monkeypatch):
    from extractors.x.extract import bearer_token

    monkeypatch.delenv("SOCIALCX_X_BEARER_TOKEN", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_SOCIALCX_X", '{"conn_type": "http", "password": "from-connection"}')
    assert bearer_token() == "from-connection"
    monkeypatch.setenv("SOCIALCX_X_BEARER_TOKEN", "from-env")
    assert bearer_token() == "from-env"


def test_the_stage_reports_read_loaded_quarantined_for_x(settings_env, server, monkeypatch):
    from socialcx import stages

    _world(server, 3)
    monkeypatch.setenv("SOCIALCX_X_BEARER_TOKEN", "secret-token")
    monkeypatch.setenv("SOCIALCX_X_BASE_URL", server.url)
    monkeypatch.setenv("SOCIALCX_X_BRANDS", "AcmeAirCare")
    result = stages.extract("x")
    assert (result["read"], result["loaded"], result["quarantined"]) == (6, 6, 0)


def test_several_brands_one_row_per_tweet_with_every_brand_it_names(con):
    """SkyLarkAir's reply, found by NorthJetHelp's query because it names @NorthJetHelp, stays SkyLarkAir's
    reply; a customer post naming both brands keeps both, whichever stream stored it first or last."""
    with MockXServer(token="secret-token") as mock:
        mock.add_user("1", "SkyLarkAir")
        mock.add_user("2", "NorthJetHelp")
        mock.add_user("9", "flyer")
        mock.add_tweet("500", "9", "@SkyLarkAir @NorthJetHelp which of you lost my bag?", T0)
        mock.add_tweet("501", "1", "@flyer @NorthJetHelp Sorry! We have it, delivering today", T0 + timedelta(minutes=5),
                       reply_to="500")
        [result] = extract_x(con, _client(mock), ["SkyLarkAir", "NorthJetHelp"], run_id="r1")
    rows = {r[0]: r[1:] for r in con.execute(
        "select post_id, author_id, is_inbound, brands_mentioned from raw.posts order by post_id").fetchall()}
    assert rows["500"] == ("9", True, ["NorthJetHelp", "SkyLarkAir"])
    assert rows["501"] == ("SkyLarkAir", False, None)  # once stored as a customer post of @flyer's thread
    assert result.read == 2 and any("more than one brand's stream" in n for n in result.notes)
    cursors = dict(con.execute("select stream, cursor_value from raw.extract_state").fetchall())
    assert cursors == {"SkyLarkAir": "501", "NorthJetHelp": "501"}


def test_a_later_fetch_adds_a_brand_without_dropping_the_stored_one(con):
    page = {"data": [{"id": "700", "author_id": "9", "text": "@SkyLarkAir @NorthJetHelp delayed again",
                      "created_at": "2026-03-02T09:00:00.000Z"}], "includes": {"users": [{"id": "9", "username": "flyer"}]},
            "meta": {"result_count": 1}}
    extract_x(con, FakeXClient([page]), ["SkyLarkAir"], run_id="r1")
    extract_x(con, FakeXClient([page]), ["NorthJetHelp"], run_id="r2")  # another run watching only the other brand
    assert con.execute("select brands_mentioned from raw.posts").fetchall() == [(["NorthJetHelp", "SkyLarkAir"],)]


def test_authors_audience_and_engagement_are_kept(con, server):
    """The users expansion (user.fields public_metrics, verified) fills raw.authors; public_metrics of each tweet
    are an engagement observation, recorded again only when they change."""
    _world(server, 3)
    server.users["100"]["public_metrics"]["followers_count"] = 25_000
    extract_x(con, _client(server), ["AcmeAirCare"], run_id="r1")
    searches = [r for r in server.requests if r["path"] == "/2/tweets/search/recent"]
    assert "public_metrics" in searches[0]["user.fields"] and "verified" in searches[0]["user.fields"]
    assert con.execute("select author_id, handle, followers_count, following_count, is_verified from raw.authors "
                       "order by author_id").fetchall() == [
        ("100", "traveller0", 25_000, 12, False), ("101", "traveller1", 50, 12, False),
        ("102", "traveller2", 50, 12, False), ("AcmeAirCare", "AcmeAirCare", 50, 12, False)]
    assert con.execute("select count(*), sum(like_count), sum(quote_count) from raw.post_metrics").fetchone() == (6, 0, 0)
    extract_x(con, _client(server), ["AcmeAirCare"], run_id="r2")  # nothing new: no tweet fetched, nothing observed
    assert con.execute("select count(*) from raw.post_metrics").fetchone() == (6,)
