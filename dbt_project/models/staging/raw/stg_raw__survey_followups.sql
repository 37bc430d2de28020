with source as (
    select * from {{ source('raw', 'survey_followups') }}
),

renamed as (
    -- the free-text note stays in raw: the marts need when and who, not what was said
    select
        source,
        response_id,
        contacted_at,
        closed_at,
        team,
        updated_at
    from source
)

select * from renamed
