"""marts.fct_posts: one row per post, labels in their sets."""

from __future__ import annotations

import great_expectations as gx

NAME = "marts__fct_posts"
QUERY = "select post_key, sentiment_label, intent, created_date from marts.fct_posts"
PARTITION = "created_date"
KEY = ("post_key",)


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "marts.fct_posts"})
    e = gx.expectations
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column="post_key"))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="sentiment_label",
                                                        value_set=["negative", "neutral", "positive"]))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {}
