"""raw.posts: ids present and unique per source, timestamps parseable and not in the future, text present."""

from __future__ import annotations

import great_expectations as gx

from socialcx.core.sources import registry

NAME = "raw__posts"
QUERY = "select source, post_id, created_at, epoch(created_at) as created_epoch, length(text) as text_length from raw.posts"
PARAMETERS = {"max_future_minutes": 5}  # known_sources: every registered source that loads posts
# validated per day of posting when only some days changed (expectations/checkpoints.py)
PARTITION = "created_at::date"
KEY = ("source", "post_id")


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "raw.posts"})
    e = gx.expectations
    suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="post_id"))
    suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=["source", "post_id"]))
    suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="created_at"))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(
        column="created_epoch", max_value={"$PARAMETER": "max_created_epoch"}))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="text_length", min_value=1))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="source", value_set={"$PARAMETER": "known_sources"}))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {"known_sources": sorted(s.name for s in registry().values() if s.loads_posts),
            "max_created_epoch": now_epoch + PARAMETERS["max_future_minutes"] * 60}
