with conversations as (
    select * from {{ ref('fct_conversations') }}
    where is_negative_start
),

final as (
    select
        brand,
        date_trunc('month', first_inbound_date)::date as activity_month,
        primary_category as category,
        response_speed_bucket,
        count(*) as negative_start_count,
        count(*) filter (where is_recovered) as recovered_count,
        count(*) filter (where is_neutralized) as neutralized_count,
        cast(count(*) filter (where is_recovered) as double precision) / count(*) as recovery_rate
    from conversations
    group by 1, 2, 3, 4
)

select * from final
