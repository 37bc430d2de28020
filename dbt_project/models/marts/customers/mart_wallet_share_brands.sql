with wallet as (
    select * from {{ ref('mart_wallet_share') }}
),

final as (
    select
        brand,
        activity_month,
        {{ any_value('category') }} as category,
        count(*) as customers,
        avg(observed_share) as avg_observed_share,
        avg(war_predicted_share) as avg_war_predicted_share,
        avg(satisfaction_rank) as avg_satisfaction_rank,
        sum(brand_spend) as brand_spend
    from wallet
    group by brand, activity_month
)

select * from final
