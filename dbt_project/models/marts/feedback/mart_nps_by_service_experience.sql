{# NPS of respondents by how the brand treated them on social media in the nps_social_window_days before. #}
with responses as (
    select * from {{ ref('fct_survey_responses') }}
),

final as (
    select
        brand,
        period_month,
        social_experience,
        {{ nps_counts() }}
    from responses
    group by brand, period_month, social_experience
)

select * from final
