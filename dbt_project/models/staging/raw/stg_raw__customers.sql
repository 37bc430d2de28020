with source as (
    select * from {{ source('raw', 'customers') }}
),

renamed as (
    select
        source,
        customer_id,
        social_handle,
        name as customer_name,
        created_at as customer_created_at,
        email_hash,  -- socialcx.core.pii.email_hash: matches survey respondents; never published
        updated_at
    from source
)

select * from renamed
