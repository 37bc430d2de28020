"""The pipeline's stages as plain functions: the CLI and the Airflow tasks both call these.

Each stage opens the warehouse itself and closes it before returning, so stages can run in separate
processes (Airflow tasks) one after another. Each returns a small dict of counts, which Airflow keeps
in XCom and the CLI prints. One module per job:

- ``runs``: run ids, stage errors, ``ops.runs`` bookkeeping;
- ``dbt``: the dbt runner; ``freshness``: dbt source freshness of the registered sources;
- ``extraction``, ``enrichment``, ``transformation``, ``validation``: the stages that are more than a call;
- ``serving``: publish, report, alert; ``governing``: forget, retain;
- ``orchestration``: every stage in order (``socialcx run``) and backfills.
"""

from socialcx.serving.summary import summary
from socialcx.stages.dbt import dbt_env, dbt_invoke, release_dbt_connections
from socialcx.stages.enrichment import enrich, enrich_chunk, enrich_collect, enrich_plan
from socialcx.stages.extraction import extract
from socialcx.stages.governing import ForgetIncomplete, forget, retain
from socialcx.stages.orchestration import backfill, run_all
from socialcx.stages.runs import StageError, ValidationFailed, new_run_id, parse_day
from socialcx.stages.serving import alert, publish, report
from socialcx.stages.transformation import transform
from socialcx.stages.validation import validate

__all__ = ["ForgetIncomplete", "StageError", "ValidationFailed", "alert", "backfill", "dbt_env", "dbt_invoke",
           "enrich", "enrich_chunk", "enrich_collect", "enrich_plan", "extract", "forget", "new_run_id", "parse_day", "publish", "release_dbt_connections", "report",
           "retain", "run_all", "summary", "transform", "validate"]
