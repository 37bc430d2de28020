{#
    Care-team performance per brand, day, source, category and language; the day is the one the conversation opened,
    and the backlog counts it at the end of each day it waited unanswered (up to backlog_max_age_days).

    Incremental per affected day. A day's figures read the conversations opened that day and, for the backlog, those
    opened up to backlog_max_age_days before it; the pre-hook lists the days to rebuild, in a temporary table, and
    deletes their rows (macros/incremental_changes.sql, service_days()). Those days: each day a conversation counts on
    (the day it opened and the backlog_max_age_days after) when a change touched it (the rule fct_conversations
    rebuilds by) or it still moves with time (opened within lookback_days; in a backfill, its days); the days whose
    count of conversations is not the one built (a conversation deleted, or moved to another day); the days from
    backlog_max_age_days before the as-of time on (its last complete day moves); and every day of a brand whose
    business hours' source changed. The model then computes those days alone, from the conversations that count on
    them, and appends them. changed_at is the newest change among the conversations a row counts (fct_conversations'
    changed_at): the next build's mark. What changes no post (a brand's SLA or hours, a dbt var) needs a full refresh, as
    for fct_conversations.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %} drop table if exists _service_days {% endif %}",
            "{% if is_incremental() %} create temp table _service_days as {{ service_days() }} {% endif %}",
            "{% if is_incremental() %} delete from {{ this }} where activity_date in (select activity_date from _service_days) {% endif %}",
        ]
    )
}}

-- depends_on: {{ ref('stg_raw__posts') }}, {{ ref('int_posts_enriched') }}, {{ ref('int_posts_threaded') }}

with fct_conversations as (
    select * from {{ ref('fct_conversations') }} as conversations
    {% if is_incremental() %}
    -- those that count on a day rebuilt: opened on it, or up to backlog_max_age_days before
    where exists (
        select 1 from _service_days as days
        where days.activity_date >= conversations.first_inbound_date
            and days.activity_date <= conversations.first_inbound_date + {{ number_var('backlog_max_age_days') }}
    )
    {% endif %}
),

as_of as (
    select * from {{ ref('int_as_of') }}
),

conversations as (
    select
        fct_conversations.*,
        as_of.as_of_at
    from fct_conversations
    cross join as_of
),

daily as (
    select
        brand,
        first_inbound_date as activity_date,
        source,
        primary_category as category,
        language,
        count(*) as conversation_count,
        count(*) filter (where is_actionable) as actionable_count,
        count(*) filter (where intent = 'complaint') as complaint_count,
        count(*) filter (where is_actionable and is_responded) as responded_actionable_count,
        {{ median('first_response_seconds') }} filter (where is_actionable) as median_first_response_seconds,
        {{ percentile_cont('first_response_seconds', '0.9') }} filter (where is_actionable) as p90_first_response_seconds,
        avg(first_response_seconds) filter (where is_actionable) as mean_first_response_seconds,
        {{ median('first_response_business_seconds') }} filter (where is_actionable)
            as median_first_response_business_seconds,
        {{ percentile_cont('first_response_business_seconds', '0.9') }} filter (where is_actionable)
            as p90_first_response_business_seconds,
        avg(first_response_business_seconds) filter (where is_actionable) as mean_first_response_business_seconds,
        count(*) filter (where is_actionable and not is_sla_breached) as within_sla_count,
        count(*) filter (where is_actionable and is_resolved) as resolved_count,
        count(*) filter (where outcome = 'moved_to_private') as moved_to_private_count,
        count(*) filter (where outcome = 'unresolved') as unresolved_count,
        count(*) filter (where outcome = 'answered_no_confirmation') as answered_no_confirmation_count,
        {{ median('resolution_seconds') }} filter (where is_actionable and is_resolved) as median_resolution_seconds,
        max(changed_at) as changed_at
    from conversations
    group by 1, 2, 3, 4, 5
),

backlog_days as (
    -- each unanswered actionable conversation sits in the backlog at the end of every day until it is
    -- answered, for at most backlog_max_age_days; its age is measured at the end of that day
    select
        brand,
        source,
        primary_category as category,
        language,
        -- up to the last complete day: the as-of day's end is still to come
        cast({{ day_series(
            "cast(first_inbound_date as timestamp)",
            "cast(least(coalesce(first_response_at, as_of_at)::date, first_inbound_date + "
                ~ number_var('backlog_max_age_days') ~ ", (as_of_at - interval '1 day')::date) as timestamp)"
        ) }} as date) as activity_date,
        first_inbound_at,
        first_response_at,
        changed_at
    from conversations
    where is_actionable
),

backlog as (
    select
        brand,
        activity_date,
        source,
        category,
        language,
        count(*) as backlog_count,
        count(*) filter (where age_hours < 1) as backlog_under_1h,
        count(*) filter (where age_hours >= 1 and age_hours < 4) as backlog_1h_to_4h,
        count(*) filter (where age_hours >= 4 and age_hours < 24) as backlog_4h_to_24h,
        count(*) filter (where age_hours >= 24) as backlog_1d_to_7d,
        max(changed_at) as changed_at
    from (
        select
            *,
            ({{ epoch("cast(activity_date + interval '1 day' as timestamptz)") }} - {{ epoch('first_inbound_at') }}) / 3600.0 as age_hours
        from backlog_days
        where (first_response_at is null or first_response_at >= activity_date + interval '1 day')
            and activity_date + interval '1 day' > first_inbound_at
    ) as subquery
    where age_hours <= 24 * {{ number_var('backlog_max_age_days') }}
    group by 1, 2, 3, 4, 5
),

brands as (
    select brand, hours_source from {{ ref('int_brands_resolved') }}
),

joined as (
    select
        coalesce(daily.brand, backlog.brand) as brand,
        coalesce(daily.activity_date, backlog.activity_date) as activity_date,
        coalesce(daily.source, backlog.source) as source,
        coalesce(daily.category, backlog.category) as category,
        coalesce(daily.language, backlog.language) as language,
        coalesce(daily.conversation_count, 0) as conversation_count,
        coalesce(daily.actionable_count, 0) as actionable_count,
        coalesce(daily.complaint_count, 0) as complaint_count,
        coalesce(daily.responded_actionable_count, 0) as responded_actionable_count,
        cast(daily.responded_actionable_count as double precision) / nullif(daily.actionable_count, 0) as response_rate,
        daily.median_first_response_seconds,
        daily.p90_first_response_seconds,
        daily.mean_first_response_seconds,
        daily.median_first_response_business_seconds,
        daily.p90_first_response_business_seconds,
        daily.mean_first_response_business_seconds,
        coalesce(daily.within_sla_count, 0) as within_sla_count,
        cast(daily.within_sla_count as double precision) / nullif(daily.actionable_count, 0) as within_sla_rate,
        coalesce(daily.resolved_count, 0) as resolved_count,
        cast(daily.resolved_count as double precision) / nullif(daily.actionable_count, 0) as resolution_rate,
        coalesce(daily.moved_to_private_count, 0) as moved_to_private_count,
        cast(daily.moved_to_private_count as double precision) / nullif(daily.actionable_count, 0) as handoff_rate,
        coalesce(daily.unresolved_count, 0) as unresolved_count,
        coalesce(daily.answered_no_confirmation_count, 0) as answered_no_confirmation_count,
        daily.median_resolution_seconds,
        coalesce(backlog.backlog_count, 0) as backlog_count,
        coalesce(backlog.backlog_under_1h, 0) as backlog_under_1h,
        coalesce(backlog.backlog_1h_to_4h, 0) as backlog_1h_to_4h,
        coalesce(backlog.backlog_4h_to_24h, 0) as backlog_4h_to_24h,
        coalesce(backlog.backlog_1d_to_7d, 0) as backlog_1d_to_7d,
        greatest(daily.changed_at, backlog.changed_at) as changed_at
    from daily
    full outer join backlog
        on daily.brand = backlog.brand
        and daily.activity_date = backlog.activity_date
        and daily.source = backlog.source
        and daily.category = backlog.category
        and daily.language is not distinct from backlog.language
),

final as (
    select
        joined.*,
        -- whether the business-time figures use the brand's configured, inferred or default hours
        brands.hours_source as business_hours_source
    from joined
    left join brands
        on joined.brand = brands.brand
    {% if is_incremental() %}
    where joined.activity_date in (select activity_date from _service_days)
    {% endif %}
)

select * from final
