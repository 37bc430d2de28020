{# The closed loop per brand, team and week of the detractor's answer: contact within target, time to contact
   and to close, the open detractors by age (as of the data's now), and conversions. #}
with loops as (
    select * from {{ ref('fct_detractor_loops') }}
),

final as (
    select
        brand,
        team,
        response_week,
        count(*) as detractors,
        count(*) filter (where first_contact_at is not null) as contacted_count,
        count(*) filter (where is_contacted_within_sla) as contacted_within_target_count,
        cast(count(*) filter (where is_contacted_within_sla) as double precision) / count(*) as contacted_within_target_rate,
        {{ median('hours_to_contact') }} as median_hours_to_contact,
        {{ median('hours_to_close') }} as median_hours_to_close,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where not is_closed) as open_count,
        count(*) filter (where open_age_bucket = 'under 48h') as open_under_48h,
        count(*) filter (where open_age_bucket = '2 to 7 days') as open_2_to_7_days,
        count(*) filter (where open_age_bucket = '7 to 30 days') as open_7_to_30_days,
        count(*) filter (where open_age_bucket = 'over 30 days') as open_over_30_days,
        count(*) filter (where is_resurveyed) as resurveyed_count,
        count(*) filter (where is_converted) as converted_count,
        cast(count(*) filter (where is_converted) as double precision) / nullif(count(*) filter (where is_resurveyed), 0) as conversion_rate
    from loops
    group by brand, team, response_week
)

select * from final
