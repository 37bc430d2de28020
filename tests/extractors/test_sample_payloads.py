"""The sample world served as Mastodon and Bluesky payloads (extractors/sample/payloads.py) through the mocks:
each source loads the same conversations of a brand as the sample source does, post for post."""

from __future__ import annotations

import pandas as pd
import pytest

from extractors.bluesky.client import HttpBlueskyClient
from extractors.bluesky.extract import fetch as fetch_bluesky
from extractors.bluesky.extract import load as load_bluesky
from extractors.bluesky.extract import state as bluesky_state
from extractors.mastodon.client import HttpMastodonClient
from extractors.mastodon.extract import fetch as fetch_mastodon
from extractors.mastodon.extract import load as load_mastodon
from extractors.mastodon.extract import state as mastodon_state
from extractors.sample import payloads
from extractors.sample.generator import generate
from tests.support.bluesky_mock import MockBluesky
from tests.support.mastodon_mock import MockMastodon

BRAND = "SkyLarkAir"


@pytest.fixture(scope="module")
def world():
    return generate(1500, seed=11, end_date="2026-10-31")


def _threads(rows):
    """Each post as (its depth in the reply chain, whether the brand wrote it): the shape of the conversations."""
    parents = {post_id: parent for post_id, parent, _ in rows}

    def depth(post_id):
        return 0 if not parents.get(post_id) else 1 + depth(parents[post_id])

    return sorted((depth(post_id), inbound) for post_id, _, inbound in rows)


def test_the_sample_world_through_mastodon_loads_the_same_conversations(con, world):
    expected = world.posts[world.posts["brand"] == BRAND]
    with MockMastodon(token="sample-token-1") as mock:
        mock.load(payloads.mastodon(world, BRAND))
        client = HttpMastodonClient(access_token="sample-token-1", base_url=mock.url, backoff_seconds=0.01)
        [result] = load_mastodon(con, fetch_mastodon(client, mastodon_state(con, 0), max_pages=100), run_id="r1")
    assert (result.loaded, result.quarantined) == (len(expected), 0)
    rows = con.execute("select post_id, parent_post_id, is_inbound from raw.posts").fetchall()
    want = [(post_id, None if pd.isna(parent) else parent, inbound) for post_id, parent, inbound
            in zip(expected["post_id"], expected["parent_post_id"], expected["is_inbound"], strict=True)]
    assert _threads(rows) == _threads(want)
    assert con.execute("select count(*) from raw.posts where not is_inbound and author_id <> ?", [BRAND]).fetchone()[0] == 0


def test_the_sample_world_through_bluesky_loads_the_same_conversations(con, world):
    expected = world.posts[world.posts["brand"] == BRAND]
    payload = payloads.bluesky(world, BRAND)
    with MockBluesky(handle=payload["me"]["handle"], password="abcd-efgh-ijkl-mnop") as mock:
        mock.load(payload)
        client = HttpBlueskyClient(identifier=mock.handle, app_password="abcd-efgh-ijkl-mnop", base_url=mock.url,
                                   backoff_seconds=0.01)
        [result] = load_bluesky(con, fetch_bluesky(client, client.handle, bluesky_state(con, 0), max_pages=100),
                                run_id="r1")
    assert (result.loaded, result.quarantined) == (len(expected), 0)
    rows = con.execute("select post_id, parent_post_id, is_inbound from raw.posts").fetchall()
    want = [(post_id, None if pd.isna(parent) else parent, inbound) for post_id, parent, inbound
            in zip(expected["post_id"], expected["parent_post_id"], expected["is_inbound"], strict=True)]
    assert _threads(rows) == _threads(want)
