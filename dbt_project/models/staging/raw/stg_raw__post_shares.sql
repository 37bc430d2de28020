with source as (
    select * from {{ source('raw', 'post_shares') }}
),

renamed as (
    select
        source,
        post_id,
        author_id as sharer_author_id,
        kind as share_kind,
        shared_at,
        loaded_at
    from source
)

select * from renamed
