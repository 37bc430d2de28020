"""The report's data: aggregates over hand-made marts, checked against figures worked out by hand."""

from __future__ import annotations

import duckdb
import pytest

from socialcx.report import build_report, collect

MARTS = """
create schema marts;
create table marts.fct_conversations (brand varchar, first_inbound_date date, is_actionable boolean,
    is_responded boolean, is_sla_breached boolean, first_response_seconds double,
    first_response_business_seconds double, intent varchar, primary_category varchar);
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
    moved_to_private_count int);
"""


@pytest.fixture
def published(tmp_path):
    path = tmp_path / "socialcx.duckdb"
    con = duckdb.connect(str(path))
    con.execute(MARTS)
    # brand A, week of Monday 2026-0105: answered in 10, 20 and 100 minutes (business 5, 10, 30); one actionable
    # conversation unanswered and past its SLA; one praise (not actionable). Brand B answers once, in 2 minutes.
    con.execute("""insert into marts.fct_conversations values
        ('A', '2026-01-05', true,  true,  false,  600,  300, 'complaint', 'delay'),
        ('A', '2026-01-07', true,  true,  false, 1200,  600, 'complaint', 'delay'),
        ('A', '2026-01-11', true,  true,  true,  6000, 1800, 'question',  'booking'),
        ('A', '2026-01-08', true,  false, true,  null, null, 'complaint', 'refund'),
        ('A', '2026-01-09', false, false, false, null, null, 'praise',    'customer_service'),
        ('B', '2026-01-06', true,  true,  false,  120,  120, 'complaint', 'outage')""")
    con.execute("""insert into marts.mart_service_performance values
        ('A', '2026-01-05', 's', 'delay', 'en', 2, 2, 1, 1, 0),
        ('A', '2026-01-08', 's', 'refund', 'es', 1, 0, 0, 0, 0),
        ('A', '2026-01-11', 's', 'booking', 'en', 1, 1, 1, 0, 1),
        ('B', '2026-01-06', 's', 'outage', 'en', 1, 1, 1, 1, 0)""")
    # two customers with two brands each: A ranked 1st by one (share 0.7) and 2nd by the other (share 0.2)
    con.execute("""insert into marts.mart_wallet_share values
        ('A', '2026-01-01', 2, 1.0, 0.7), ('A', '2026-01-01', 2, 2.0, 0.2), ('A', '2026-01-01', 1, 1.0, 1.0)""")
    con.close()
    return path


def test_collect_aggregates_by_brand_and_week(published):
    con = duckdb.connect(str(published), read_only=True)
    data = collect(con)
    con.close()
    rows = {name: [dict(zip(d["columns"], r, strict=True)) for r in d["rows"]] for name, d in data.items()}
    a_frt = rows["frt"][0]
    assert (a_frt["brand"], a_frt["period"], a_frt["answered"]) == ("A", "2026-01-05", 3)
    assert a_frt["median_min"] == 20.0                   # 10, 20, 100 minutes
    assert a_frt["p90_min"] == pytest.approx(84.0)       # 20 + 0.8 x (100 - 20)
    assert a_frt["median_business_min"] == 10.0          # 5, 10, 30
    assert a_frt["p90_business_min"] == pytest.approx(26.0)  # 10 + 0.8 x (30 - 10)
    assert rows["frt"][1]["brand"] == "B" and rows["frt"][1]["median_min"] == 2.0
    # A: 4 actionable, 3 answered, 2 within SLA (the unanswered one and the 100-minute one breached)
    # A: the mart's counts for two days of one week (Monday 5 and Sunday 11 January) and two languages, summed
    assert rows["service"][0] == {"brand": "A", "period": "2026-01-05", "actionable": 4, "responded": 3,
                                  "within_sla": 2, "resolved": 1, "moved_to_private": 1}
    # complaints only, by primary category: delay 2, refund 1 (the question and the praise are not complaints)
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
