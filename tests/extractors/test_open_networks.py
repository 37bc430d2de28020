"""`socialcx run` with SOCIALCX_SOURCES=bluesky,mastodon against both local mocks fills the marts."""

from __future__ import annotations

import pytest

from tests.support import bluesky_mock, mastodon_mock


@pytest.mark.integration
def test_a_run_on_bluesky_and_mastodon_fills_the_marts(tmp_path, monkeypatch):
    """Worked out by hand. Mastodon: alice's complaint answered by AcmeHelp, then her thanks (resolved); bob's
    two mentions unanswered: 3 conversations, 1 answered. Bluesky: carol's lost parcel answered, dave's outage
    unanswered: 2 conversations, 1 answered. Each brand is the account that answered."""
    import duckdb

    from socialcx import stages
    from socialcx.core.settings import get_settings

    with mastodon_mock.MockMastodon(token="masto-token-123") as masto, \
            bluesky_mock.MockBluesky(password="abcd-efgh-ijkl-mnop") as sky:
        brand = masto.add_account("AcmeHelp", me=True)
        alice, bob = masto.add_account("alice"), masto.add_account("bob", domain="other.social")
        m1 = masto.add_status(alice, "my order is two weeks late", mastodon_mock.hours_ago(30), mentions=[brand])
        r1 = masto.add_status(brand, "so sorry, it ships today", mastodon_mock.hours_ago(29.5), reply_to=m1,
                              mentions=[alice])
        masto.add_status(alice, "thanks, it arrived!", mastodon_mock.hours_ago(5), reply_to=r1, mentions=[brand])
        masto.add_status(bob, "where is my refund?", mastodon_mock.hours_ago(20), mentions=[brand])
        masto.add_status(bob, "hello?? still no refund", mastodon_mock.hours_ago(10), mentions=[brand])
        carol, dave = sky.add_actor("carol.bsky.social"), sky.add_actor("dave.bsky.social")
        b1 = sky.add_post(carol, f"@{sky.handle} my parcel is lost", bluesky_mock.hours_ago(26), mentions=[sky.me])
        sky.add_post(sky.me, "we are on it, sorry!", bluesky_mock.hours_ago(25), reply_to=b1)
        sky.add_post(dave, f"@{sky.handle} the app is down for everyone", bluesky_mock.hours_ago(3), mentions=[sky.me])
        for name, value in {
                "SOCIALCX_WAREHOUSE": str(tmp_path / "wh" / "socialcx.duckdb"),
                "SOCIALCX_PUBLISH_DIR": str(tmp_path / "published"), "SOCIALCX_REPORTS_DIR": str(tmp_path / "reports"),
                "SOCIALCX_SOURCES": "bluesky,mastodon", "SOCIALCX_MASTODON_BASE_URL": masto.url,
                "SOCIALCX_MASTODON_ACCESS_TOKEN": "masto-token-123", "SOCIALCX_BLUESKY_BASE_URL": sky.url,
                "SOCIALCX_BLUESKY_HANDLE": sky.handle, "SOCIALCX_BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop"}.items():
            monkeypatch.setenv(name, value)
        settings = get_settings()
        results = stages.run_all(settings=settings)
    assert [(r["stage"], r.get("loaded")) for r in results[:2]] == [("extract_bluesky", 3), ("extract_mastodon", 5)]
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        conversations = con.execute("""select brand, source, count(*), count(*) filter (where is_responded),
                count(*) filter (where outcome = 'resolved') from marts.fct_conversations group by all order by brand
                """).fetchall()
        summary = con.execute("select brand, conversation_count from marts.mart_service_summary order by brand").fetchall()
    assert conversations == [("AcmeHelp", "mastodon", 3, 1, 1), ("acmehelp.bsky.social", "bluesky", 2, 1, 0)]
    assert summary == [("AcmeHelp", 3), ("acmehelp.bsky.social", 2)]
