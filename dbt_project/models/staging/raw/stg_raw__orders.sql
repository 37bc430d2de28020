with source as (
    select * from {{ source('raw', 'orders') }}
),

renamed as (
    select
        source,
        order_id,
        customer_id,
        brand,
        industry,
        ordered_at,
        cast(amount as double precision) as amount,
        currency,
        updated_at
    from source
)

select * from renamed
