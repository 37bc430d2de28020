with source as (
    select * from {{ source('enriched', 'post_nlp') }}
),

latest as (
    -- one row per post: the most recent enrichment, whichever pipeline version wrote it
    select *
    from (
        select *, row_number() over (partition by source, post_id order by enriched_at desc, pipeline_version desc) as recency
        from source
    ) as ranked
    where recency = 1
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
