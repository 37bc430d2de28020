{#
    The ageing of escalated work, per brand, team and day: at the end of each day, the conversations routed to the
    team that were still unanswered, by how long they had waited, with the day's breaches and the median age of what
    was open. Days run from the first conversation to the data's now; a conversation waits at most
    backlog_max_age_days (then it is abandoned, as in the backlog).
#}
-- Days are the session time zone's days (UTC: profiles.yml), as before. Each escalation's times are taken once as
-- plain timestamps of that zone, so that the day rows below (3.5M at 5M posts) compare and subtract plain
-- timestamps: on the zone-aware ones DuckDB converted each through its time-zone library, and the model's query
-- took 1.4-1.7 s at 5M posts against 0.84-0.89 s
with escalations as (
    select
        *,
        first_inbound_at::date as opened_date,
        cast(first_inbound_at as timestamp) as opened_time,
        cast(first_response_at as timestamp) as answered_time
    from {{ ref('fct_escalations') }}
),

as_of as (
    select cast(as_of_at as timestamp) as as_of_time from {{ ref('int_as_of') }}
),

open_days as (
    -- one row per conversation and day it was still unanswered at the day's end (UTC)
    select
        escalations.brand,
        escalations.team,
        escalations.conversation_id,
        escalations.opened_date,
        escalations.opened_time,
        -- the days stop where the filter below would drop them (backlog_max_age_days after the first post): the
        -- series to the data's now made 11M rows at 1M posts, of which 0.5M were kept
        cast({{ day_series(
            "cast(escalations.opened_date as timestamp)",
            "cast(least(least(coalesce(escalations.answered_time, as_of.as_of_time), as_of.as_of_time)::date, "
                ~ "escalations.opened_date + " ~ number_var('backlog_max_age_days') ~ ") as timestamp)"
        ) }} as date) as activity_date,
        escalations.answered_time,
        as_of.as_of_time
    from escalations
    cross join as_of
),

still_open as (
    select
        *,
        {{ dbt.datediff('opened_time', "least(activity_date + interval '1 day', as_of_time)", 'second') }}
            / 3600.0 as age_hours
    from open_days
    where (answered_time is null or answered_time >= activity_date + interval '1 day')
      and activity_date - opened_date <= {{ number_var('backlog_max_age_days') }}
),

breaches as (
    select brand, team, due_at::date as activity_date, count(*) as breached_count
    from escalations
    where is_breached
    group by 1, 2, 3
),

daily as (
    select
        brand,
        team,
        activity_date,
        count(*) as open_count,
        count(*) filter (where age_hours < 4) as open_under_4h,
        count(*) filter (where age_hours >= 4 and age_hours < 24) as open_4h_to_24h,
        count(*) filter (where age_hours >= 24 and age_hours < 72) as open_1d_to_3d,
        count(*) filter (where age_hours >= 72) as open_over_3d,
        {{ median('age_hours') }} as median_open_age_hours,
        max(age_hours) as max_open_age_hours
    from still_open
    group by 1, 2, 3
),

final as (
    select
        coalesce(daily.brand, breaches.brand) as brand,
        coalesce(daily.team, breaches.team) as team,
        coalesce(daily.activity_date, breaches.activity_date) as activity_date,
        coalesce(daily.open_count, 0) as open_count,
        coalesce(daily.open_under_4h, 0) as open_under_4h,
        coalesce(daily.open_4h_to_24h, 0) as open_4h_to_24h,
        coalesce(daily.open_1d_to_3d, 0) as open_1d_to_3d,
        coalesce(daily.open_over_3d, 0) as open_over_3d,
        daily.median_open_age_hours,
        daily.max_open_age_hours,
        coalesce(breaches.breached_count, 0) as breached_count
    from daily
    full outer join breaches
        on daily.brand = breaches.brand
        and daily.team = breaches.team
        and daily.activity_date = breaches.activity_date
)

select * from final
