from __future__ import annotations

import pandas as pd

from extractors.sample.generator import generate
from extractors.sample.world import BRANDS


def test_same_seed_gives_the_same_world_and_another_seed_does_not():
    a, b, c = generate(3000, seed=5), generate(3000, seed=5), generate(3000, seed=6)
    pd.testing.assert_frame_equal(a.posts, b.posts)
    pd.testing.assert_frame_equal(a.orders, b.orders)
    assert not a.posts["text"].equals(c.posts["text"])


def test_world_has_the_size_asked_for_and_varied_text():
    world = generate(5000, seed=1)
    assert 4900 <= len(world.posts) <= 5000
    assert world.posts["post_id"].is_unique
    inbound = world.posts[world.posts["is_inbound"]]
    assert inbound["text"].nunique() > 0.8 * len(inbound)  # thousands of distinct texts, not templates


def test_three_industries_with_competitors_and_cross_brand_spend():
    world = generate(3000, seed=2)
    assert {"airline", "telecom", "ecommerce"} <= set(world.brands["industry"])
    assert all(len(c) >= 1 for c in world.brands["competitors"])
    brands_per_customer = world.orders.groupby(["customer_id", "industry"])["brand"].nunique()
    assert (brands_per_customer >= 2).mean() > 0.5  # most customers buy from competitors too
    span = world.orders["ordered_at"].max() - world.orders["ordered_at"].min()
    assert span.days >= 330  # about twelve months of orders


def test_replies_follow_their_parent_and_some_posts_go_unanswered():
    world = generate(4000, seed=3)
    posts = world.posts.set_index("post_id")
    replies = posts[posts["parent_post_id"].notna()]
    parents = posts.loc[replies["parent_post_id"]]
    assert (replies["created_at"].to_numpy() > parents["created_at"].to_numpy()).all()
    roots = posts[posts["parent_post_id"].isna()]
    answered = set(posts[~posts["is_inbound"]]["conversation_id"])
    unanswered = set(roots.index) - answered
    assert 0.1 < len(unanswered) / len(roots) < 0.45


def test_customers_ignored_by_a_brand_stop_buying_from_it_more_often():
    world = generate(30000, seed=4)
    posts = world.posts
    roots = posts[posts["parent_post_id"].isna() & (posts["created_at"] < posts["created_at"].max() - pd.Timedelta(days=150))]
    answered = set(posts[~posts["is_inbound"]]["conversation_id"])
    roots = roots.assign(ignored=~roots["post_id"].isin(answered))
    late = world.orders[world.orders["ordered_at"] >= world.orders["ordered_at"].max() - pd.Timedelta(days=90)]
    still_buying = set(zip(late["customer_id"], late["brand"], strict=True))
    roots = roots.assign(still=[(a, b) in still_buying for a, b in zip(roots["author_id"], roots["brand"], strict=True)])
    by_experience = roots.groupby("ignored")["still"].mean()
    assert by_experience[True] < by_experience[False] - 0.05


def test_brand_replies_carry_an_agent_signature():
    world = generate(2000, seed=9)
    replies = world.posts[~world.posts["is_inbound"]]["text"]
    assert replies.str.contains(r"\s[-^][A-Z][A-Za-z]*$").all()
    assert {b.handle for b in BRANDS} == set(world.brands["handle"])


def test_non_english_posts_carry_their_own_language_and_spanish_ones_their_labels():
    from extractors.sample import phrases

    world = generate(20000, seed=3)
    posts = world.posts.set_index("post_id")
    foreign = posts[posts["lang"] != "en"]
    assert set(foreign["lang"]) <= {"es", "fr", "de", "pt", "it"} and len(foreign) > 50
    # a French post says it in French (the language used to be drawn apart from the text)
    assert foreign.loc[foreign["lang"] == "fr", "text"].str.contains("colis").all()
    labels = world.labels.set_index("post_id")
    assert set(labels.index) == set(foreign.index[foreign["lang"] == "es"]) and len(labels) > 10
    assert (labels["text"] == posts.loc[labels.index, "text"]).all()
    written = {(i, s, t, c) for i, bank in phrases.SPANISH.items() for _, s, t, c in bank}
    assert {(r.industry, r.sentiment, r.intent, r.category) for r in labels.itertuples()} <= written
