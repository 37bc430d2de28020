with source as (
    select * from {{ source('raw', 'survey_responses') }}
),

renamed as (
    select
        source,
        response_id,
        brand,
        respondent_id,
        social_handle,
        email_hash,
        score,
        responded_at,
        touchpoint,
        ingested_at
    from source
)

select * from renamed
