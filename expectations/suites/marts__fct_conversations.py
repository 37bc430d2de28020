"""marts.fct_conversations: unique keys, response times >= 0, counts that reconcile, an outcome and an
actionable flag on every row (a NULL flag once dropped non-English customers out of every rate)."""

from __future__ import annotations

import great_expectations as gx

NAME = "marts__fct_conversations"
OUTCOMES = ["resolved", "moved_to_private", "unresolved", "answered_no_confirmation", "unanswered", "not_actionable"]
QUERY = """
select conversation_id, brand, first_response_seconds, first_response_business_seconds,
       first_response_business_seconds <= first_response_seconds as business_within_calendar,
       customer_post_count, brand_reply_count, post_count,
       post_count = customer_post_count + brand_reply_count as counts_reconcile,
       outcome, is_actionable, is_resolved = (outcome = 'resolved') as resolved_is_the_outcome,
       first_inbound_at::date as opened_on
from marts.fct_conversations
"""
PARTITION = "opened_on"
KEY = ("conversation_id",)


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "marts.fct_conversations"})
    e = gx.expectations
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column="conversation_id"))
    suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="brand"))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="first_response_seconds", min_value=0))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="first_response_business_seconds", min_value=0))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="business_within_calendar", value_set=[True]))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="customer_post_count", min_value=1))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="counts_reconcile", value_set=[True]))
    suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="is_actionable"))
    suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="outcome"))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="outcome", value_set=OUTCOMES))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="resolved_is_the_outcome", value_set=[True]))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {}
