"""Every post that is not deleted has an enrichment of the pipeline version in use."""

from __future__ import annotations

import great_expectations as gx

NAME = "enriched__coverage"
QUERY = """
select count(*) filter (where e.post_id is null) as unenriched_posts, count(*) as posts
from raw.posts as p
left join (select distinct source, post_id from enriched.post_nlp) as e
    on p.source = e.source and p.post_id = e.post_id
where not p.is_deleted
"""


def build(now_epoch: float) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME, meta={"severity": "critical", "table": "enriched.post_nlp"})
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="unenriched_posts", max_value={"$PARAMETER": "max_unenriched_posts"}))
    return suite


def parameters(now_epoch: float) -> dict[str, object]:
    return {"max_unenriched_posts": 0}
