{# What detractors' comments are about: per brand, month and comment category, detractors and their share of the
   month's detractors who left a categorised comment. #}
with detractors as (
    select * from {{ ref('fct_survey_responses') }}
    where nps_group = 'detractor'
),

categorised as (
    select brand, period_month, count(*) as categorised_detractors
    from detractors
    where comment_category is not null
    group by 1, 2
),

final as (
    select
        detractors.brand,
        detractors.period_month,
        detractors.comment_category,
        count(*) as detractors,
        {{ any_value('categorised.categorised_detractors') }} as categorised_detractors,
        cast(count(*) as double precision) / {{ any_value('categorised.categorised_detractors') }} as share_of_categorised_detractors
    from detractors
    inner join categorised
        on detractors.brand = categorised.brand
        and detractors.period_month = categorised.period_month
    where detractors.comment_category is not null
    group by 1, 2, 3
)

select * from final
