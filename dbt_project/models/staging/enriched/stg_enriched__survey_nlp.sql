with source as (
    select * from {{ source('enriched', 'survey_nlp') }}
),

latest as (
    -- one row per answer: the most recent enrichment, whichever pipeline version wrote it
    select *
    from (
        select *, row_number() over (partition by source, response_id order by enriched_at desc, pipeline_version desc) as recency
        from source
    ) as ranked
    where recency = 1
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
