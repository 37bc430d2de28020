{#
    The periods of seed business_schedules, one row per brand and team (team null: the brand's own hours), as a
    list of {day, open_minute, close_minute} in local minutes of an ISO weekday. A period past midnight is split
    into its part before midnight and its part on the next day.
#}
with periods as (
    select
        brand,
        nullif(trim(team), '') as team,
        day_of_week,
        60 * cast(split_part(open_time, ':', 1) as integer) + cast(split_part(open_time, ':', 2) as integer)
            as open_minute,
        60 * cast(split_part(close_time, ':', 1) as integer) + cast(split_part(close_time, ':', 2) as integer)
            as close_minute,
    from {{ ref('business_schedules') }}
),

split as (
    select brand, team, day_of_week as day, open_minute,
           case when close_minute <= open_minute then 1440 else close_minute end as close_minute,
    from periods
    union all
    -- the part after midnight, on the next weekday
    select brand, team, day_of_week % 7 + 1, 0, close_minute,
    from periods
    where close_minute <= open_minute and close_minute > 0
),

final as (
    select
        brand,
        team,
        list({'day': day, 'open_minute': open_minute, 'close_minute': close_minute}
             order by day, open_minute) as business_periods,
    from split
    group by brand, team
)

select * from final
