with responses as (
    select * from {{ ref('fct_survey_responses') }}
),

final as (
    select
        brand,
        period_month,
        touchpoint,
        {{ nps_counts() }}
    from responses
    group by brand, period_month, touchpoint
)

select * from final
