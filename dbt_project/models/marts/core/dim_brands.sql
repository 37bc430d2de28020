with brands as (
    select * from {{ ref('int_brands_resolved') }}
),

final as (
    select
        brand,
        brand_name,
        industry,
        competitors,
        timezone_name,
        business_open_hour,
        business_close_hour,
        business_days,
        holidays,
        sla_minutes,
        is_configured,
        hours_source
    from brands
)

select * from final
