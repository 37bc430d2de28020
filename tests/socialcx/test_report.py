"""The report's data: aggregates over hand-made marts, checked against figures worked out by hand."""

from __future__ import annotations

import duckdb
import pytest

from socialcx.serving.report import build_report, collect

MARTS = """
create schema marts;
create table marts.mart_sentiment (brand varchar, activity_date date, post_count int, positive_count int,
    negative_count int, net_sentiment double, is_negative_spike boolean);
create table marts.mart_customer_recovery (brand varchar, activity_month date, category varchar,
    response_speed_bucket varchar, negative_start_count int, recovered_count int);
create table marts.mart_retention (brand varchar, cohort_month date, service_experience varchar,
    recovery_status varchar, month_offset int, cohort_customers int, retained_customers int);
create table marts.mart_wallet_share (brand varchar, activity_month date, brands_used int,
    satisfaction_rank double, observed_share double);
create table marts.mart_roi (brand varchar, activity_month date, answered_contacts int, deflected_contacts double,
    call_cost_avoided double, recovered_customers int, revenue_after_recovery double, revenue_after_answer double,
    assumed_deflection_rate double, assumed_cost_per_call double, assumed_revenue_window_days int);
create table marts.mart_service_performance (brand varchar, activity_date date, source varchar, category varchar,
    language varchar, actionable_count int, responded_actionable_count int, within_sla_count int, resolved_count int,
    moved_to_private_count int, complaint_count int);
create table marts.mart_kpi_definitions (mart_name varchar, kpi varchar, kpi_label varchar, numerator_column varchar,
    denominator_column varchar, definition varchar, position int);
insert into marts.mart_kpi_definitions values
    ('mart_customer_recovery', 'recovery_rate', 'recovery rate', 'recovered_count', 'negative_start_count', 'r', 1),
    ('mart_service_performance', 'response_rate', 'response rate', 'responded_actionable_count', 'actionable_count', 'a', 2),
    ('mart_service_performance', 'within_sla_rate', 'within SLA', 'within_sla_count', 'actionable_count', 'b', 3),
    ('mart_service_performance', 'resolution_rate', 'resolved', 'resolved_count', 'actionable_count', 'c', 4),
    ('mart_service_performance', 'handoff_rate', 'moved to private', 'moved_to_private_count', 'actionable_count', 'd', 5);
create table marts.mart_amplification_daily (brand varchar, activity_date date, complaint_count int,
    wildfire_count int, unanswered_complaint_count int, unanswered_complaint_audience bigint, positive_count int,
    negative_count int, positive_reach bigint, negative_reach bigint);
create table marts.mart_advocates (brand varchar, advocate_rank int, handle varchar, followers_count bigint,
    positive_post_count int, praise_after_reply_count int, recovered_conversation_count int, spend double,
    advocate_score double);
create table marts.mart_spike_drivers (brand varchar, activity_date date, is_negative_spike boolean,
    is_wildfire_day boolean, day_posts int, driver_kind varchar, driver_rank int, driver varchar,
    share_change_pts double);
create table marts.mart_engagement_value (brand varchar, engagement_group varchar, tone varchar, customer_count int,
    period_months int, order_count int, spend double);
create table marts.mart_brand_health (brand varchar, activity_month date, is_partial_month boolean,
    reputation_index double, loyalty_index double, sentiment_score double, share_of_voice_score double,
    wildfire_score double, retention_score double, wallet_share_score double, recovery_score double);
create table marts.mart_nps (brand varchar, period_month date, responses int, promoters int, passives int,
    detractors int, nps double);
create table marts.mart_nps_by_service_experience (brand varchar, period_month date, social_experience varchar,
    responses int, promoters int, passives int, detractors int, nps double);
create table marts.mart_closed_loop (brand varchar, team varchar, response_week date, detractors int,
    contacted_count int, contacted_within_target_count int, closed_count int, resurveyed_count int,
    converted_count int, open_under_48h int, open_2_to_7_days int, open_7_to_30_days int, open_over_30_days int);
create table marts.mart_agent_performance (brand varchar, agent varchar, reply_week date, reply_count int,
    first_response_count int, median_first_response_minutes double, median_next_response_minutes double,
    templated_count int, personalized_count int, recovered_count int, negative_start_count int);
create table marts.fct_replies (brand varchar, replied_at timestamptz, response_bucket varchar);
create table marts.mart_escalation_ageing (brand varchar, team varchar, activity_date date, open_under_4h int,
    open_4h_to_24h int, open_1d_to_3d int, open_over_3d int, breached_count int);
create table marts.mart_open_queue (brand varchar, priority int, team varchar, urgency varchar, reach bigint,
    waiting_business_minutes double, minutes_left_to_sla double, last_customer_post varchar);
create table marts.mart_staffing (brand varchar, day_of_week int, hour_of_day int, customer_posts int,
    brand_replies int);
create table marts.mart_response_times_weekly (brand varchar, week_start_date date, answered_count int,
    median_first_response_minutes double, p90_first_response_minutes double,
    median_first_response_business_minutes double, p90_first_response_business_minutes double);
"""


@pytest.fixture
def published(tmp_path):
    path = tmp_path / "socialcx.duckdb"
    con = duckdb.connect(str(path))
    con.execute(MARTS)
    # brand A, week of Monday 5 January: four actionable conversations over three days and two languages, three
    # answered, two within SLA, one resolved, one moved to DM; brand B answers its one complaint
    con.execute("""insert into marts.mart_service_performance values
        ('A', '2026-01-05', 's', 'delay', 'en', 2, 2, 1, 1, 0, 2),
        ('A', '2026-01-08', 's', 'refund', 'es', 1, 0, 0, 0, 0, 1),
        ('A', '2026-01-11', 's', 'booking', 'en', 1, 1, 1, 0, 1, 0),
        ('A', '2026-01-09', 's', 'customer_service', 'en', 0, 0, 0, 0, 0, 0),
        ('B', '2026-01-06', 's', 'outage', 'en', 1, 1, 1, 1, 0, 1)""")
    con.execute("""insert into marts.mart_response_times_weekly values
        ('A', '2026-01-05', 3, 20.0, 84.0, 10.0, 26.0), ('B', '2026-01-05', 1, 2.0, 2.0, 2.0, 2.0)""")
    # two customers with two brands each: A ranked 1st by one (share 0.7) and 2nd by the other (share 0.2)
    con.execute("""insert into marts.mart_wallet_share values
        ('A', '2026-01-01', 2, 1.0, 0.7), ('A', '2026-01-01', 2, 2.0, 0.2), ('A', '2026-01-01', 1, 1.0, 1.0)""")
    # two days of one week: reach sums by week so the page can divide any selection
    con.execute("""insert into marts.mart_amplification_daily values
        ('A', '2026-01-05', 2, 1, 1, 5000, 1, 2, 11, 5001), ('A', '2026-01-07', 1, 0, 0, 0, 3, 0, 300, 0)""")
    con.execute("""insert into marts.mart_advocates values ('A', 1, 'loud_fan', 5000, 3, 1, 1, 120.0, 30.5),
        ('A', 2, 'forgotten_fan', 40, 1, 0, 1, null, 8.2)""")
    con.execute("""insert into marts.mart_spike_drivers values
        ('A', '2026-01-07', true, false, 6, 'term', 1, 'app crash', 50.0),
        ('A', '2026-01-07', true, false, 6, 'term', 2, 'login', 33.3),
        ('A', '2026-01-07', true, false, 6, 'category', 1, 'outage', 34.4),
        ('A', '2026-01-07', true, false, 6, 'category', 2, 'billing', 10.0),
        ('A', '2026-01-07', true, false, 6, 'category', 3, 'refund', 2.0)""")
    con.execute("""insert into marts.mart_brand_health values
        ('A', '2025-12-01', false, 60, 40, 50, 30, 100, 40, 50, 30), ('A', '2026-01-01', true, 10, 10, 0, 0, 0, 0, 0, 0)""")
    # two teams' detractors of one week sum into one funnel row
    con.execute("""insert into marts.mart_closed_loop values
        ('A', 'billing', '2026-01-05', 4, 3, 2, 2, 3, 2, 0, 0, 1, 1),
        ('A', 'delay', '2026-01-05', 2, 1, 1, 0, 0, 0, 1, 0, 0, 0)""")
    # an agent's two weeks add up; the queue keeps its order and its ten first per brand
    con.execute("""insert into marts.mart_agent_performance values
        ('A', 'Becky', '2026-01-05', 3, 2, 10.0, 20.0, 1, 2, 1, 2), ('A', 'Becky', '2026-01-12', 2, 1, 30.0, null, 2, 0, 0, 1),
        ('A', 'JK', '2026-01-05', 5, 4, 5.0, 7.0, 5, 0, 0, 0)""")
    con.execute("insert into marts.mart_open_queue select 'A', i, 'care', 'high', 100 - i, 10.0 * i, 60 - 10.0 * i, "
                "'@A help ' || i from range(1, 13) as t(i)")
    con.execute("""insert into marts.mart_nps_by_service_experience values
        ('A', '2026-01-01', 'ignored', 4, 0, 1, 3, -75.0), ('A', '2026-02-01', 'ignored', 2, 1, 0, 1, 0.0)""")
    con.close()
    return path


def test_agents_and_the_queue(published):
    con = duckdb.connect(str(published), read_only=True)
    data = collect(con)
    con.close()
    rows = {name: [dict(zip(d["columns"], r, strict=True)) for r in d["rows"]] for name, d in data.items()}
    # Becky's two weeks: 5 replies, 3 first responses, the median of her weekly medians (10, 30) = 20
    assert [(r["agent"], r["replies"], r["first_responses"], r["median_first_response_min"], r["templated"],
             r["recovered"], r["negative_starts"]) for r in rows["agents"]] == [
        ("Becky", 5, 3, 20.0, 3, 1, 3), ("JK", 5, 4, 5.0, 5, 0, 0)]
    assert [r["priority"] for r in rows["queue"]] == list(range(1, 11))  # the ten to answer first
    assert rows["queue"][0]["minutes_left_to_sla"] == 50 and rows["queue"][-1]["minutes_left_to_sla"] == -40


def test_nps_and_the_closed_loop(published):
    con = duckdb.connect(str(published), read_only=True)
    data = collect(con)
    con.close()
    rows = {name: [dict(zip(d["columns"], r, strict=True)) for r in d["rows"]] for name, d in data.items()}
    [week] = rows["closed_loop"]
    assert (week["detractors"], week["contacted"], week["contacted_within_target"], week["closed"],
            week["resurveyed"], week["converted"]) == (6, 4, 3, 2, 3, 2)
    assert (week["open_under_48h"], week["open_7_to_30_days"], week["open_over_30_days"]) == (1, 1, 1)
    # NPS stays as counts: the page computes 100 x (1 - 4) / 6 = -50 for January and February together
    assert [(r["period"], r["responses"], r["promoters"], r["detractors"]) for r in rows["nps_experience"]] == [
        ("2026-01-01", 4, 0, 3), ("2026-02-01", 2, 1, 1)]


def test_reach_drivers_advocates_and_health(published):
    """The new sections' data, worked out by hand; a forgotten advocate's handle never reaches the page."""
    con = duckdb.connect(str(published), read_only=True)
    data = collect(con, forgotten=lambda handle: handle == "forgotten_fan")
    con.close()
    rows = {name: [dict(zip(d["columns"], r, strict=True)) for r in d["rows"]] for name, d in data.items()}
    [week] = rows["amplification"]
    assert (week["period"], week["complaint_count"], week["wildfire_count"], week["unanswered_complaint_audience"],
            week["positive_reach"], week["negative_reach"]) == ("2026-01-05", 3, 1, 5000, 311, 5001)
    assert [(r["advocate_rank"], r["handle"]) for r in rows["advocates"]] == [(1, "loud_fan"), (2, None)]
    [day] = rows["drivers"]
    # terms quoted in rank order; the two categories that rose most, in points
    assert (day["terms"], day["categories"]) == ("'app crash', 'login'", "outage +34 pts, billing +10 pts")
    # the month still running is left out of the chart
    assert [r["period"] for r in rows["health"]] == ["2025-12-01"]


def test_collect_aggregates_by_brand_and_week(published):
    con = duckdb.connect(str(published), read_only=True)
    data = collect(con)
    con.close()
    rows = {name: [dict(zip(d["columns"], r, strict=True)) for r in d["rows"]] for name, d in data.items()}
    a_frt = rows["frt"][0]
    assert (a_frt["brand"], a_frt["period"], a_frt["answered"]) == ("A", "2026-01-05", 3)
    # the mart's weekly figures, as they are (mart_response_times_weekly's unit test works them out by hand)
    assert a_frt["median_min"] == 20.0 and a_frt["p90_min"] == pytest.approx(84.0)
    assert a_frt["median_business_min"] == 10.0 and a_frt["p90_business_min"] == pytest.approx(26.0)
    assert rows["frt"][1]["brand"] == "B" and rows["frt"][1]["median_min"] == 2.0
    # A: 4 actionable, 3 answered, 2 within SLA (the unanswered one and the 100-minute one breached)
    # A: the mart's counts for two days of one week (Monday 5 and Sunday 11 January) and two languages, summed
    assert rows["service"][0] == {"brand": "A", "period": "2026-01-05", "actionable_count": 4,
                                  "responded_actionable_count": 3, "within_sla_count": 2, "resolved_count": 1,
                                  "moved_to_private_count": 1}
    # the rates the page re-aggregates, as the catalogue declares them, in its order
    assert [(r["kpi"], r["numerator_column"], r["denominator_column"]) for r in rows["kpis"]] == [
        ("recovery_rate", "recovered_count", "negative_start_count"),
        ("response_rate", "responded_actionable_count", "actionable_count"),
        ("within_sla_rate", "within_sla_count", "actionable_count"),
        ("resolution_rate", "resolved_count", "actionable_count"),
        ("handoff_rate", "moved_to_private_count", "actionable_count")]
    # complaints only (the mart's complaint_count), by category: delay 2, refund 1; no row without complaints
    assert [(r["brand"], r["category"], r["conversations"]) for r in rows["categories"]] == [
        ("A", "delay", 2), ("A", "refund", 1), ("B", "outage", 1)]
    # one-brand customers are left out of the wallet chart; two-brand customers give one point per rank
    assert [(r["brands_used"], r["satisfaction_rank"], r["customers"], r["observed_share_sum"])
            for r in rows["wallet"]] == [(2, 1.0, 1, 0.7), (2, 2.0, 1, 0.2)]


def test_build_report_embeds_data_and_plotly_and_replaces_atomically(published, tmp_path):
    out = tmp_path / "latest"
    result = build_report(published, out, run_id="run-1")
    page = (out / "index.html").read_text()
    assert result["rows"]["frt"] == 2 and result["report"] == str(out / "index.html")
    assert "run run-1" in page
    assert "Plotly" in page and "<script src=" not in page  # the library is inline: no CDN
    assert "/*REPORT_DATA*/" not in page and '"brands":["A","B"]' in page
    assert [p.name for p in out.iterdir()] == ["index.html"]  # no temporary file left behind


def test_build_report_without_published_marts_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="socialcx publish"):
        build_report(tmp_path / "missing.duckdb", tmp_path / "latest")


def test_a_catalogue_naming_a_column_the_mart_lacks_is_refused(published):
    """The catalogue's column names reach SQL only when the mart has them: a stale or hostile catalogue row
    is an error naming the fix, never SQL."""
    con = duckdb.connect(str(published))
    con.execute("""update marts.mart_kpi_definitions set numerator_column = 'x") from pg_catalog --'
                   where kpi = 'response_rate'""")
    with pytest.raises(ValueError, match=r"lacks: rebuild the marts"):
        collect(con)
    con.close()
