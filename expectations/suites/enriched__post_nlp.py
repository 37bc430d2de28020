"""enriched.post_nlp: labels in their sets, scores in range, one row per post and pipeline version."""

from __future__ import annotations

import great_expectations as gx

NAME = "enriched__post_nlp"
QUERY = """
select source, post_id, pipeline_version, sentiment_label, sentiment_score, sentiment_confidence, intent, urgency,
       enriched_at
from enriched.post_nlp
"""
PARAMETERS = {
    "sentiment_labels": ["negative", "neutral", "positive"],
    "intents": ["complaint", "question", "request", "praise", "other", "unknown"],
    "urgencies": ["high", "medium", "low"],
}
# the ten minutes it was enriched in: a run's new posts are their own partition, not the day's bulk load
PARTITION = "epoch(enriched_at)::bigint // 600"
KEY = ("source", "post_id", "pipeline_version")


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "enriched.post_nlp"})
    e = gx.expectations
    suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=["source", "post_id", "pipeline_version"]))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="sentiment_label",
                                                        value_set={"$PARAMETER": "sentiment_labels"}))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="sentiment_score", min_value=-1, max_value=1))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="sentiment_confidence", min_value=0, max_value=1))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="intent", value_set={"$PARAMETER": "intents"}))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="urgency", value_set={"$PARAMETER": "urgencies"}))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return dict(PARAMETERS)
