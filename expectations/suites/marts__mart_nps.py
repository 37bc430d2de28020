"""marts.mart_nps: one row per brand and month, NPS in [-100, 100], groups that add up to the answers."""

from __future__ import annotations

import great_expectations as gx

NAME = "marts__mart_nps"
QUERY = """
select brand || ':' || period_month as grain, nps, responses,
       promoters + passives + detractors = responses as groups_add_up
from marts.mart_nps
"""


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "marts.mart_nps"})
    e = gx.expectations
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column="grain"))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="nps", min_value=-100, max_value=100))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="responses", min_value=1))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="groups_add_up", value_set=[True]))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {}
