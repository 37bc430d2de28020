"""The sample world's audience: heavy-tailed followers, engagement that grows faster while a complaint waits, and the
people who shared it; loaded once, forgotten for good."""

from __future__ import annotations

import pandas as pd
import pytest

from extractors.sample.extract import extract_sample
from extractors.sample.generator import MAX_KNOWN_SHARERS, generate


@pytest.fixture(scope="module")
def world():
    return generate(6000, seed=7, end_date="2026-10-31")


def test_followers_are_heavy_tailed(world):
    customers = world.authors[world.authors["author_id"].str.startswith("C")]["followers_count"]
    top = customers.sort_values(ascending=False)
    # most people have a small audience, a few a very large one: the top 1% hold a large part of all followers
    assert customers.median() < 100
    assert top.iloc[0] > 100 * customers.median()
    assert top.head(max(1, len(top) // 100)).sum() > 0.2 * customers.sum()


def test_the_audience_left_the_conversations_as_they_were(world):
    # drawn from its own random stream: the texts, times and orders are those of the world without it
    again = generate(6000, seed=7, end_date="2026-10-31")
    pd.testing.assert_frame_equal(world.posts, again.posts)
    assert world.posts[["post_id", "text", "created_at"]].equals(again.posts[["post_id", "text", "created_at"]])


def _first_window(world, hours: float) -> pd.DataFrame:
    """Each opening post's engagement at its observation `hours` after it, per follower, and whether it was a
    complaint answered before then."""
    posts = world.posts
    roots = posts[posts["post_id"] == posts["conversation_id"]].set_index("post_id")
    replies = posts[~posts["is_inbound"]].groupby("conversation_id")["created_at"].min()
    metrics = world.metrics.merge(roots[["created_at", "author_id", "text"]], left_on="post_id", right_index=True)
    metrics = metrics[(metrics["observed_at"] - metrics["created_at"]) == pd.Timedelta(hours=hours)]
    followers = world.authors.set_index("author_id")["followers_count"]
    metrics = metrics.assign(
        engagement=metrics["like_count"] + metrics["repost_count"] + metrics["quote_count"],
        per_follower=lambda m: m["engagement"] / (m["author_id"].map(followers) + 20),
        answered=metrics["post_id"].map(replies) <= metrics["created_at"] + pd.Timedelta(hours=hours))
    return metrics


def test_an_unanswered_complaint_gathers_engagement_faster(world):
    six = _first_window(world, 6.0)
    # complaints: "answered within 6 hours" vs "not"; the generator's boost is 4x while unanswered
    kinds = world.conversations
    complaint_ids = set(kinds.loc[kinds["kind"] == "complaint", "conversation_id"])
    complaints = six[six["post_id"].isin(complaint_ids)]
    waited = complaints[~complaints["answered"]]["per_follower"].mean()
    answered = complaints[complaints["answered"]]["per_follower"].mean()
    assert len(complaints[~complaints["answered"]]) > 50 and len(complaints[complaints["answered"]]) > 50
    assert waited > 1.5 * answered


def test_engagement_only_grows_and_the_post_carries_its_last_observation(world):
    metrics = world.metrics.sort_values(["post_id", "observed_at"])
    for column in ("like_count", "repost_count", "reply_count", "quote_count"):
        assert (metrics.groupby("post_id")[column].diff().dropna() >= 0).all(), column
    last = metrics.groupby("post_id").last()
    posts = world.posts.set_index("post_id")
    assert (posts.loc[last.index, "like_count"] == last["like_count"]).all()
    assert (posts.loc[last.index, "repost_count"] == last["repost_count"]).all()


def test_sharers_are_other_customers_each_once_per_post(world):
    shares = world.shares
    authors = world.posts.set_index("post_id")["author_id"]
    assert not (shares["author_id"] == shares["post_id"].map(authors)).any()  # nobody shares their own post
    assert not shares.duplicated(["post_id", "author_id"]).any()
    assert shares.groupby("post_id").size().max() <= MAX_KNOWN_SHARERS
    assert set(shares["kind"]) == {"repost", "quote"}
    assert set(shares["author_id"]) <= set(world.authors["author_id"])


def test_loading_the_audience_twice_adds_nothing_and_forgetting_a_sharer_sticks(con):
    from socialcx.governance.privacy import forget_author

    first = extract_sample(con, posts=1500, seed=3, end_date="2026-06-30", run_id="a")
    authors = next(r for r in first if r.table == "raw.authors")
    counts = con.execute("select (select count(*) from raw.authors), (select count(*) from raw.post_metrics), "
                         "(select count(*) from raw.post_shares)").fetchone()
    assert authors.inserted == authors.read == counts[0] and counts[1] > 0 and counts[2] > 0
    second = extract_sample(con, posts=1500, seed=3, end_date="2026-06-30", run_id="b")
    assert next(r for r in second if r.table == "raw.authors").inserted == 0
    assert next(r for r in second if r.table == "raw.authors").updated == 0
    assert "0 engagement observation(s) and 0 share(s) recorded" in next(
        r for r in second if r.table == "raw.posts").notes
    assert con.execute("select count(*) from raw.post_metrics").fetchone()[0] == counts[1]

    # the busiest sharer asks to be forgotten: their shares go, and the next extract does not store them again
    sharer, shared = con.execute("select author_id, count(*) from raw.post_shares group by 1 order by 2 desc, 1 "
                                 "limit 1").fetchone()
    forget_author(con, sharer)
    assert con.execute("select count(*) from raw.post_shares where author_id = ?", [sharer]).fetchone() == (0,)
    assert con.execute("select count(*) from raw.post_shares").fetchone()[0] <= counts[2] - shared
    extract_sample(con, posts=1500, seed=3, end_date="2026-06-30", run_id="c")
    assert con.execute("select count(*) from raw.post_shares where author_id = ?", [sharer]).fetchone() == (0,)
    assert con.execute("select count(*) from raw.authors where author_id = ?", [sharer]).fetchone() == (0,)


def nps(scores) -> float:
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def test_survey_answers_follow_the_service_on_social(world):
    """Ignored customers score lower than those answered fast; recovered ones are promoters more often than not;
    part of the detractors have follow-ups, and a closed loop makes a later 7+ likely."""
    import numpy as np

    from socialcx.core.pii import EMAIL

    surveys = world.surveys
    assert surveys["response_id"].is_unique and surveys["score"].between(0, 10).all()
    assert surveys["respondent_id"].notna().mean() > 0.6  # most answers name the CRM customer
    assert not surveys["comment"].dropna().str.contains(EMAIL).any()
    followups = world.followups
    detractors = surveys[surveys["score"] <= 6]
    assert 0.4 < len(followups) / len(detractors) < 0.8
    assert set(followups["response_id"]) <= set(detractors["response_id"])
    assert (followups["closed_at"].dropna() > followups.loc[followups["closed_at"].notna(), "contacted_at"]).all()
    assert np.isfinite(nps(surveys["score"]))
    by = surveys.groupby("experience")["score"]
    assert by.mean()["ignored"] < by.mean()["answered fast"] - 2
    assert (by.apply(lambda s: (s >= 9).mean())["recovered"]) > 0.5
    assert nps(surveys.loc[surveys["experience"] == "ignored", "score"]) < -40
    assert world.customers["email_hash"].str.fullmatch(r"[0-9a-f]{64}").all()
