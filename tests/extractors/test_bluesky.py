"""The Bluesky source against a local mock that answers as the AT Protocol lexicons document
(tests/support/bluesky_mock.py)."""

from __future__ import annotations

import pytest

from extractors.bluesky.client import BlueskyApiError, HttpBlueskyClient
from extractors.bluesky.extract import fetch, load, state
from tests.support import recorded_sleep
from tests.support.bluesky_mock import MockBluesky, hours_ago

PASSWORD = "abcd-efgh-ijkl-mnop"


def _client(mock: MockBluesky, **overrides) -> HttpBlueskyClient:
    sleep, waits = recorded_sleep()
    client = HttpBlueskyClient(identifier=overrides.pop("identifier", mock.handle),
                               app_password=overrides.pop("password", PASSWORD), base_url=mock.url,
                               backoff_seconds=0.01, sleep=sleep, **overrides)
    client.waits = waits
    return client


def _extract(con, client, brand=None, recheck=20, run_id="r1"):
    return load(con, fetch(client, brand or client.handle, state(con, recheck)), run_id=run_id)[0]


@pytest.fixture
def world():
    """The brand's own account; 120 mentions (two pages of 100); a reply by the brand; a thread whose root
    mentions nobody (alice's post, the brand's answer, alice's thanks: a notification of reason reply)."""
    with MockBluesky(password=PASSWORD) as mock:
        alice = mock.add_actor("alice.bsky.social")
        bob = mock.add_actor("bob.example.com", followers=5000)
        uris = {i: mock.add_post(alice if i % 2 else bob,
                                 f"@{mock.handle} parcel {i} never arrived", hours_ago(130 - i), mentions=[mock.me])
                for i in range(120)}
        uris["reply_0"] = mock.add_post(mock.me, "so sorry! please DM us", hours_ago(6), reply_to=uris[0])
        uris["root"] = mock.add_post(alice, "app keeps crashing", hours_ago(5))
        uris["answer"] = mock.add_post(mock.me, "a fix is out, please update", hours_ago(4.5), reply_to=uris["root"])
        uris["thanks"] = mock.add_post(alice, "updated, works now, thanks!", hours_ago(4), reply_to=uris["answer"])
        yield mock, uris


def test_notifications_own_posts_and_threads_load_as_posts(con, world):
    mock, uris = world
    result = _extract(con, _client(mock))
    assert (result.read, result.loaded, result.quarantined) == (124, 124, 0)  # 121 notified, 2 brand posts, 1 root
    pages = [r["query"].get("cursor") for r in mock.requests if r["method"] == "app.bsky.notification.listNotifications"]
    assert pages == [None, ["100"]]  # the second page asked for with the first page's cursor
    rows = {r[0]: r[1:] for r in con.execute(
        "select post_id, parent_post_id, author_id, author_handle, brands_mentioned, is_inbound, text "
        "from raw.posts where source = 'bluesky'").fetchall()}
    bob = mock.posts[uris[0]]["author"]["did"]
    assert rows[uris[0]] == (None, bob, "bob.example.com", [mock.handle], True,
                             f"@{mock.handle} parcel 0 never arrived")
    assert rows[uris["reply_0"]][:5] == (uris[0], mock.handle, mock.handle, None, False)
    # the root mentions nobody: fetched as the ancestor of the brand's answer; the thanks replies to the answer
    assert rows[uris["root"]][0] is None and rows[uris["thanks"]][0] == uris["answer"]
    assert all(uri.startswith("at://did:plc:") and "/app.bsky.feed.post/" in uri for uri in rows)
    assert dict(con.execute("select stream, cursor_value from raw.extract_state where source = 'bluesky'").fetchall()) == {
        "notifications": mock.posts[uris["thanks"]]["indexedAt"], "feed": mock.posts[uris["answer"]]["indexedAt"]}


def test_a_rerun_adds_nothing_and_a_new_mention_alone_is_read(con, world):
    mock, uris = world
    _extract(con, _client(mock))
    again = _extract(con, _client(mock), run_id="r2")
    # the latest posts are re-read (for deletions and engagement): read again, nothing added or changed
    assert (again.inserted, again.updated) == (0, 0)
    alice = mock.posts[uris[1]]["author"]["did"]
    new = mock.add_post(alice, f"@{mock.handle} still nothing", hours_ago(1), mentions=[mock.me])
    third = _extract(con, _client(mock), run_id="r3")
    assert (third.inserted, third.updated) == (1, 0)
    assert con.execute("select count(*) from raw.posts where post_id = ?", [new]).fetchone()[0] == 1


def test_an_expired_session_is_refreshed(con, world):
    mock, _ = world
    mock.expire_after = 2  # each access token is good for two requests
    result = _extract(con, _client(mock))
    assert result.loaded == 124
    methods = [r["method"] for r in mock.requests]
    assert methods.count("com.atproto.server.createSession") == 1
    assert methods.count("com.atproto.server.refreshSession") >= 3


def test_a_rate_limit_waits_until_its_reset_and_5xx_is_retried(con):
    with MockBluesky(password=PASSWORD, rate_limit=3, window_seconds=1.0, fail_next=[502, 503]) as mock:
        carol = mock.add_actor("carol.bsky.social")
        for i in range(3):
            mock.add_post(carol, f"@{mock.handle} hi {i}", hours_ago(3 - i), mentions=[mock.me])
        client = _client(mock, limit=1)
        result = _extract(con, client)
    assert result.loaded == 3
    # the 429 wait is read from RateLimit-Reset (a Unix time, under the 1 s window), not a guessed back-off
    assert any(0.5 < w <= 2.1 for w in client.waits)


def test_a_wrong_app_password_names_the_settings_and_never_the_password(con):
    with MockBluesky(password=PASSWORD) as mock:
        with pytest.raises(BlueskyApiError, match="SOCIALCX_BLUESKY_APP_PASSWORD") as error:
            _client(mock, password="wrong-pass-9876")
    assert "wrong-pass-9876" not in str(error.value)


def test_a_post_deleted_upstream_is_marked_deleted(con, world):
    mock, uris = world
    _extract(con, _client(mock))
    mock.delete(uris["thanks"])
    result = _extract(con, _client(mock), recheck=200, run_id="r2")
    assert any("1 post(s) deleted upstream" in note for note in result.notes)
    assert con.execute("select post_id from raw.posts where is_deleted").fetchall() == [(uris["thanks"],)]


def test_another_accounts_brand_is_watched_through_search(con, world):
    """An analyst's account watching the brand: mentions come from searchPosts (mentions=, since=), not from the
    analyst's notifications."""
    mock, uris = world
    analyst_handle = "analyst.bsky.social"
    mock.handle = analyst_handle  # the session now belongs to someone else
    mock.me = mock.add_actor(analyst_handle)
    brand = mock.posts[uris["reply_0"]]["author"]["handle"]
    result = _extract(con, _client(mock, identifier=analyst_handle), brand=brand)
    searched = [r["query"] for r in mock.requests if r["method"] == "app.bsky.feed.searchPosts"]
    assert searched and searched[0]["mentions"] == [brand]
    # the 120 mentions, the brand's two posts, the thread's root, and the thanks (a reply to the brand that does not
    # mention it: found under the brand's answer)
    assert result.loaded == 124
    assert any(r["method"] == "app.bsky.feed.getPostThread" and r["query"]["depth"] == ["6"] for r in mock.requests)
    assert con.execute("select stream from raw.extract_state where source = 'bluesky' order by stream").fetchall() == [
        ("feed",), ("search",)]


class _FakeClient:
    handle, did = "acmehelp.bsky.social", "did:plc:1"

    def list_notifications(self, cursor=None):
        good = {"uri": "at://did:plc:2/app.bsky.feed.post/3k1", "reason": "mention", "indexedAt": "2026-11-30T10:00:00Z"}
        broken = {"uri": "https://not-an-at-uri", "reason": "mention", "indexedAt": "2026-11-30T10:01:00Z"}
        return {"notifications": [broken, "not an object", good] if cursor is None else []}

    def author_feed(self, actor, cursor=None):
        return {"feed": []}

    def search_posts(self, q, since=None, cursor=None, mentions=None):
        return {"posts": []}

    def get_posts(self, uris):
        return [{"uri": u, "author": {"did": "did:plc:2", "handle": "dan.bsky.social"},
                 "record": {"text": "@acmehelp.bsky.social hi", "createdAt": "2026-11-30T09:59:00Z"}} for u in uris]

    def post_thread(self, uri, depth=0):
        return {"thread": {}}

    def get_profiles(self, actors):
        return []


def test_malformed_items_are_quarantined_and_the_good_ones_load(con):
    result = _extract(con, _FakeClient())
    assert (result.read, result.loaded, result.quarantined) == (3, 1, 2)
    assert result.reasons == {"notification without a post uri": 2}
    assert con.execute("select post_id, author_id from raw.posts").fetchall() == [
        ("at://did:plc:2/app.bsky.feed.post/3k1", "did:plc:2")]


def test_a_quote_of_the_brand_is_an_inbound_post(con):
    """Quoting the brand's post ("quote" notification) is a customer talking about it: loaded as inbound."""
    with MockBluesky(password=PASSWORD) as mock:
        brand_post = mock.add_post(mock.me, "our new app is live", hours_ago(5))
        erin = mock.add_actor("erin.bsky.social")
        quote = mock.add_post(erin, "and it logs me out every minute", hours_ago(4), reason="quote")
        result = _extract(con, _client(mock))
    assert result.loaded == 2
    assert con.execute("select post_id, is_inbound, brands_mentioned from raw.posts order by created_at").fetchall() == [
        (brand_post, False, None), (quote, True, [mock.handle])]


def test_a_reply_to_a_stored_post_needs_no_thread_fetch(con, world):
    """The brand answers a mention loaded in an earlier run: its parent is in raw, so no getPostThread call."""
    from extractors.load import stored_posts

    mock, uris = world
    _extract(con, _client(mock))
    answer = mock.add_post(mock.me, "sorry, on it", hours_ago(0.5), reply_to=uris[7])
    mock.requests.clear()
    client = _client(mock)
    fetched = fetch(client, client.handle, state(con, 0), stored=lambda ids: stored_posts(con, "bluesky", ids))
    load(con, fetched, run_id="r2")
    assert not [r for r in mock.requests if r["method"] == "app.bsky.feed.getPostThread"]
    assert con.execute("select parent_post_id from raw.posts where post_id = ?", [answer]).fetchone() == (uris[7],)


def test_authors_audience_and_engagement_growth_are_kept(con, world):
    """raw.authors holds each author's followers (getProfiles); raw.post_metrics one observation per post, and
    another only when a re-read post's counts changed."""
    mock, uris = world
    _extract(con, _client(mock))
    bob = mock.posts[uris[0]]["author"]["did"]
    assert con.execute("select handle, followers_count, following_count from raw.authors where author_id = ?",
                       [bob]).fetchall() == [("bob.example.com", 5000, 7)]
    assert con.execute("select count(*) from raw.authors").fetchone() == (3,)  # the brand, alice, bob
    assert con.execute("select count(*) from raw.post_metrics").fetchone() == (124,)
    mock.posts[uris["thanks"]]["likeCount"] = 4
    _extract(con, _client(mock), recheck=5, run_id="r2")
    assert con.execute("select like_count from raw.post_metrics where post_id = ? order by observed_at",
                       [uris["thanks"]]).fetchall() == [(0,), (4,)]
    assert con.execute("select count(*) from raw.post_metrics").fetchone() == (125,)
