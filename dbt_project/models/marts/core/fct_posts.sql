with posts as (
    select * from {{ ref('int_posts_enriched') }}
),

threaded as (
    select source, post_id, conversation_id, reply_depth
    from {{ ref('int_posts_threaded') }}
),

final as (
    select
        posts.source || ':' || posts.post_id as post_key,
        posts.source,
        posts.post_id,
        threaded.conversation_id,
        threaded.reply_depth,
        posts.parent_post_id,
        posts.author_id,
        posts.is_inbound,
        posts.brand,
        posts.created_at,
        posts.created_at::date as created_date,
        posts.text_redacted,
        posts.lang,
        posts.is_english,
        posts.sentiment_label,
        posts.sentiment_score,
        posts.sentiment_confidence,
        posts.categories,
        posts.primary_category,
        posts.intent,
        posts.urgency,
        posts.is_churn_threat,
        posts.is_legal_safety,
        posts.is_public_shaming,
        posts.like_count,
        posts.repost_count,
        posts.pipeline_version,
        posts.is_enriched,
    from posts
    left join threaded
        on posts.source = threaded.source
        and posts.post_id = threaded.post_id
)

select * from final
