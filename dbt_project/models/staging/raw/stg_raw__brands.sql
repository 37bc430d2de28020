with source as (
    select * from {{ source('raw', 'brands') }}
),

renamed as (
    select
        handle as brand,
        name as brand_name,
        industry,
        competitors,
        timezone as timezone_name,
        business_open_hour,
        business_close_hour,
        business_days,
        holidays,
        sla_minutes
    from source
)

select * from renamed
