{#
    First response times per brand and ISO week (Monday) of the conversation's first customer post, over answered
    actionable conversations: the report's response-time charts read these as they are. Medians and percentiles
    do not add up, so they are computed per brand and week here rather than re-aggregated from daily rows.
#}
with conversations as (
    select * from {{ ref('fct_conversations') }}
    where is_actionable and is_responded
),

final as (
    select
        brand,
        date_trunc('week', first_inbound_date)::date as week_start_date,
        count(*) as answered_count,
        {{ median('first_response_seconds') }} / 60 as median_first_response_minutes,
        {{ percentile_cont('first_response_seconds', '0.9') }} / 60 as p90_first_response_minutes,
        {{ median('first_response_business_seconds') }} / 60 as median_first_response_business_minutes,
        {{ percentile_cont('first_response_business_seconds', '0.9') }} / 60 as p90_first_response_business_minutes,
        {{ any_value('business_hours_source') }} as business_hours_source
    from conversations
    group by 1, 2
)

select * from final
