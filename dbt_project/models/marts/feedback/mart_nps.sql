with responses as (
    select * from {{ ref('fct_survey_responses') }}
),

final as (
    select
        brand,
        period_month,
        {{ nps_counts() }}
    from responses
    group by brand, period_month
)

select * from final
