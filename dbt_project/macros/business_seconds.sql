{#
    Seconds between two UTC instants that fall inside a brand's business hours.

    Both instants are converted to the brand's local wall-clock time; each local day between them
    contributes the overlap of [start, end] with each of that day's business periods (business_periods: from the
    seed business_schedules, or [open_hour, close_hour) on each business day), unless the date is a holiday. Working on the wall clock is what makes a
    daylight-saving change right: a business day is open_hour to close_hour local time, whether the
    day has 23, 24 or 25 hours (the clock change happens at night, outside business hours).

    Used as a table-valued expression: call it in a model with a relation holding the columns named.
#}
{% macro business_periods() -%}
    {#- a relation's business periods: its business_periods where given (seed business_schedules), else one period
        a business day from business_open_hour to business_close_hour -#}
    coalesce(business_periods, [
        {'day': d, 'open_minute': business_open_hour * 60, 'close_minute': business_close_hour * 60}
        for d in business_days
    ])
{%- endmacro %}

{% macro business_seconds(relation, key, start_col, end_col) -%}
    with spans as (
        select
            {{ key }} as span_key,
            timezone(timezone_name, {{ start_col }}) as local_start,
            timezone(timezone_name, {{ end_col }}) as local_end,
            {{ business_periods() }} as periods,
            holidays,
        from {{ relation }}
        where {{ start_col }} is not null
          and {{ end_col }} is not null
          and {{ end_col }} >= {{ start_col }}
    ),

    days as (
        select
            spans.*,
            unnest(generate_series(
                date_trunc('day', local_start), date_trunc('day', local_end), interval 1 day
            )) as local_day,
        from spans
    ),

    day_periods as (
        -- each day's periods (several a day, e.g. around a lunch break), none on a holiday
        select
            span_key,
            local_start,
            local_end,
            local_day,
            unnest(list_filter(periods, lambda p: p.day = isodow(local_day))) as period,
        from days
        where not list_contains(coalesce(holidays, []::date[]), local_day::date)
    ),

    period_overlaps as (
        select
            span_key,
            greatest(
                0,
                epoch(least(local_end, local_day + to_minutes(period.close_minute)))
                - epoch(greatest(local_start, local_day + to_minutes(period.open_minute)))
            ) as seconds,
        from day_periods
    )

    select
        spans.span_key,
        coalesce(sum(period_overlaps.seconds), 0)::bigint as business_seconds,
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
            timezone_name,
            timezone(timezone_name, {{ start_col }}) as local_start,
            {{ target_col }} as target_seconds,
            {{ business_periods() }} as periods,
            holidays,
        from {{ relation }}
        where {{ start_col }} is not null and {{ target_col }} is not null
    ),

    due_soon as (
        {{ _business_due_within('spans', 7) }}
    ),

    due_later as (
        {{ _business_due_within('spans', 60, exclude='due_soon') }}
    )

    -- a target of zero is due at once
    select span_key, timezone(timezone_name, local_start) as due_at,
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
            {{ spans }}.*,
            unnest(generate_series(
                date_trunc('day', local_start), date_trunc('day', local_start) + interval {{ horizon_days }} day,
                interval 1 day
            )) as local_day,
        from {{ spans }}
        where target_seconds > 0
        {% if exclude %}
          and span_key not in (select span_key from {{ exclude }})
        {% endif %}
    ),

    windows as (
        select
            span_key,
            timezone_name,
            local_start,
            target_seconds,
            local_day,
            greatest(local_start, local_day + to_minutes(period.open_minute)) as window_start,
            greatest(0, epoch(local_day + to_minutes(period.close_minute))
                        - epoch(greatest(local_start, local_day + to_minutes(period.open_minute)))) as available,
        from (
            select *, unnest(list_filter(periods, lambda p: p.day = isodow(local_day))) as period,
            from days
            where not list_contains(coalesce(holidays, []::date[]), local_day::date)
        )
    ),

    cumulative as (
        -- only windows with business time left in them: a period already over when the span starts has none, and
        -- would tie with the next period's start (two windows at the same instant, one empty)
        select
            *,
            sum(available) over (partition by span_key order by window_start) as through_window,
        from windows
        where available > 0
    )

    -- the first window whose business time reaches the target
    select
        span_key,
        timezone(any_value(timezone_name), arg_min(
            window_start + to_seconds(target_seconds - (through_window - available)), window_start
        )) as due_at,
    from cumulative
    where through_window >= target_seconds
    group by span_key
{%- endmacro %}
