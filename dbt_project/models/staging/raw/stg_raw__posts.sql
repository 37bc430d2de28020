with source as (
    select * from {{ source('raw', 'posts') }}
),

renamed as (
    select
        source,
        post_id,
        parent_post_id,
        conversation_id as source_conversation_id,
        author_id,
        author_handle,
        brands_mentioned,
        is_inbound,
        created_at,
        text,
        lang as source_lang,
        like_count,
        reply_count,
        repost_count,
        is_deleted,
        updated_at,
        ingested_at,
        case when is_inbound then brands_mentioned[1] else author_id end as brand,
    from source
)

select * from renamed
