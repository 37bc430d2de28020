{#
    The headline figures per brand over all the data, as `socialcx summary` and the report's header show them:
    defined here once, read as they are (no formula in Python or JavaScript).
#}
with conversations as (
    select * from {{ ref('fct_conversations') }}
),

as_of as (
    select * from {{ ref('int_as_of') }}
),

final as (
    select
        brand,
        count(*) as conversation_count,
        count(*) filter (where is_actionable) as actionable_count,
        cast(count(*) filter (where is_actionable and is_responded) as double precision) / nullif(count(*) filter (where is_actionable), 0)
            as response_rate,
        {{ median('first_response_seconds') }} filter (where is_actionable) / 60 as median_first_response_minutes,
        {{ median('first_response_business_seconds') }} filter (where is_actionable) / 60
            as median_first_response_business_minutes,
        cast(count(*) filter (where is_actionable and not is_sla_breached) as double precision) / nullif(count(*) filter (where is_actionable), 0)
            as within_sla_rate,
        cast(count(*) filter (where outcome = 'resolved') as double precision) / nullif(count(*) filter (where is_actionable), 0)
            as resolution_rate,
        cast(count(*) filter (where outcome = 'moved_to_private') as double precision) / nullif(count(*) filter (where is_actionable), 0)
            as handoff_rate,
        cast(count(*) filter (where is_recovered) as double precision) / nullif(count(*) filter (where is_negative_start), 0) as recovery_rate,
        cast(count(*) filter (where is_neutralized) as double precision) / nullif(count(*) filter (where is_negative_start), 0)
            as neutralized_rate,
        cast(count(*) filter (where is_actionable and language <> 'en') as double precision) / nullif(count(*) filter (where is_actionable), 0)
            as non_english_actionable_share,
        {{ any_value('business_hours_source') }} as business_hours_source,
        {{ any_value('as_of.as_of_at') }} as as_of_at
    from conversations
    cross join as_of
    group by brand
)

select * from final
