"""Write a generated world's posts in the twcs ("Customer Support on Twitter") layout.

Used to test and benchmark the file source on files of any size without shipping real tweets.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from extractors.sample.generator import SampleWorld


def to_twcs(world: SampleWorld) -> pd.DataFrame:
    posts = world.posts
    author = posts["author_id"].copy()
    customers = posts["is_inbound"]
    author[customers] = author[customers].str[1:].astype(int).astype(str)  # twcs anonymises customers as numbers
    replies = posts.dropna(subset=["parent_post_id"]).groupby("parent_post_id")["post_id"].agg(",".join)
    return pd.DataFrame({
        "tweet_id": posts["post_id"],
        "author_id": author,
        "inbound": posts["is_inbound"].map({True: "True", False: "False"}),
        "created_at": posts["created_at"].dt.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "text": posts["text"],
        "response_tweet_id": posts["post_id"].map(replies),
        "in_response_to_tweet_id": posts["parent_post_id"],
    })


def write_twcs(world: SampleWorld, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    to_twcs(world).to_csv(path, index=False)
    return path
