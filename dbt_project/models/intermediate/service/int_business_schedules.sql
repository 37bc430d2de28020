{#
    The periods of seed business_schedules, one row per brand, team (null: the brand's own hours) and period:
    its ISO weekday and its open and close minute of that local day. A period past midnight is split into its part
    before midnight and its part on the next day. The business_seconds and business_due_at macros join these rows.
#}
with periods as (
    select
        brand,
        nullif(trim(team), '') as team,
        day_of_week,
        60 * cast(split_part(open_time, ':', 1) as integer) + cast(split_part(open_time, ':', 2) as integer)
            as open_minute,
        60 * cast(split_part(close_time, ':', 1) as integer) + cast(split_part(close_time, ':', 2) as integer)
            as close_minute
    from {{ ref('business_schedules') }}
),

split as (
    select brand, team, day_of_week as day, open_minute,
           case when close_minute <= open_minute then 1440 else close_minute end as close_minute
    from periods
    union all
    -- the part after midnight, on the next weekday
    select brand, team, day_of_week % 7 + 1, 0, close_minute
    from periods
    where close_minute <= open_minute and close_minute > 0
),

final as (
    select
        brand,
        team,
        cast(day as integer) as day,
        open_minute,
        close_minute
    from split
)

select * from final
