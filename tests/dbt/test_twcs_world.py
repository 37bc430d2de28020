"""The pipeline on a twcs-format file alone: marts filled where the data allows, empty (not failing) where not."""

from __future__ import annotations

import duckdb
import pytest

from extractors.sample.generator import generate
from extractors.sample.twcs import write_twcs
from socialcx import stages
from socialcx.core.settings import Settings

pytestmark = pytest.mark.integration


def test_twcs_file_builds_green_with_empty_crm_marts(tmp_path, monkeypatch):
    drop = tmp_path / "drop"
    world = generate(1200, seed=5)
    write_twcs(world, drop / "twcs.csv")
    for key, value in {"SOCIALCX_WAREHOUSE": tmp_path / "wh" / "w.duckdb", "SOCIALCX_PUBLISH_DIR": tmp_path / "pub",
                       "SOCIALCX_REPORTS_DIR": tmp_path / "rep", "SOCIALCX_FILE_DROP": drop}.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.setenv("SOCIALCX_SOURCES", "file")
    settings = Settings()
    results = stages.run_all(settings=settings)
    assert results[0]["quarantined"] == 0 and results[0]["loaded"] == len(world.posts)
    with duckdb.connect(str(settings.warehouse)) as con:
        counts = {t: con.execute(f"select count(*) from marts.{t}").fetchall()[0][0] for t in (
            "fct_conversations", "mart_service_performance", "mart_sentiment", "mart_customer_recovery",
            "dim_customers", "mart_retention", "mart_wallet_share", "mart_roi")}
        brands = {b for (b,) in con.execute("select brand from marts.dim_brands where not is_configured").fetchall()}
        hours = con.execute("select brand, hours_source, business_open_hour, business_close_hour, business_days "
                            "from marts.dim_brands order by brand").fetchall()
        zero_business = con.execute("select avg((first_response_business_seconds = 0)::int) from marts.fct_conversations "
                                    "where is_responded").fetchall()[0][0]
    roots = (world.posts["parent_post_id"].isna()).sum()
    assert counts["fct_conversations"] == roots
    assert counts["mart_service_performance"] > 0 and counts["mart_sentiment"] > 0
    assert counts["mart_customer_recovery"] > 0 and counts["mart_roi"] > 0
    # no CRM in a twcs file: no customers, no retention, no wallet share
    assert counts["dim_customers"] == counts["mart_retention"] == counts["mart_wallet_share"] == 0
    # the brands of the file are found; not configured, their staffed hours are inferred from their replies
    assert brands == set(world.brands["handle"])
    assert {source for _, source, *_ in hours} == {"inferred"}
    assert zero_business < 0.2  # on 09-17 UTC weekdays, most business response times read 0


def test_dbt_docs_generate_works(built):
    settings, _ = built
    stages.dbt_invoke(["docs", "generate"], settings)
    assert (settings.dbt_project_dir / "target" / "catalog.json").exists()
