"""The marts account for every raw post, and are as fresh as raw.

- every post that is not deleted is in fct_posts;
- the posts counted by fct_conversations are the posts of fct_posts that belong to a conversation;
- the newest post in fct_posts is the newest post in raw (the marts were rebuilt after the last extract).
"""

from __future__ import annotations

import great_expectations as gx

NAME = "marts__reconciliation"
QUERY = """
select
    (select count(*) from raw.posts where not is_deleted) as raw_posts,
    (select count(*) from marts.fct_posts) as mart_posts,
    (select count(*) from marts.fct_posts where conversation_id is not null) as posts_in_conversations,
    (select coalesce(sum(post_count), 0) from marts.fct_conversations) as conversation_post_count,
    coalesce(epoch((select max(created_at) from raw.posts where not is_deleted))
             - epoch((select max(created_at) from marts.fct_posts)), 0) as marts_lag_seconds
"""


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "marts.fct_conversations"})
    e = gx.expectations
    suite.add_expectation(e.ExpectColumnPairValuesToBeEqual(column_A="raw_posts", column_B="mart_posts"))
    suite.add_expectation(e.ExpectColumnPairValuesToBeEqual(column_A="posts_in_conversations",
                                                            column_B="conversation_post_count"))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="marts_lag_seconds",
                                                          max_value={"$PARAMETER": "max_marts_lag_seconds"}))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {"max_marts_lag_seconds": 0}
