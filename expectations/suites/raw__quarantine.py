"""A warning, not a gate: the share of input quarantined by the latest extract of each source.

A source whose rows are mostly rejected usually changed its format; the good rows still load, so this
must not block publishing, but someone should look.
"""

from __future__ import annotations

import great_expectations as gx

NAME = "raw__quarantine"
QUERY = """
with latest as (
    select stage, arg_max(rows_read, finished_at) as rows_read, arg_max(rows_quarantined, finished_at) as rows_quarantined
    from ops.runs where stage like 'extract_%' and status = 'success' group by stage
)
select stage, rows_quarantined / greatest(rows_read, 1) as quarantined_share from latest
"""


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "warning", "table": "ops.runs"})
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="quarantined_share", max_value={"$PARAMETER": "max_quarantined_share"}))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {"max_quarantined_share": 0.05}
