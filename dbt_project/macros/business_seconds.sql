{#
    Seconds between two UTC instants that fall inside a brand's business hours.

    Both instants are converted to the brand's local wall-clock time; each local day between them
    contributes the overlap of [start, end] with each of that day's business periods (span_periods: rows from the
    seed business_schedules, or [open_hour, close_hour) on each business day), unless the date is a holiday. The
    arithmetic is integer minutes of a local day over a spine of periods, in SQL both targets run (no lists of
    structs, no lambdas; dialect differences in macros/cross_db.sql). Working on the wall clock is what makes a
    daylight-saving change right: a business day is open_hour to close_hour local time, whether the
    day has 23, 24 or 25 hours (the clock change happens at night, outside business hours).

    Used as a table-valued expression: call it in a model with a relation holding the columns named and brand,
    hours_team (the team whose own hours apply, null: the brand's), timezone_name, business_open_hour,
    business_close_hour, business_days and holidays.
#}
{% macro span_periods(spans) -%}
    {#- rows (span_key, day, open_minute, close_minute): each span's business periods in local minutes of an ISO
        weekday. The periods of seed business_schedules for the span's brand and hours_team (null: the brand's own
        hours) where it has any; else one period a business day from business_open_hour to business_close_hour. -#}
    select {{ spans }}.span_key, schedules.day, schedules.open_minute, schedules.close_minute
    from {{ spans }}
    inner join {{ ref('int_business_schedules') }} as schedules
        on {{ spans }}.brand = schedules.brand
        and coalesce({{ spans }}.hours_team, '') = coalesce(schedules.team, '')
    union all
    select {{ spans }}.span_key, business_day.day, {{ spans }}.business_open_hour * 60,
           {{ spans }}.business_close_hour * 60
    from {{ spans }}
    cross join unnest({{ spans }}.business_days) as business_day(day)
    where not exists (
        select 1 from {{ ref('int_business_schedules') }} as schedules
        where schedules.brand = {{ spans }}.brand and coalesce(schedules.team, '') = coalesce({{ spans }}.hours_team, '')
    )
{%- endmacro %}

{% macro business_seconds(relation, key, start_col, end_col) -%}
    with spans as (
        select
            {{ key }} as span_key,
            brand,
            hours_team,
            business_open_hour,
            business_close_hour,
            business_days,
            timezone(timezone_name, {{ start_col }}) as local_start,
            timezone(timezone_name, {{ end_col }}) as local_end,
            holidays
        from {{ relation }}
        where {{ start_col }} is not null
          and {{ end_col }} is not null
          and {{ end_col }} >= {{ start_col }}
    ),

    periods as (
        {{ span_periods('spans') }}
    ),

    days as (
        select
            spans.span_key,
            spans.local_start,
            spans.local_end,
            spans.holidays,
            {{ day_series("date_trunc('day', spans.local_start)", "date_trunc('day', spans.local_end)") }} as local_day
        from spans
    ),

    day_periods as (
        -- each day's periods (several a day, e.g. around a lunch break), none on a holiday
        select
            days.span_key,
            days.local_start,
            days.local_end,
            days.local_day,
            periods.open_minute,
            periods.close_minute
        from days
        inner join periods
            on days.span_key = periods.span_key
            and periods.day = extract(isodow from days.local_day)
        where not coalesce({{ list_has('days.holidays', 'cast(days.local_day as date)') }}, false)
    ),

    period_overlaps as (
        select
            span_key,
            greatest(
                0,
                {{ epoch("least(local_end, local_day + close_minute * interval '1 minute')") }}
                - {{ epoch("greatest(local_start, local_day + open_minute * interval '1 minute')") }}
            ) as seconds
        from day_periods
    )

    select
        spans.span_key,
        cast(coalesce(sum(period_overlaps.seconds), 0) as bigint) as business_seconds
    from spans
    left join period_overlaps
        on spans.span_key = period_overlaps.span_key
    group by spans.span_key
{%- endmacro %}

{#
    The instant a span of business time ends: from start_col, target_col business seconds later in the brand's
    business hours (the same wall-clock rule as business_seconds), searched over the next 60 local days. Used as a
    table-valued expression, like business_seconds: rows (span_key, due_at).

    Searched in two passes with the same answer as one: the next 7 days first (almost every SLA falls due within
    them), then the next 60 for the spans not yet due. The running total over the first 7 days is the same in both
    searches, so a span due within them is due at the same instant. Searching 60 days for every span made 61 rows
    per span (24 s for fct_escalations at 1M posts).
#}
{% macro business_due_at(relation, key, start_col, target_col) -%}
    with spans as (
        select
            {{ key }} as span_key,
            brand,
            hours_team,
            business_open_hour,
            business_close_hour,
            business_days,
            timezone_name,
            timezone(timezone_name, {{ start_col }}) as local_start,
            {{ target_col }} as target_seconds,
            holidays
        from {{ relation }}
        where {{ start_col }} is not null and {{ target_col }} is not null
    ),

    periods as (
        {{ span_periods('spans') }}
    ),

    due_soon as (
        {{ _business_due_within('spans', 7) }}
    ),

    due_later as (
        {{ _business_due_within('spans', 60, exclude='due_soon') }}
    )

    -- a target of zero is due at once
    select span_key, timezone(timezone_name, local_start) as due_at
    from spans
    where target_seconds <= 0
    union all
    select span_key, due_at from due_soon
    union all
    select span_key, due_at from due_later
{%- endmacro %}

{% macro _business_due_within(spans, horizon_days, exclude=none) -%}
    {#- rows (span_key, due_at) of the spans with a positive target that fall due within horizon_days local days -#}
    with days as (
        select
            {{ spans }}.span_key,
            {{ spans }}.timezone_name,
            {{ spans }}.local_start,
            {{ spans }}.target_seconds,
            {{ spans }}.holidays,
            {{ day_series("date_trunc('day', local_start)",
                          "date_trunc('day', local_start) + interval '" ~ horizon_days ~ " day'") }} as local_day
        from {{ spans }}
        where target_seconds > 0
        {% if exclude %}
          and span_key not in (select span_key from {{ exclude }})
        {% endif %}
    ),

    windows as (
        select
            days.span_key,
            days.timezone_name,
            days.local_start,
            days.target_seconds,
            days.local_day,
            greatest(days.local_start, days.local_day + periods.open_minute * interval '1 minute') as window_start,
            greatest(0, {{ epoch("days.local_day + periods.close_minute * interval '1 minute'") }}
                        - {{ epoch("greatest(days.local_start, days.local_day + periods.open_minute * interval '1 minute')") }})
                as available
        from days
        inner join periods
            on days.span_key = periods.span_key
            and periods.day = extract(isodow from days.local_day)
        where not coalesce({{ list_has('days.holidays', 'cast(days.local_day as date)') }}, false)
    ),

    cumulative as (
        -- only windows with business time left in them: a period already over when the span starts has none, and
        -- would tie with the next period's start (two windows at the same instant, one empty)
        select
            *,
            sum(available) over (partition by span_key order by window_start) as through_window
        from windows
        where available > 0
    )

    -- the first window whose business time reaches the target
    select
        span_key,
        timezone(
            {{ any_value('timezone_name') }},
            {{ arg_min("window_start + (target_seconds - (through_window - available)) * interval '1 second'",
                       'window_start') }}
        ) as due_at
    from cumulative
    where through_window >= target_seconds
    group by span_key
{%- endmacro %}
