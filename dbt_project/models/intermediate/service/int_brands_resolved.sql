{#
    Every brand that appears in the data, with its service configuration. Brands missing from raw.brands
    (for example the support accounts of a twcs file) get the project's default hours and SLA (dbt vars).
#}
with configured as (
    select * from {{ ref('stg_raw__brands') }}
),

seen as (
    select distinct brand
    from {{ ref('stg_raw__posts') }}
    where brand is not null
),

unconfigured as (
    select
        seen.brand,
        seen.brand as brand_name,
        'generic' as industry,
        []::varchar[] as competitors,
        '{{ var("default_timezone") }}' as timezone_name,
        {{ var("default_business_open_hour") }} as business_open_hour,
        {{ var("default_business_close_hour") }} as business_close_hour,
        {{ var("default_business_days") }}::integer[] as business_days,
        []::date[] as holidays,
        {{ var("default_sla_minutes") }} as sla_minutes,
        false as is_configured,
    from seen
    anti join configured
        on seen.brand = configured.brand
),

final as (
    select
        *,
        true as is_configured,
    from configured

    union all by name

    select * from unconfigured
)

select * from final
