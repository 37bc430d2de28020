"""``socialcx summary``: rows per stage, the headline KPIs per brand and where the outputs are.

The KPIs are marts.mart_service_summary's columns under the mart's own names, rounded for the terminal and
never recomputed: their definitions are the mart's (dbt_project/models/marts/service/_service__models.yml).
"""

from __future__ import annotations

from socialcx.core.settings import Settings, get_settings
from socialcx.core.warehouse import open_warehouse, scalar, table_counts

HEADLINE_KPIS = """
select
    brand,
    conversation_count,
    round(response_rate, 3) as response_rate,
    round(median_first_response_minutes, 1) as median_first_response_minutes,
    round(median_first_response_business_minutes, 1) as median_first_response_business_minutes,
    round(within_sla_rate, 3) as within_sla_rate,
    round(resolution_rate, 3) as resolution_rate,
    round(handoff_rate, 3) as handoff_rate,
    round(recovery_rate, 3) as recovery_rate,
    round(non_english_actionable_share, 3) as non_english_actionable_share,
from marts.mart_service_summary
order by brand
"""


def summary(settings: Settings | None = None) -> dict[str, object]:
    """Rows per stage, headline KPIs per brand and where the outputs are."""
    settings = settings or get_settings()
    with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
        rows = {schema: table_counts(con, schema) for schema in ("raw", "enriched", "marts")}
        kpis = []
        if "mart_service_summary" in rows["marts"]:
            cursor = con.execute(HEADLINE_KPIS)
            columns = [d[0] for d in cursor.description]
            kpis = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        quarantined = scalar(con, "select count(*) from raw.quarantine")
    return {"rows": rows, "kpis": kpis, "quarantined": quarantined, "warehouse": str(settings.warehouse),
            "published": str(settings.published_warehouse), "parquet": str(settings.publish_dir / "parquet"),
            "data_docs": str(settings.reports_dir / "data_docs" / "index.html"),
            "report": str(settings.reports_dir / "latest" / "index.html")}
