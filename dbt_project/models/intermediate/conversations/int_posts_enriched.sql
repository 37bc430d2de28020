with posts as (
    select * from {{ ref('stg_raw__posts') }}
),

nlp as (
    select * from {{ ref('stg_enriched__post_nlp') }}
),

joined as (
    select
        posts.source,
        posts.post_id,
        posts.parent_post_id,
        posts.author_id,
        posts.author_handle,
        posts.is_inbound,
        posts.brand,
        posts.created_at,
        posts.like_count,
        posts.repost_count,
        nlp.pipeline_version,
        nlp.lang,
        coalesce(nlp.is_english, true) as is_english,
        nlp.text_redacted,
        nlp.sentiment_label,
        nlp.sentiment_score,
        nlp.sentiment_confidence,
        nlp.categories,
        nlp.primary_category,
        nlp.intent,
        coalesce(nlp.is_churn_threat, false) as is_churn_threat,
        coalesce(nlp.is_legal_safety, false) as is_legal_safety,
        coalesce(nlp.is_public_shaming, false) as is_public_shaming,
        nlp.urgency,
        nlp.post_id is not null as is_enriched,
        -- when anything this row is built from last changed: drives the incremental marts' lookback
        greatest(posts.updated_at, coalesce(nlp.enriched_at, posts.updated_at)) as changed_at,
    from posts
    left join nlp
        on posts.source = nlp.source
        and posts.post_id = nlp.post_id
    where not posts.is_deleted
)

select * from joined
