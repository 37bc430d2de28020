"""What the KPIs mean on realistic conversations, end to end (file source -> NLP -> dbt -> alerts): a
twcs-shaped file written for the project with one conversation per case a care lead would judge by hand."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from socialcx import stages
from socialcx.core.settings import Settings
from tests.support import ROOT

pytestmark = pytest.mark.integration

FIXTURE = ROOT / "tests" / "fixtures" / "file" / "twcs_outcomes.csv"

# read by hand: what each conversation's outcome is
EXPECTED = {
    "101": ("moved_to_private", True, "en"),  # complaint, "please DM us", silence: handed off, not resolved
    "201": ("moved_to_private", True, "en"),  # "please email us", customer: "ok"
    "301": ("resolved", True, "en"),  # question answered, "great, thank you so much!"
    "401": ("unresolved", True, "en"),  # the customer repeats the complaint after the answer
    "501": ("answered_no_confirmation", True, "en"),  # answered, then "ok"
    "601": ("moved_to_private", True, "es"),  # Spanish complaint (intent unknown) answered "escríbenos por DM"
    "701": ("unanswered", True, "es"),  # Spanish complaint never answered: counted, not dropped
    "801": ("resolved", True, "en"),  # two brands on one post; SkyLarkAir answered, "all sorted, thanks!"
    "901": ("not_actionable", False, "en"),  # praise
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("outcomes")
    drop = tmp / "drop"
    drop.mkdir()
    shutil.copy(FIXTURE, drop / "twcs_outcomes.csv")
    # a brand seen for the first time, with one bad day: six complaints and one reply
    lines = ["tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"]
    for i in range(6):
        lines.append(f"9{i}00,n{i},True,Mon Nov 02 0{i}:00:00 +0000 2026,@NewCoHelp my order is late and "
                     "support is useless,,")
    lines.append("9901,NewCoHelp,False,Mon Nov 02 08:00:00 +0000 2026,@n0 Sorry! Checking now,,9000")
    (drop / "newco.csv").write_text("\n".join(lines) + "\n")
    env = {"SOCIALCX_WAREHOUSE": str(tmp / "wh" / "w.duckdb"), "SOCIALCX_PUBLISH_DIR": str(tmp / "pub"),
           "SOCIALCX_REPORTS_DIR": str(tmp / "rep"), "SOCIALCX_FILE_DROP": str(drop), "SOCIALCX_SOURCES": "file"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        settings = Settings()
        results = stages.run_all(settings=settings)
        stages.release_dbt_connections()
    return settings, {r["stage"]: r for r in results}


def test_each_conversation_gets_the_outcome_a_care_lead_would_give_it(world):
    settings, _ = world
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        rows = {root: (outcome, actionable, language) for root, outcome, actionable, language in con.execute(
            "select root_post_id, outcome, is_actionable, language from marts.fct_conversations "
            "where brand in ('SkyLarkAir', 'NorthJetHelp')").fetchall()}
        brand_801 = con.execute("select brand from marts.fct_conversations where root_post_id = '801'").fetchall()
        mentions = con.execute("select brands_mentioned from raw.posts where post_id = '801'").fetchall()
        nulls = con.execute("select count(*) from marts.fct_conversations where is_actionable is null").fetchall()
    assert rows == EXPECTED
    assert brand_801 == [("SkyLarkAir",)] and sorted(mentions[0][0]) == ["NorthJetHelp", "SkyLarkAir"]
    assert nulls == [(0,)]


def test_resolution_and_handoff_rates_side_by_side(world):
    settings, _ = world
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        summary = {brand: (actionable, resolution, handoff, non_english) for brand, actionable, resolution, handoff,
                   non_english in con.execute(
            "select brand, actionable_count, resolution_rate, handoff_rate, non_english_actionable_share "
            "from marts.mart_service_summary where brand in ('SkyLarkAir', 'NorthJetHelp')").fetchall()}
        spanish = con.execute("select sum(actionable_count), sum(responded_actionable_count) from "
                              "marts.mart_service_performance where language = 'es'").fetchall()
    # SkyLarkAir: 101, 201, 501, 601, 801 actionable; resolved 801; moved 101, 201, 601; Spanish 601
    assert summary["SkyLarkAir"] == (5, pytest.approx(1 / 5), pytest.approx(3 / 5), pytest.approx(1 / 5))
    # NorthJetHelp: 301, 401, 701 actionable (901 is praise); resolved 301; moved none; Spanish 701
    assert summary["NorthJetHelp"] == (3, pytest.approx(1 / 3), 0.0, pytest.approx(1 / 3))
    assert spanish == [(2, 1)]  # response rate per language: one of the two Spanish complaints answered


def test_a_new_brands_bad_first_day_is_not_a_spike_and_alerts_still_run(world):
    settings, results = world
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        day = con.execute("select negative_count, baseline_days, is_negative_spike from marts.mart_sentiment "
                          "where brand = 'NewCoHelp'").fetchall()
        hours = con.execute("select hours_source from marts.dim_brands where brand = 'NewCoHelp'").fetchall()
    assert day == [(6, 0, False)]  # six complaints, but no baseline to compare with
    assert hours == [("default",)]  # one reply: too few to infer staffed hours
    assert results["alert"]["failed"] == []
