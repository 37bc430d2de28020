with latest as (
    -- one row per post: the most recent enrichment, whichever pipeline version wrote it (macros/staging.sql)
    {{ latest_post_nlp() }}
),

renamed as (
    select
        source,
        post_id,
        pipeline_version,
        industry,
        lang,
        is_english,
        text_redacted,
        pii_kinds,
        sentiment_label,
        sentiment_score,
        sentiment_confidence,
        categories,
        primary_category,
        intent,
        is_churn_threat,
        is_legal_safety,
        is_public_shaming,
        urgency,
        topics,
        enriched_at
    from latest
)

select * from renamed
