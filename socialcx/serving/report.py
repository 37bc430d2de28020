"""The KPI report: one static HTML page built from the published marts after every run.

``reports/latest/index.html`` embeds Plotly's JavaScript and the (small, pre-aggregated) chart data, so it opens
from disk with no network and no BI tool. The page filters by brand and date range in the browser: every query
here aggregates to brand x week (or day, or month) with additive counts, so the page can re-aggregate any
selection without reading the marts again. Medians and percentiles are not additive, so those charts draw one
line per brand instead of a total.

The page is written under a temporary name and moved into place, like the published marts: a browser that
reloads mid-run sees the old report or the new one.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from socialcx.core.warehouse import open_published, quote_ident

# Each dataset: a query over the published marts (schema ``marts``). Week = ISO week starting Monday.
DATASETS: dict[str, str] = {
    # first response times per brand and week, as mart_response_times_weekly computes them
    "frt": """
        select brand, week_start_date as period, median_first_response_minutes as median_min,
               p90_first_response_minutes as p90_min, median_first_response_business_minutes as median_business_min,
               p90_first_response_business_minutes as p90_business_min, answered_count as answered
        from marts.mart_response_times_weekly
        order by brand, period""",
    "sentiment": """
        select brand, activity_date as period, post_count, positive_count, negative_count, net_sentiment,
               is_negative_spike
        from marts.mart_sentiment
        order by brand, period""",
    "categories": """
        select brand, date_trunc('week', activity_date)::date as period, category,
               sum(complaint_count) as conversations
        from marts.mart_service_performance
        where complaint_count > 0
        group by all order by brand, period, category""",
    "recovery": """
        select brand, activity_month as period, response_speed_bucket as bucket,
               sum(negative_start_count) as negative_start_count, sum(recovered_count) as recovered_count
        from marts.mart_customer_recovery
        group by all order by brand, period, bucket""",
    "retention": """
        select brand, cohort_month as period, service_experience, month_offset,
               sum(cohort_customers) as cohort_customers, sum(retained_customers) as retained_customers
        from marts.mart_retention
        group by all order by brand, period, service_experience, month_offset""",
    # customers who buy the category from two or more brands (one brand has a share of 1 by definition)
    "wallet": """
        select brand, activity_month as period, brands_used, satisfaction_rank,
               count(*) as customers, sum(observed_share) as observed_share_sum
        from marts.mart_wallet_share
        where brands_used >= 2
        group by all order by brand, period, brands_used, satisfaction_rank""",
    "roi": """
        select brand, activity_month as period, answered_contacts, deflected_contacts, call_cost_avoided,
               recovered_customers, revenue_after_recovery, revenue_after_answer, assumed_deflection_rate,
               assumed_cost_per_call, assumed_revenue_window_days
        from marts.mart_roi
        order by brand, period""",
    # reach per brand and week, additive: the page divides the sums of a selection
    "amplification": """
        select brand, date_trunc('week', activity_date)::date as period, sum(complaint_count) as complaint_count,
               sum(wildfire_count) as wildfire_count, sum(unanswered_complaint_count) as unanswered_complaint_count,
               sum(unanswered_complaint_audience) as unanswered_complaint_audience,
               sum(positive_count) as positive_count, sum(negative_count) as negative_count,
               sum(positive_reach) as positive_reach, sum(negative_reach) as negative_reach
        from marts.mart_amplification_daily
        group by all order by brand, period""",
    # the top advocates of each brand over all the data (handles of forgotten people are masked by collect)
    "advocates": """
        select brand, null as period, advocate_rank, handle, followers_count, positive_post_count,
               praise_after_reply_count, recovered_conversation_count, spend, advocate_score
        from marts.mart_advocates
        where advocate_rank <= 10
        order by brand, advocate_rank""",
    # each spike or wildfire day's drivers, one line of text per day
    "drivers": """
        select brand, activity_date as period, any_value(is_negative_spike) as is_negative_spike,
               any_value(is_wildfire_day) as is_wildfire_day, any_value(day_posts) as negative_posts,
               string_agg(chr(39) || driver || chr(39), ', ' order by driver_rank) filter (where driver_kind = 'term')
                   as terms,
               string_agg(driver || ' +' || round(share_change_pts)::integer || ' pts', ', ' order by driver_rank)
                   filter (where driver_kind = 'category' and driver_rank <= 2) as categories
        from marts.mart_spike_drivers
        group by brand, activity_date order by brand, period""",
    # order frequency, basket and spend by how often customers talked with the brand (all data; additive)
    "engagement_value": """
        select brand, null as period, engagement_group, tone, customer_count,
               customer_count * period_months as customer_months, order_count, spend
        from marts.mart_engagement_value
        order by brand, engagement_group, tone""",
    # NPS counts (additive: the page computes NPS of any selection from the sums)
    "nps": """
        select brand, period_month as period, sum(responses) as responses, sum(promoters) as promoters,
               sum(detractors) as detractors
        from marts.mart_nps
        group by all order by brand, period""",
    "nps_experience": """
        select brand, period_month as period, social_experience, sum(responses) as responses,
               sum(promoters) as promoters, sum(detractors) as detractors
        from marts.mart_nps_by_service_experience
        group by all order by brand, period, social_experience""",
    # the closed loop per brand and week: the funnel's counts and the open detractors by age
    "closed_loop": """
        select brand, response_week as period, sum(detractors) as detractors, sum(contacted_count) as contacted,
               sum(contacted_within_target_count) as contacted_within_target, sum(closed_count) as closed,
               sum(resurveyed_count) as resurveyed, sum(converted_count) as converted,
               sum(open_under_48h) as open_under_48h, sum(open_2_to_7_days) as open_2_to_7_days,
               sum(open_7_to_30_days) as open_7_to_30_days, sum(open_over_30_days) as open_over_30_days
        from marts.mart_closed_loop
        group by all order by brand, period""",
    # care operations: agents (all data), response-time buckets per week, escalation ageing per day, the open queue
    # (as of now) and the staffing grid (all data)
    "agents": """
        select brand, null as period, agent, sum(reply_count) as replies, sum(first_response_count) as first_responses,
               round(median(median_first_response_minutes), 1) as median_first_response_min,
               round(median(median_next_response_minutes), 1) as median_next_response_min,
               sum(templated_count) as templated, sum(personalized_count) as personalized,
               sum(recovered_count) as recovered, sum(negative_start_count) as negative_starts
        from marts.mart_agent_performance
        group by brand, agent order by brand, replies desc, agent""",
    "response_buckets": """
        select brand, date_trunc('week', replied_at)::date as period, response_bucket as bucket, count(*) as replies
        from marts.fct_replies
        where response_bucket is not null
        group by all order by brand, period, bucket""",
    "escalations": """
        select brand, activity_date as period, team, open_under_4h, open_4h_to_24h, open_1d_to_3d, open_over_3d,
               breached_count
        from marts.mart_escalation_ageing
        order by brand, period, team""",
    "queue": """
        select brand, null as period, priority, team, urgency, reach, round(waiting_business_minutes) as waiting_min,
               round(minutes_left_to_sla) as minutes_left_to_sla, last_customer_post
        from marts.mart_open_queue
        where priority <= 10
        order by brand, priority""",
    "staffing": """
        select brand, null as period, day_of_week, hour_of_day, customer_posts, brand_replies
        from marts.mart_staffing
        order by brand, day_of_week, hour_of_day""",
    "health": """
        select brand, activity_month as period, reputation_index, loyalty_index, sentiment_score,
               share_of_voice_score, wildfire_score, retention_score, wallet_share_score, recovery_score
        from marts.mart_brand_health
        where not is_partial_month
        order by brand, period""",
}

CHARTS: list[tuple[str, str, str]] = [
    ("frt-calendar", "First response time, calendar clock",
     "Median (solid) and 90th percentile (dotted) minutes to the first brand reply, answered actionable "
     "conversations, per brand and week."),
    ("frt-business", "First response time, business hours",
     "The same, counting only each brand's opening hours (nights, weekends and holidays excluded)."),
    ("service-rates", "Response, SLA, resolution and handoff rates",
     "Shares of actionable conversations (mart_service_performance): answered at all; answered within the brand's "
     "SLA (an unanswered conversation past its target counts as a breach); resolved (the customer confirmed or "
     "thanked after the answer); moved to a private channel (DM, e-mail, phone, form, link), which is not resolved."),
    ("sentiment", "Net sentiment, with negative spikes",
     "(positive - negative) / (positive + negative) customer posts over the trailing 7 days, as mart_sentiment "
     "defines net sentiment; a red cross marks a spike day: at least spike_min_negatives negative posts, and more "
     "than the previous 7 days' mean plus spike_k standard deviations, with a baseline of enough days."),
    ("categories", "Complaint category mix",
     "Share of complaint conversations by primary category per week (top eight categories of the selection)."),
    ("recovery", "Recovery rate by response speed",
     "Conversations that started negative and ended positive, by how fast the brand first replied."),
    ("retention", "Retention by service experience",
     "Share of customers ordering from the brand k months after their first conversation with it, by how that "
     "conversation was handled."),
    ("wallet", "Wallet share against satisfaction rank",
     "Observed share of category spend (markers) by the brand's satisfaction rank among the brands a customer "
     "uses, against the Wallet Allocation Rule (lines): (1 - rank / (n + 1)) x 2 / n."),
    ("roi", "ROI per brand",
     "Call-centre cost avoided by answering on social (answered contacts x deflection rate x cost per call: the "
     "deflection rate is an assumption, shown in the tile) and gross orders of recovered customers within the "
     "revenue window after the conversation (each order once). Orders that followed, not revenue caused."),
    ("reach-sentiment", "Net sentiment, plain and weighted by reach",
     "Plain: (positive - negative) / (positive + negative) customer posts. Weighted by reach: each post counts its "
     "author's followers plus one, so a complaint heard by 10,000 people weighs more than one heard by 10."),
    ("wildfires", "Unanswered complaints: the audience that saw them, and wildfires",
     "Bars: the potential reach (author's followers plus those of known reposters and quoters) of complaints "
     "still unanswered. Labels: wildfires, complaints that spread while unanswered past the engagement or reach "
     "threshold, or grew far faster than the brand's recent complaints (mart_amplification)."),
    ("drivers", "What the spikes were about",
     "For each negative spike or wildfire day: the terms most over-represented in that day's negative posts "
     "against the brand's previous 28 days (log-odds with an informative prior), and the categories whose share "
     "rose most (percentage points)."),
    ("advocates", "Top advocates",
     "Customers to thank, amplify or invite to a referral programme, over all the data: advocate score = (positive "
     "posts + 2 x praise after a reply + 3 x recovered conversations) x (1 + log10(1 + followers)). Handles of "
     "people who asked to be forgotten are never shown."),
    ("engagement-value", "Engagement that pays: orders by social engagement",
     "CRM customers of the brand grouped by how many conversations they had with it on social, and the tone "
     "those ended on: orders per customer a month. Customers who talk more may simply be bigger customers: an "
     "association, not a cause."),
    ("nps", "Net Promoter Score",
     "NPS = 100 x (promoters (9-10) - detractors (0-6)) / answers, per brand and month, from the brand's own "
     "surveys (mart_nps)."),
    ("nps-experience", "NPS by service on social media",
     "NPS of respondents by how the brand treated them in their last conversation on social media within the 90 "
     "days before the survey: answered fast, answered slow (past SLA), ignored, or no social contact."),
    ("closed-loop", "Closing the loop with detractors",
     "Detractors; those contacted (a follow-up or a reply on social media after the answer); contacted within the "
     "target (48 hours by default); closed; answered again; converted (answered 7 or more next time)."),
    ("detractor-ageing", "Open detractors by age",
     "Detractors whose issue is not closed, by how long ago they answered (as of the data's newest post): the "
     "ageing of open issues to watch."),
    ("agents", "Agents",
     "Per agent (the reply's signature): replies, first responses credited to the agent who sent them, their median "
     "first and next response (minutes, median of weekly medians), templated and personalised replies, and the "
     "negative starts they answered first that ended positive. All data."),
    ("response-buckets", "Response-time buckets",
     "Brand replies by how long after the customer post they answered: 0-15 min, 15-60 min, 1-4 h, 4-24 h, 24 h+."),
    ("escalations", "Escalation ageing by team",
     "Conversations routed by the escalation policies and still unanswered at the end of the last day of the "
     "selection, by age; the label gives the team's breaches over the selection."),
    ("queue", "What to answer next",
     "The open actionable conversations as of the data's newest post, most urgent first, then widest reach: waiting "
     "business minutes and minutes left to the SLA (negative: breached). Up to ten per brand."),
    ("staffing", "Staffing: customer posts against replies by hour of week",
     "Customer posts minus brand replies per weekday and hour in each brand's own time zone, over all the data: "
     "red where demand outruns replies."),
    ("health", "Brand health: reputation and loyalty",
     "Reputation (solid): reach-weighted net sentiment, share of voice against competitors and wildfires. Loyalty "
     "(dotted): retention, wallet share against the Wallet Allocation Rule and recovery. Each 0-100; the weights "
     "are dbt vars (mart_brand_health)."),
]


# tables take the page's whole width
WIDE = {"drivers", "advocates", "agents", "queue"}


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 4)
    return value


# the rates the page shows and re-aggregates: those mart_service_performance declares (mart_kpi_definitions)
KPI_MART = "mart_service_performance"
KPIS = """
select mart_name, kpi, kpi_label, numerator_column, denominator_column, definition
from marts.mart_kpi_definitions
where mart_name in (?, 'mart_customer_recovery')
order by position
"""


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> dict[str, list]:
    cursor = con.execute(query, params or [])
    columns = [d[0] for d in cursor.description]
    return {"columns": columns, "rows": [[_plain(v) for v in row] for row in cursor.fetchall()]}


def _service_query(con: duckdb.DuckDBPyConnection, kpis: dict[str, list]) -> str:
    """The counts each declared rate divides, summed to brand x week: the page divides the sums of a brand and
    date selection (sum(numerator) / sum(denominator), as mart_kpi_definitions says a rate adds up)."""
    known = {name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ?",
        [KPI_MART]).fetchall()}
    counts = list(dict.fromkeys(c for row in kpis["rows"] if row[0] == KPI_MART for c in row[3:5]))
    missing = [c for c in counts if c not in known]
    if missing:
        raise ValueError(f"mart_kpi_definitions names columns {missing} that marts.{KPI_MART} lacks: rebuild the marts "
                         "(`socialcx transform`) so the catalogue and the mart come from the same dbt project")
    sums = "".join(f", sum({quote_ident(c)}) as {quote_ident(c)}" for c in counts)
    return (f"select brand, date_trunc('week', activity_date)::date as period{sums} "
            f"from marts.{quote_ident(KPI_MART)} group by all order by brand, period")


def collect(con: duckdb.DuckDBPyConnection,
            forgotten: Callable[[object], bool] | None = None) -> dict[str, dict[str, list]]:
    """Run every dataset query; each result is {columns: [...], rows: [[...], ...]} (compact in the page).
    ``forgotten`` says whether a handle belongs to someone who asked to be forgotten: their handle is masked."""
    data: dict[str, dict[str, list]] = {"kpis": _rows(con, KPIS, [KPI_MART])}
    data["service"] = _rows(con, _service_query(con, data["kpis"]))
    for name, query in DATASETS.items():
        data[name] = _rows(con, query)
    advocates = data["advocates"]
    at = advocates["columns"].index("handle")
    for row in advocates["rows"]:
        if row[at] is not None and forgotten is not None and forgotten(row[at]):
            row[at] = None
    return data


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _json_for_html(value: object) -> str:
    """JSON safe inside an HTML element: no character of it can close the element or open a comment."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _script_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(scripts: list[str]) -> str:
    """Only the page's own inline scripts run (by hash: no inline handlers, no injected script); nothing is
    fetched from anywhere. Plotly adds its own style elements, hence inline styles."""
    return ("default-src 'none'; script-src " + " ".join(_script_hash(s) for s in scripts)
            + "; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; base-uri 'none'; "
            "form-action 'none'")


def render(data: dict[str, dict[str, list]], *, run_id: str | None, generated_at: str) -> str:
    charted = [dataset for name, dataset in data.items() if name != "kpis"]  # kpis: definitions, not figures
    brands = sorted({str(row[0]) for dataset in charted for row in dataset["rows"] if row[0] is not None})
    periods = [row[1] for dataset in charted for row in dataset["rows"] if row[1]]  # all-data sets have none
    meta = {"brands": brands, "first": min(periods, default=None), "last": max(periods, default=None),
            "run_id": run_id, "generated_at": generated_at,
            "charts": [{"id": cid, "title": title} for cid, title, _ in CHARTS]}
    sections = "\n".join(
        f'<section class="card{" wide" if cid in WIDE else ""}"><h2>{html.escape(title)}</h2><p class="help">{html.escape(help_text)}</p>'
        f'<div class="chart" id="chart-{html.escape(cid)}" data-chart="{html.escape(cid)}"></div></section>'
        for cid, title, help_text in CHARTS
    )
    template = (Path(__file__).parent / "report_template.html").read_text()
    page = (template.replace("<!--CHARTS-->", sections, 1)
            .replace("<!--GENERATED-->", html.escape(f"run {run_id or '-'}, generated {generated_at}"), 1))
    plotly = _plotly_js()
    code = page.split('<script id="report-data" type="application/json">', 1)[1].split("<script>", 1)[1]
    code = code.split("</script>", 1)[0]
    head, rest = page.split("/*PLOTLY_JS*/", 1)
    page = head + plotly + rest  # Plotly's code is searched no further
    before, after = page.rsplit("/*REPORT_DATA*/", 1)
    page = before + _json_for_html({"meta": meta, "data": data}) + after
    return page.replace("/*CSP*/", content_security_policy([plotly, code]), 1)


def build_report(published: Path, out_dir: Path, *, run_id: str | None = None,
                 forgotten: Callable[[object], bool] | None = None) -> dict[str, object]:
    """Write ``out_dir/index.html`` from the published DuckDB file; returns where and how much. ``forgotten``:
    the erasure register's test for a person (their handle is never shown)."""
    if not published.exists():
        raise FileNotFoundError(f"no published marts at {published}: run `socialcx publish` (or `socialcx run`) "
                                "before `socialcx report`")
    con = open_published(published)
    try:
        data = collect(con, forgotten)
    finally:
        con.close()
    generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = render(data, run_id=run_id, generated_at=generated_at)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    temporary = out_dir / f"index.html.tmp-{os.getpid()}"
    temporary.write_text(html, encoding="utf-8")
    os.replace(temporary, target)
    return {"report": str(target), "bytes": target.stat().st_size,
            "rows": {name: len(dataset["rows"]) for name, dataset in data.items()}}
