"""marts.mart_service_performance: rates in [0, 1], counts that add up."""

from __future__ import annotations

import great_expectations as gx

NAME = "marts__mart_service_performance"
QUERY = """
select brand, activity_date, source, category, language, response_rate, within_sla_rate, resolution_rate,
       handoff_rate,
       responded_actionable_count <= actionable_count as responded_within_actionable,
       backlog_count = backlog_under_1h + backlog_1h_to_4h + backlog_4h_to_24h + backlog_1d_to_7d as backlog_adds_up
from marts.mart_service_performance
"""
PARTITION = "activity_date"
KEY = ("brand", "activity_date", "source", "category", "language")


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "marts.mart_service_performance"})
    e = gx.expectations
    suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=["brand", "activity_date", "source", "category", "language"]))
    for column in ("response_rate", "within_sla_rate", "resolution_rate", "handoff_rate"):
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="responded_within_actionable", value_set=[True]))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="backlog_adds_up", value_set=[True]))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {}
