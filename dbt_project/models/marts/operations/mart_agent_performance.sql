{#
    Per brand, agent and week of the reply (weeks start on Monday): the agent's replies and conversations, the
    first responses credited to the agent who sent them, their next responses, how they write, and how the
    conversations they answered first turned out. Unsigned replies are agent "(unsigned)". team: from the
    optional seed agent_teams (the counts add up to team rows; medians do not, so they are per agent).

    Incremental per affected week. A week's rows read its replies and the conversations those replies answered
    first; the pre-hook lists the weeks to rebuild, in a temporary table, and deletes their rows
    (macros/incremental_changes.sql, agent_weeks()): the weeks of the replies of every conversation a change touched
    (the rule fct_conversations rebuilds by) or that still moves with time (opened within lookback_days; in a
    backfill, its days), and the weeks whose replies, first responses, handoffs, templated or personalised replies
    per brand and agent are not as many as built (a reply deleted or moved, a text that became templated, a name
    that made a reply personal). The model computes those weeks alone and appends them. changed_at is the newest
    change among the replies and first-answered conversations a row counts: the next build's mark. A change to the
    seed agent_teams needs a full refresh.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %} drop table if exists _agent_weeks {% endif %}",
            "{% if is_incremental() %} create temp table _agent_weeks as {{ agent_weeks() }} {% endif %}",
            "{% if is_incremental() %} delete from {{ this }} where reply_week in (select reply_week from _agent_weeks) {% endif %}",
        ]
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}, {{ ref('int_posts_threaded') }}, {{ ref('int_as_of') }}

with replies as (
    select *
    from (
        select *, coalesce(agent, '(unsigned)') as agent_name, date_trunc('week', replied_at)::date as reply_week
        from {{ ref('fct_replies') }}
        {% if is_incremental() %}
        -- the span of the weeks rebuilt first, on the column itself, so the scan skips what lies outside it
        where replied_at >= (select min(reply_week) from _agent_weeks)
            and replied_at < (select max(reply_week) from _agent_weeks) + 7
        {% endif %}
    ) as weekly
    {% if is_incremental() %}
    where reply_week in (select reply_week from _agent_weeks)
    {% endif %}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
),

-- the conversations each agent answered first, credited to the week of that first response
first_answers as (
    select
        replies.brand,
        replies.agent_name,
        replies.reply_week,
        count(*) filter (where conversations.is_negative_start) as negative_start_count,
        count(*) filter (where conversations.is_recovered) as recovered_count,
        count(*) filter (where conversations.is_actionable) as actionable_count,
        count(*) filter (where conversations.is_actionable and conversations.is_resolved) as resolved_count,
        max(conversations.changed_at) as changed_at
    from replies
    inner join conversations
        on replies.conversation_id = conversations.conversation_id
    where replies.is_first_response
    group by 1, 2, 3
),

activity as (
    select
        brand,
        agent_name as agent,
        reply_week,
        count(*) as reply_count,
        count(distinct conversation_id) as conversation_count,
        count(*) filter (where is_first_response) as first_response_count,
        {{ median('response_seconds') }} filter (where is_first_response) / 60.0 as median_first_response_minutes,
        {{ percentile_cont('response_seconds', '0.9') }} filter (where is_first_response) / 60.0 as p90_first_response_minutes,
        {{ median('response_business_seconds') }} filter (where is_first_response) / 60.0
            as median_first_response_business_minutes,
        count(*) filter (where not is_first_response and answers_post_id is not null) as next_response_count,
        {{ median('response_seconds') }} filter (where not is_first_response and answers_post_id is not null) / 60.0
            as median_next_response_minutes,
        {{ percentile_cont('response_seconds', '0.9') }} filter (where not is_first_response and answers_post_id is not null)
            / 60.0 as p90_next_response_minutes,
        count(*) filter (where is_handoff_request) as handoff_count,
        count(*) filter (where is_templated) as templated_count,
        count(*) filter (where is_personalized) as personalized_count,
        max(changed_at) as replies_changed_at
    from replies
    group by 1, 2, 3
),

final as (
    select
        activity.brand,
        activity.agent,
        activity.reply_week,
        activity.reply_count,
        activity.conversation_count,
        activity.first_response_count,
        activity.median_first_response_minutes,
        activity.p90_first_response_minutes,
        activity.median_first_response_business_minutes,
        activity.next_response_count,
        activity.median_next_response_minutes,
        activity.p90_next_response_minutes,
        activity.handoff_count,
        activity.templated_count,
        activity.personalized_count,
        teams.team,
        cast(activity.handoff_count as double precision) / activity.reply_count as handoff_share,
        cast(activity.templated_count as double precision) / activity.reply_count as templated_share,
        cast(activity.personalized_count as double precision) / activity.reply_count as personalized_share,
        coalesce(first_answers.negative_start_count, 0) as negative_start_count,
        coalesce(first_answers.recovered_count, 0) as recovered_count,
        cast(first_answers.recovered_count as double precision) / nullif(first_answers.negative_start_count, 0) as recovery_rate,
        coalesce(first_answers.actionable_count, 0) as actionable_count,
        coalesce(first_answers.resolved_count, 0) as resolved_count,
        cast(first_answers.resolved_count as double precision) / nullif(first_answers.actionable_count, 0) as resolution_rate,
        greatest(activity.replies_changed_at, first_answers.changed_at) as changed_at
    from activity
    left join first_answers
        on activity.brand = first_answers.brand
        and activity.agent = first_answers.agent_name
        and activity.reply_week = first_answers.reply_week
    left join {{ ref('agent_teams') }} as teams
        on activity.brand = teams.brand
        and activity.agent = teams.agent
)

select * from final
