"""Per brand, the headline figures of the audience and feedback marts from the published warehouse (or a DuckDB
file given as the first argument): wildfires and the audience of unanswered complaints, the top 3 advocates' scores,
what the biggest negative spike was about, order frequency by engagement group, the reputation and loyalty indexes;
NPS, NPS by service on social, detractors contacted within the target and their conversion; next-response medians,
the fastest and slowest agent by first response, templated shares and the recovery of templated and personalised
first replies, the worst staffing hour and the oldest open escalation per team.

    .venv/bin/python scripts/mart_figures.py [warehouse/published/socialcx.duckdb]
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from socialcx.core.settings import get_settings

QUERIES = {
    "wildfires and audience": """
        select brand, sum(wildfire_count) as wildfires, sum(unanswered_complaint_count) as unanswered_complaints,
               sum(unanswered_complaint_audience) as unanswered_complaint_audience
        from marts.mart_amplification_daily group by brand order by brand""",
    "top 3 advocates (score)": """
        select brand, string_agg(round(advocate_score, 1)::varchar, ', ' order by advocate_rank) as scores
        from marts.mart_advocates where advocate_rank <= 3 group by brand order by brand""",
    "biggest negative spike: drivers": """
        with top as (
            select brand, arg_max(activity_date, negative_count) as activity_date, max(negative_count) as negatives
            from marts.mart_sentiment where is_negative_spike group by brand
        )
        select top.brand, top.activity_date, top.negatives,
               string_agg(case when d.driver_kind = 'term' then '''' || d.driver || '''' end, ', '
                          order by d.driver_rank) as terms,
               string_agg(case when d.driver_kind = 'category' and d.driver_rank = 1
                               then d.driver || ' +' || round(d.share_change_pts)::integer || ' pts' end, '') as category
        from top join marts.mart_spike_drivers as d using (brand, activity_date)
        group by all order by top.brand""",
    "orders per customer a month, by conversations (0 / 1 / 2-3 / 4+)": """
        select brand, string_agg(round(orders_per_customer_month, 3)::varchar, ' / ' order by engagement_group)
        from marts.mart_engagement_value where tone = 'all' group by brand order by brand""",
    "reputation and loyalty (last complete month; 12-month mean)": """
        select brand, arg_max(activity_month, activity_month) as month,
               round(arg_max(reputation_index, activity_month), 1) as reputation,
               round(arg_max(loyalty_index, activity_month), 1) as loyalty,
               round(avg(reputation_index), 1) as reputation_mean, round(avg(loyalty_index), 1) as loyalty_mean
        from marts.mart_brand_health where not is_partial_month group by brand order by brand""",
    "NPS (all months)": """
        select brand, sum(responses) as responses,
               round(100.0 * (sum(promoters) - sum(detractors)) / sum(responses), 1) as nps
        from marts.mart_nps group by brand order by brand""",
    "NPS by service on social (all brands)": """
        select social_experience, sum(responses) as responses,
               round(100.0 * (sum(promoters) - sum(detractors)) / sum(responses), 1) as nps
        from marts.mart_nps_by_service_experience group by all order by 1""",
    "closed loop (all months)": """
        select brand, sum(detractors) as detractors,
               round(sum(contacted_within_target_count) / sum(detractors), 3) as contacted_within_target,
               sum(resurveyed_count) as resurveyed,
               round(sum(converted_count) / nullif(sum(resurveyed_count), 0), 3) as conversion_rate
        from marts.mart_closed_loop group by rollup (brand) order by brand nulls last""",
    "replies: next response (median min), templated share": """
        select brand,
               round(median(response_seconds) filter (where not is_first_response and answers_post_id is not null)
                     / 60.0, 1) as next_response_min,
               round(avg(is_templated::int), 3) as templated_share
        from marts.fct_replies group by brand order by brand""",
    "agents by median first response (min), at least 20 first responses": """
        with agents as (
            select brand, agent, median(response_seconds) filter (where is_first_response) / 60.0 as minutes,
                   count(*) filter (where is_first_response) as firsts
            from marts.fct_replies where agent is not null group by all having firsts >= 20
        )
        select brand, arg_min(agent, minutes) as fastest, round(min(minutes), 1) as fastest_min,
               arg_max(agent, minutes) as slowest, round(max(minutes), 1) as slowest_min
        from agents group by brand order by brand""",
    "recovery of negative starts by the first reply's style": """
        select r.brand,
               round(avg(c.is_recovered::int) filter (where r.is_templated), 3) as templated,
               round(avg(c.is_recovered::int) filter (where not r.is_templated), 3) as not_templated,
               round(avg(c.is_recovered::int) filter (where r.is_personalized), 3) as personalized,
               count(*) filter (where not r.is_templated) as not_templated_n
        from marts.fct_replies as r join marts.fct_conversations as c using (conversation_id)
        where r.is_first_response and c.is_negative_start group by r.brand order by r.brand""",
    "worst staffing hour (posts minus replies, brand's time zone)": """
        select brand, arg_max(day_of_week, unmet_demand) as iso_day, arg_max(hour_of_day, unmet_demand) as hour,
               max(unmet_demand) as posts_minus_replies
        from marts.mart_staffing group by brand order by brand""",
    "oldest open escalation per team (hours, at the data's last day)": """
        select brand, team, round(max_open_age_hours, 1) as oldest_open_hours, open_count
        from marts.mart_escalation_ageing
        where activity_date = (select max(activity_date) from marts.mart_escalation_ageing)
        order by brand, oldest_open_hours desc""",
}


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else get_settings().published_warehouse
    con = duckdb.connect(str(path), read_only=True)
    for title, query in QUERIES.items():
        cursor = con.execute(query)
        print(f"\n{title}\n  " + " | ".join(d[0] for d in cursor.description))
        for row in cursor.fetchall():
            print("  " + " | ".join(str(v) for v in row))


if __name__ == "__main__":
    main()
