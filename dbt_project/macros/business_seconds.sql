{#
    Seconds between two UTC instants that fall inside a brand's business hours.

    Both instants are converted to the brand's local wall-clock time; each local day between them
    contributes the overlap of [start, end] with [open_hour, close_hour) on that day, if the day's ISO
    weekday is a business day and the date is not a holiday. Working on the wall clock is what makes a
    daylight-saving change right: a business day is open_hour to close_hour local time, whether the
    day has 23, 24 or 25 hours (the clock change happens at night, outside business hours).

    Used as a table-valued expression: call it in a model with a relation holding the columns named.
#}
{% macro business_seconds(relation, key, start_col, end_col) -%}
    with spans as (
        select
            {{ key }} as span_key,
            timezone(timezone_name, {{ start_col }}) as local_start,
            timezone(timezone_name, {{ end_col }}) as local_end,
            business_open_hour,
            business_close_hour,
            business_days,
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

    day_overlaps as (
        select
            span_key,
            case
                when list_contains(business_days, isodow(local_day))
                    and not list_contains(coalesce(holidays, []::date[]), local_day::date)
                then greatest(
                    0,
                    epoch(least(local_end, local_day + to_hours(business_close_hour)))
                    - epoch(greatest(local_start, local_day + to_hours(business_open_hour)))
                )
                else 0
            end as seconds,
        from days
    )

    select
        span_key,
        sum(seconds)::bigint as business_seconds,
    from day_overlaps
    group by span_key
{%- endmacro %}

{#
    The instant a span of business time ends: from start_col, target_col business seconds later in the brand's
    business hours (the same wall-clock rule as business_seconds), searched over the next 60 local days. Used as a
    table-valued expression, like business_seconds: rows (span_key, due_at).
#}
{% macro business_due_at(relation, key, start_col, target_col) -%}
    with spans as (
        select
            {{ key }} as span_key,
            timezone_name,
            timezone(timezone_name, {{ start_col }}) as local_start,
            {{ target_col }} as target_seconds,
            business_open_hour,
            business_close_hour,
            business_days,
            holidays,
        from {{ relation }}
        where {{ start_col }} is not null and {{ target_col }} is not null
    ),

    days as (
        select
            spans.*,
            unnest(generate_series(
                date_trunc('day', local_start), date_trunc('day', local_start) + interval 60 day, interval 1 day
            )) as local_day,
        from spans
    ),

    windows as (
        select
            *,
            greatest(local_start, local_day + to_hours(business_open_hour)) as window_start,
            case
                when list_contains(business_days, isodow(local_day))
                    and not list_contains(coalesce(holidays, []::date[]), local_day::date)
                then greatest(0, epoch(local_day + to_hours(business_close_hour))
                                 - epoch(greatest(local_start, local_day + to_hours(business_open_hour))))
                else 0
            end as available,
        from days
    ),

    cumulative as (
        select
            *,
            sum(available) over (partition by span_key order by local_day) as through_day,
        from windows
    )

    select
        span_key,
        -- the first day whose business time reaches the target; a target of zero is due at once
        timezone(any_value(timezone_name), arg_min(
            case when target_seconds <= 0 then local_start
                 else window_start + to_seconds(target_seconds - (through_day - available)) end,
            local_day
        )) as due_at,
    from cumulative
    where through_day >= target_seconds
    group by span_key
{%- endmacro %}
