with source as (
    select * from {{ source('raw', 'authors') }}
),

renamed as (
    select
        source,
        author_id,
        handle,
        display_name,
        followers_count,
        following_count,
        is_verified,
        updated_at
    from source
)

select * from renamed
