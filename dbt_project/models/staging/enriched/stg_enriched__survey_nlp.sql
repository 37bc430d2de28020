with latest as (
    -- one row per answer: the most recent enrichment, whichever pipeline version wrote it (macros/staging.sql)
    {{ latest_nlp('survey_nlp', 'response_id') }}
),

renamed as (
    select
        source,
        response_id,
        pipeline_version,
        lang,
        comment_redacted,
        sentiment_label as comment_sentiment,
        categories as comment_categories,
        primary_category as comment_category,
        enriched_at
    from latest
)

select * from renamed
