"""marts.mart_amplification: one row per conversation, reach and engagement that add up."""

from __future__ import annotations

import great_expectations as gx

NAME = "marts__mart_amplification"
QUERY = """
select conversation_id, engagement_count, potential_reach, engagement_while_unanswered,
       potential_reach >= coalesce(author_followers, 0) as reach_holds_the_author,
       reach_while_unanswered <= potential_reach as unanswered_reach_within_reach,
       engagement_before_reply is null or is_responded as before_reply_only_when_answered,
       not is_wildfire or is_negative_start as wildfire_is_a_complaint,
       first_inbound_at::date as opened_on
from marts.mart_amplification
"""
PARTITION = "opened_on"
KEY = ("conversation_id",)


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "marts.mart_amplification"})
    e = gx.expectations
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column="conversation_id"))
    for column in ("engagement_count", "potential_reach", "engagement_while_unanswered"):
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=column))
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    # (engagement after the reply may be negative: likes and reposts can be withdrawn, and the mart says so)
    for check in ("reach_holds_the_author", "unanswered_reach_within_reach", "before_reply_only_when_answered",
                  "wildfire_is_a_complaint"):
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column=check, value_set=[True]))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {}
