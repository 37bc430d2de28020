with source as (
    select * from {{ source('raw', 'posts_with_brand') }}
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
        lang as source_lang,
        like_count,
        reply_count,
        repost_count,
        is_deleted,
        updated_at,
        ingested_at,
        brand  -- the attribution rule: raw.posts_with_brand (socialcx/core/ddl.py)
    from source
)

select * from renamed
