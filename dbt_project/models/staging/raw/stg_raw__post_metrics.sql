with source as (
    select * from {{ source('raw', 'post_metrics') }}
),

renamed as (
    select
        source,
        post_id,
        observed_at,
        like_count,
        repost_count,
        reply_count,
        quote_count,
        -- engagement: what others did to spread or endorse the post. Replies are left out: a thread's replies
        -- include the brand's own, and they are conversations' posts already.
        coalesce(like_count, 0) + coalesce(repost_count, 0) + coalesce(quote_count, 0) as engagement_count,
        loaded_at
    from source
)

select * from renamed
