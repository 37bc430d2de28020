"""The Mastodon source against a local mock that answers as the documented API does (tests/support/mastodon_mock.py)."""

from __future__ import annotations

import pytest

from extractors.mastodon.client import HttpMastodonClient, MastodonApiError, Page
from extractors.mastodon.extract import fetch, html_to_text, load, state
from tests.support import recorded_sleep
from tests.support.mastodon_mock import MockMastodon, hours_ago

TOKEN = "mastodon-token-5f4e3d2c"


def _client(mock: MockMastodon, **overrides) -> HttpMastodonClient:
    sleep, waits = recorded_sleep()
    client = HttpMastodonClient(access_token=overrides.pop("token", TOKEN), base_url=mock.url, backoff_seconds=0.01,
                                sleep=sleep, **overrides)
    client.waits = waits
    return client


def _extract(con, client, recheck: int = 20, run_id: str = "r1"):
    return load(con, fetch(client, state(con, recheck)), run_id=run_id)[0]


@pytest.fixture
def world():
    """AcmeHelp's account on the mock instance; 45 customers' mentions (two pages of 40); two answered; a thread
    whose root does not mention the brand (found through the brand's reply, whose parent it is)."""
    with MockMastodon(token=TOKEN) as mock:
        brand = mock.add_account("AcmeHelp", me=True)
        alice = mock.add_account("alice")
        bob = mock.add_account("bob", domain="other.social", followers=1200)
        ids = {}
        for i in range(45):
            ids[i] = mock.add_status(alice if i % 2 else bob, f"my order {i} is late & nobody answers",
                                     hours_ago(50 - i), mentions=[brand])
        ids["reply_0"] = mock.add_status(brand, "so sorry, please DM us your order number", hours_ago(5),
                                         reply_to=ids[0], mentions=[bob])
        ids["root"] = mock.add_status(alice, "the app crashed again", hours_ago(4))
        ids["reply_root"] = mock.add_status(brand, "we saw this, a fix is coming", hours_ago(3.5),
                                            reply_to=ids["root"], mentions=[alice])
        ids["thanks"] = mock.add_status(alice, "thanks, works now!", hours_ago(3), reply_to=ids["reply_root"],
                                        mentions=[brand])
        yield mock, ids


def test_mentions_replies_and_threads_load_as_posts(con, world):
    mock, ids = world
    result = _extract(con, _client(mock))
    assert (result.read, result.loaded, result.quarantined) == (49, 49, 0)  # 46 mentions, 2 brand posts, 1 root
    # two pages of mentions: the second asked for with the first page's oldest id, from the Link header
    notification_calls = [r["query"] for r in mock.requests if r["path"] == "/api/v1/notifications"]
    assert [q.get("max_id") for q in notification_calls] == [
        None, [mock.notifications[6]["id"]], [mock.notifications[0]["id"]]]
    assert all(q["types[]"] == ["mention"] for q in notification_calls)
    rows = {r[0]: r[1:] for r in con.execute(
        "select post_id, parent_post_id, author_id, author_handle, brands_mentioned, is_inbound, text, like_count "
        "from raw.posts where source = 'mastodon'").fetchall()}
    # a customer on another instance is known by their full acct; the HTML is text, the mention kept as @handle
    assert rows[ids[0]] == (None, "bob@other.social", "bob@other.social", ["AcmeHelp"], True,
                            "@AcmeHelp my order 0 is late & nobody answers", 0)
    # the brand's reply is the brand's (author = its handle, as the marts attribute posts)
    assert rows[ids["reply_0"]][:5] == (ids[0], "AcmeHelp", "AcmeHelp", None, False)
    # the thread's root mentions nobody: fetched through the context of the brand's reply
    assert rows[ids["root"]][:2] == (None, "alice") and rows[ids["thanks"]][0] == ids["reply_root"]
    assert con.execute("select stream, cursor_value from raw.extract_state where source = 'mastodon' order by stream"
                       ).fetchall() == [("notifications", mock.notifications[-1]["id"]), ("statuses", ids["reply_root"])]


def test_a_rerun_reads_from_the_cursors_and_adds_nothing(con, world):
    mock, ids = world
    _extract(con, _client(mock))
    before = con.execute("select count(*) from raw.posts").fetchone()[0]
    mock.requests.clear()
    again = _extract(con, _client(mock), run_id="r2")
    # the latest posts are re-read (for deletions and engagement): read again, nothing added or changed
    assert (again.inserted, again.updated) == (0, 0)
    assert con.execute("select count(*) from raw.posts").fetchone()[0] == before
    notification_calls = [r["query"] for r in mock.requests if r["path"] == "/api/v1/notifications"]
    assert notification_calls[0]["min_id"] == [mock.notifications[-1]["id"]]
    # a new mention arrives: only it is read
    brand = mock.me
    new = mock.add_status(next(a for a in mock.accounts if a != brand), "still waiting", hours_ago(1), mentions=[brand])
    third = _extract(con, _client(mock), run_id="r3")
    assert (third.inserted, third.updated) == (1, 0)
    assert con.execute("select count(*) from raw.posts where post_id = ?", [new]).fetchone()[0] == 1


def test_a_status_deleted_upstream_is_marked_deleted(con, world):
    mock, ids = world
    _extract(con, _client(mock))
    mock.delete(ids["thanks"])
    result = _extract(con, _client(mock), recheck=60, run_id="r2")
    assert any("1 post(s) deleted upstream" in note for note in result.notes)
    assert con.execute("select post_id from raw.posts where is_deleted").fetchall() == [(ids["thanks"],)]


def test_a_rate_limit_waits_until_its_reset_and_5xx_is_retried(con):
    with MockMastodon(token=TOKEN, rate_limit=3, window_seconds=1.0, fail_next=[503, 502]) as mock:
        brand = mock.add_account("AcmeHelp", me=True)
        customer = mock.add_account("carol")
        for i in range(3):
            mock.add_status(customer, f"hello {i}", hours_ago(3 - i), mentions=[brand])
        client = _client(mock, limit=1)  # one mention a page: more requests than the window allows
        result = _extract(con, client)
    assert result.loaded == 3
    statuses = [r["path"] for r in mock.requests]
    assert len(statuses) > 5  # the two failures, the 429s and the retried calls
    # the 429 wait comes from X-RateLimit-Reset (an ISO 8601 time, under the 1 s window), not a guessed back-off
    assert any(0.5 < w <= 2.1 for w in client.waits)


def test_a_refused_token_names_the_setting_and_never_the_token(con):
    with MockMastodon(token=TOKEN) as mock:
        mock.add_account("AcmeHelp", me=True)
        with pytest.raises(MastodonApiError, match="SOCIALCX_MASTODON_ACCESS_TOKEN") as error:
            _extract(con, _client(mock, token="wrong-token-123456"))
    assert "wrong-token-123456" not in str(error.value)
    assert con.execute("select count(*) from raw.extract_state").fetchone()[0] == 0


class _FakeClient:
    """A server that sends one malformed mention among good ones."""

    def verify_credentials(self):
        return {"id": "1", "acct": "AcmeHelp"}

    def notifications(self, *, min_id=None, max_id=None):
        good = {"id": "11", "type": "mention", "status": {
            "id": "500", "created_at": "2026-11-30T10:00:00.000Z", "content": "<p>@AcmeHelp hi</p>",
            "account": {"id": "2", "acct": "dan"}, "in_reply_to_id": None}}
        broken = {"id": "12", "type": "mention", "status": {"content": "<p>no id</p>"}}
        no_date = {"id": "13", "type": "mention", "status": {"id": "501", "content": "<p>@AcmeHelp x</p>",
                                                             "account": {"id": "3", "acct": "eve"}}}
        return Page([no_date, broken, good] if not (min_id or max_id) else [])

    def account_statuses(self, account_id, *, min_id=None, max_id=None):
        return Page([])

    def status(self, status_id):
        return {}

    def context(self, status_id):
        return {"ancestors": []}


def test_malformed_items_are_quarantined_and_the_good_ones_load(con):
    result = _extract(con, _FakeClient())
    assert (result.read, result.loaded, result.quarantined) == (3, 1, 2)
    assert result.reasons == {"mention without a status id": 1, "unparseable created_at": 1}
    assert con.execute("select post_id, text from raw.posts").fetchall() == [("500", "@AcmeHelp hi")]


@pytest.mark.parametrize(("content", "text"), [
    ('<p><span class="h-card" translate="no"><a href="https://a.b/@AcmeHelp" class="u-url mention">@<span>AcmeHelp'
     '</span></a></span> where is my parcel?</p>', "@AcmeHelp where is my parcel?"),
    ("<p>line one<br>line two</p><p>second &amp; last &lt;para&gt;</p>", "line one\nline two\n\nsecond & last <para>"),
    ('<p><a href="https://x.y/very/long" rel="nofollow"><span class="invisible">https://</span><span class="ellipsis">'
     'x.y/very</span><span class="invisible">/long</span></a></p>', "https://x.y/very/long"),
    ("<p><script>alert(1)</script>ok</p>", "alert(1)ok"),
])
def test_html_content_becomes_the_text_a_reader_sees(content, text):
    assert html_to_text(content) == text


def test_a_reply_to_a_stored_post_needs_no_thread_fetch(con, world):
    """The brand answers a mention loaded in an earlier run: its parent is in raw, so no context call is spent."""
    from extractors.load import stored_posts

    mock, ids = world
    _extract(con, _client(mock))
    answer = mock.add_status(mock.me, "sorry, on it", hours_ago(0.5), reply_to=ids[7], mentions=[])
    mock.requests.clear()
    fetched = fetch(_client(mock), state(con, 0), stored=lambda post_ids: stored_posts(con, "mastodon", post_ids))
    load(con, fetched, run_id="r2")
    assert not [r for r in mock.requests if r["path"].endswith("/context")]
    assert con.execute("select parent_post_id from raw.posts where post_id = ?", [answer]).fetchone() == (ids[7],)


def test_authors_audience_and_engagement_growth_are_kept(con, world):
    """raw.authors holds each account's followers; raw.post_metrics one observation per post, and another only
    when a re-read post's counts changed."""
    mock, ids = world
    _extract(con, _client(mock))
    assert con.execute("select handle, followers_count from raw.authors order by author_id").fetchall() == [
        ("AcmeHelp", 10), ("alice", 10), ("bob@other.social", 1200)]
    assert con.execute("select count(*) from raw.post_metrics").fetchone() == (49,)
    _extract(con, _client(mock), recheck=0, run_id="r2")
    assert con.execute("select count(*) from raw.post_metrics").fetchone() == (49,)  # nothing new, nothing added
    mock.statuses[ids["thanks"]]["favourites_count"] = 7  # the thanks gathers likes; re-read, it is observed again
    _extract(con, _client(mock), recheck=5, run_id="r3")
    assert con.execute("select like_count from raw.post_metrics where post_id = ? order by observed_at",
                       [ids["thanks"]]).fetchall() == [(0,), (7,)]
    assert con.execute("select count(*) from raw.post_metrics").fetchone() == (50,)
